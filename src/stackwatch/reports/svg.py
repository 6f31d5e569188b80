"""Printable multi-series line charts for reports: light background, one colour per series, a legend.

Pure: stdlib only (reuses the trend pages' axis arithmetic from web.chart, itself pure). Every text is escaped
here, so the template may embed the <svg> as markup; a chart is inline, so the HTML file stands alone.
"""

from __future__ import annotations

from html import escape

from stackwatch.web.chart import NO_DATA, format_value, time_ticks, value_ticks

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_L, _R, _T, _B = 72, 16, 36, 64
_FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'


def chart_svg(series, start: float, end: float, title: str = "", unit: str = "", width: int = 900,
              height: int = 300) -> str:
    """series: [(label, [(ts, value)])] over [start, end]."""
    series = [(str(label), sorted(pts)) for label, pts in series if pts][: len(COLOURS)]
    if end <= start:
        end = start + 1.0
    pw, ph = width - _L - _R, height - _T - _B
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="{escape(title or "chart")}">',
           f"<title>{escape(title)}</title>",
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="{_L}" y="22" font-size="15" font-weight="bold" fill="#222" {_FONT}>{escape(title)}</text>']

    def x(ts: float) -> float:
        return _L + (ts - start) / (end - start) * pw

    for ts, label in time_ticks(start, end, max(2, pw // 110)):
        out.append(f'<line x1="{x(ts):.1f}" y1="{_T}" x2="{x(ts):.1f}" y2="{_T + ph}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{x(ts):.1f}" y="{_T + ph + 16}" font-size="11" text-anchor="middle" fill="#555" '
                   f'{_FONT}>{escape(label)}</text>')
    out.append(f'<rect x="{_L}" y="{_T}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    if not series:
        out.append(f'<text x="{_L + pw / 2:.1f}" y="{_T + ph / 2:.1f}" font-size="15" text-anchor="middle" '
                   f'fill="#555" {_FONT}>{escape(NO_DATA)}</text></svg>')
        return "".join(out)
    values = [v for _, pts in series for _, v in pts]
    ticks, step = value_ticks(min(values), max(values))
    y0, y1 = ticks[0], ticks[-1]

    def y(v: float) -> float:
        return _T + (y1 - v) / ((y1 - y0) or 1.0) * ph

    for v in ticks:
        out.append(f'<line x1="{_L}" y1="{y(v):.1f}" x2="{_L + pw}" y2="{y(v):.1f}" stroke="#eeeeee"/>')
        out.append(f'<text x="{_L - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end" fill="#555" '
                   f'{_FONT}>{escape(format_value(v, step, max(abs(y0), abs(y1)), unit))}</text>')
    for i, (label, pts) in enumerate(series):
        colour = COLOURS[i]
        if len(pts) == 1:
            out.append(f'<circle cx="{x(pts[0][0]):.1f}" cy="{y(pts[0][1]):.1f}" r="3" fill="{colour}"/>')
        else:
            d = "M" + " L".join(f"{x(t):.1f},{y(v):.1f}" for t, v in pts)
            out.append(f'<path class="line" d="{d}" fill="none" stroke="{colour}" stroke-width="2"/>')
        lx = _L + (i % 4) * (pw / 4)
        ly = height - 26 + (i // 4) * 14
        out.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14:.1f}" y="{ly}" font-size="11" fill="#222" {_FONT}>{escape(label[:40])}</text>')
    out.append("</svg>")
    return "".join(out)
