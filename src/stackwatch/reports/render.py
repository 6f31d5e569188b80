"""A Report as files: one self-contained HTML page (inline CSS and SVG charts, a print stylesheet), one CSV
per table, or one JSON document.

Adapter: Jinja2 (autoescaped: tenant names, instance names and hosts came from notifications) and the file system.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from stackwatch.reports.model import Report
from stackwatch.reports.svg import chart_svg

FORMATS = ("html", "csv", "json")
_env = Environment(loader=PackageLoader("stackwatch.reports", "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def _utc(t: float, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime(fmt)


_env.filters["cell"] = _cell
_env.filters["utc"] = _utc


def render_html(report: Report) -> str:
    charts = {}
    for section in report.sections:
        for c in section.charts:
            charts[c.key] = Markup(chart_svg(c.series, report.period.start, report.period.end, c.title, c.unit))
    return _env.get_template("report.html").render(report=report, charts=charts)


def write(report: Report, fmt: str, output: Path) -> list[Path]:
    """Write the report; html/json to the file `output`, csv to the directory `output` (one file per table).
    Returns the files written."""
    if fmt == "html":
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(render_html(report), encoding="utf-8")
        return [output]
    if fmt == "json":
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report.to_json(), encoding="utf-8")
        return [output]
    if fmt == "csv":
        output.mkdir(parents=True, exist_ok=True)
        written = []
        for t in report.tables():
            path = output / f"{t.key}.csv"
            path.write_text(t.to_csv(), encoding="utf-8")
            written.append(path)
        return written
    raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def default_name(report: Report, fmt: str) -> str:
    base = f"stackwatch-{report.kind}-{report.period.label.replace('..', '_')}"
    return base if fmt == "csv" else f"{base}.{fmt}"
