"""Server-side SVG line charts for the trend pages: one series, its min/max band, time and value axes.

Pure: stdlib only (no Flask, no clock). `render_svg` returns a complete, well-formed <svg> element in
which every piece of text has been escaped here, so the web layer may embed it as markup. Colours are
presentation attributes rather than CSS, so a Content-Security-Policy without inline styles still
applies. Times are shown in UTC.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from html import escape
from statistics import median
from typing import Iterable, Sequence

GAP_FACTOR = 2.5  # a spacing this many times the typical one breaks the line
NO_DATA = "no data in this range"

_LEFT, _RIGHT, _TOP, _BOTTOM = 84, 24, 40, 44
_BG, _GRID, _AXIS, _TEXT = "#10161d", "#26313c", "#8b98a5", "#e6edf3"
_LINE, _BAND = "#4cc2ff", "#4cc2ff"
_FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'

_TIME_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
               86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400, 56 * 86400, 91 * 86400, 182 * 86400,
               364 * 86400)
_SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))

PointT = tuple[float, float, float, float]  # (ts, value, min, max)


def render_svg(points: Iterable[Sequence[float]], start: float, end: float, width: int = 960,
               height: int = 320, title: str = "", unit: str = "") -> str:
    """An SVG chart of `points` [(ts, value, min, max)] over [start, end] (widened to fit the points)."""
    pts = _clean(points)
    if pts:
        start, end = min(start, pts[0][0]), max(end, pts[-1][0])
    if end <= start:
        end = start + 1.0
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM

    def x(ts: float) -> float:
        return _LEFT + (ts - start) / (end - start) * plot_w

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="{_esc(title or "chart")}">',
           f"<title>{_esc(title)}</title>",
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="{_BG}"/>',
           f'<text x="{_LEFT}" y="24" fill="{_TEXT}" font-size="16" font-weight="bold" {_FONT}>{_esc(title)}</text>']
    bottom = _TOP + plot_h
    for ts, label in time_ticks(start, end, max(2, plot_w // 110)):
        px = x(ts)
        out.append(f'<line x1="{px:.1f}" y1="{_TOP}" x2="{px:.1f}" y2="{bottom}" stroke="{_GRID}"/>')
        out.append(f'<text x="{px:.1f}" y="{bottom + 20}" fill="{_AXIS}" font-size="13" '
                   f'text-anchor="middle" {_FONT}>{_esc(label)}</text>')
    out.append(f'<text x="{width - _RIGHT}" y="{height - 6}" fill="{_AXIS}" font-size="12" '
               f'text-anchor="end" {_FONT}>UTC</text>')
    if not pts:
        out.append(f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
                   f'stroke="{_AXIS}"/>')
        out.append(f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_TOP + plot_h / 2:.1f}" fill="{_TEXT}" '
                   f'font-size="18" text-anchor="middle" {_FONT}>{_esc(NO_DATA)}</text>')
        out.append("</svg>")
        return "".join(out)

    lo = min(min(p[1], p[2]) for p in pts)
    hi = max(max(p[1], p[3]) for p in pts)
    ticks, step = value_ticks(lo, hi)
    y0, y1 = ticks[0], ticks[-1]

    def y(v: float) -> float:
        return _TOP + (y1 - v) / (y1 - y0) * plot_h

    for v in ticks:
        py = y(v)
        out.append(f'<line x1="{_LEFT}" y1="{py:.1f}" x2="{_LEFT + plot_w}" y2="{py:.1f}" stroke="{_GRID}"/>')
        out.append(f'<text x="{_LEFT - 8}" y="{py + 4:.1f}" fill="{_AXIS}" font-size="13" text-anchor="end" '
                   f'{_FONT}>{_esc(format_value(v, step, max(abs(y0), abs(y1)), unit))}</text>')
    out.append(f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="{_AXIS}"/>')
    for seg in segments(pts):
        if len(seg) > 1 and any(p[2] != p[3] for p in seg):
            ring = [(x(p[0]), y(p[3])) for p in seg] + [(x(p[0]), y(p[2])) for p in reversed(seg)]
            out.append(f'<polygon class="band" points="{_coords(ring)}" fill="{_BAND}" fill-opacity="0.3" '
                       f'stroke="none"/>')
        if len(seg) == 1:
            out.append(f'<circle class="dot" cx="{x(seg[0][0]):.1f}" cy="{y(seg[0][1]):.1f}" r="3" fill="{_LINE}"/>')
        else:
            path = "M" + " L".join(f"{x(p[0]):.1f},{y(p[1]):.1f}" for p in seg)
            out.append(f'<path class="line" d="{path}" fill="none" stroke="{_LINE}" stroke-width="2" '
                       f'stroke-linejoin="round"/>')
    out.append("</svg>")
    return "".join(out)


def segments(points: Sequence[PointT]) -> list[list[PointT]]:
    """`points` (sorted by time) split wherever the spacing exceeds GAP_FACTOR times the typical one."""
    if len(points) < 3:  # too few spacings to call one of them unusual
        return [list(points)] if points else []
    typical = median(b[0] - a[0] for a, b in zip(points, points[1:]))
    out: list[list[PointT]] = [[points[0]]]
    for prev, cur in zip(points, points[1:]):
        if typical > 0 and cur[0] - prev[0] > GAP_FACTOR * typical:
            out.append([])
        out[-1].append(cur)
    return out


def value_ticks(lo: float, hi: float, target: int = 5) -> tuple[list[float], float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi], and their step."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    ticks = [math.floor(lo / step) * step]
    while ticks[-1] < hi - step * 1e-9 or len(ticks) < 2:
        ticks.append(ticks[-1] + step)
    digits = max(0, -math.floor(math.log10(step)) + 1)
    return [round(t, digits) for t in ticks], step


def time_ticks(start: float, end: float, max_ticks: int = 8) -> list[tuple[float, str]]:
    """(ts, label) ticks at round UTC times: HH:MM within days, dates (Mar 04) across weeks and months."""
    span = end - start
    step = next((s for s in _TIME_STEPS if span / s <= max_ticks), _TIME_STEPS[-1])
    first = math.ceil(start / step) * step
    out = []
    ts = first
    while ts <= end:
        when = datetime.fromtimestamp(ts, timezone.utc)
        if step >= 86400 or (when.hour == 0 and when.minute == 0 and span > 86400):
            label = when.strftime("%b %d")
        else:
            label = when.strftime("%H:%M")
        out.append((float(ts), label))
        ts += step
    return out


def format_value(v: float, step: float, magnitude: float, unit: str = "") -> str:
    """`v` with as many decimals as the tick `step` needs; thousands and up with k/M/G/T prefixes."""
    scale, prefix = 1.0, ""
    if magnitude >= 1e4:
        scale, prefix = next((s, p) for s, p in _SI if magnitude >= s)
    scaled_step = step / scale
    decimals = max(0, -math.floor(math.log10(scaled_step))) if scaled_step > 0 else 0
    text = f"{v / scale:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    suffix = prefix + unit
    if not suffix:
        return text
    return f"{text}{suffix}" if unit == "%" and not prefix else f"{text} {suffix}"


def _clean(points: Iterable[Sequence[float]]) -> list[PointT]:
    out = []
    for p in points:
        ts, value, lo, hi = (float(p[0]), float(p[1]), float(p[2]), float(p[3]))
        if not (math.isfinite(ts) and math.isfinite(value)):
            continue  # missing values become gaps
        if not (math.isfinite(lo) and math.isfinite(hi)):
            lo = hi = value
        out.append((ts, value, min(lo, value), max(hi, value)))
    out.sort(key=lambda p: p[0])
    return out


def _coords(pairs: list[tuple[float, float]]) -> str:
    return " ".join(f"{a:.1f},{b:.1f}" for a, b in pairs)


def _esc(text: str) -> str:
    return escape(str(text), quote=True)
