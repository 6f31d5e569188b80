"""Trend pages: /trends lists series by metric name (filter ?q=), /trends/<id>?range=30d charts one,
saying which resolution and source answered, and /trends/logs shows the metrics from logs per service."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, abort, render_template, request
from markupsafe import Markup

from stackwatch.store.rollup import sum_by_time
from stackwatch.web import chart
from stackwatch.web.deps import deps
from stackwatch.web.formatting import unit_for
from stackwatch.web.ranges import DEFAULT_RANGE, RANGES, parse_range

bp = Blueprint("trends", __name__)


@bp.get("/trends")
def index():
    q = request.args.get("q", "").strip()
    groups = defaultdict(list)
    needle = q.lower()
    for info in deps().store.metrics.series():
        if needle in str(info.key).lower():
            groups[info.key.name].append(info)
    return render_template("trends.html", groups=dict(groups), q=q)


LOG_VIEWS = (
    ("stackwatch_api_requests_total", "API requests per hour"),
    ("stackwatch_log_errors_total", "ERROR / CRITICAL records per hour"),
)


def _requested_range() -> tuple[str, float]:
    """The page's ?range= (default 1d) and its seconds; 400 on a bad one."""
    range_ = request.args.get("range", DEFAULT_RANGE)
    try:
        return range_, parse_range(range_)
    except ValueError as exc:
        abort(400, str(exc))


@bp.get("/trends/logs")
def logs():
    """Metrics from logs, per service: API requests per hour and errors per hour (summed over hosts)."""
    d = deps()
    range_, span = _requested_range()
    now = d.clock()
    start = now - span
    sections = []
    for name, title in LOG_VIEWS:
        by_service = defaultdict(list)
        resolution = None
        for info in d.store.metrics.series(name):
            result = d.store.metrics.query_range(info.id, start, now, now)
            resolution = result
            by_service[info.key.label("service") or "unknown"].append([(p.ts, p.value * 3600) for p in result.points])
        charts = []
        for service in sorted(by_service):
            points = [(ts, v, v, v) for ts, v in sum_by_time(by_service[service])]
            svg = Markup(chart.render_svg(points, start, now, width=900, height=220,
                                          title=f"{service}: {title.lower()}", unit="/h"))
            charts.append((service, svg, len(points), points[-1][1] if points else None))
        caption = "" if resolution is None else (
            "raw samples" if resolution.step is None else f"{resolution.resolution} rollup")
        sections.append((title, charts, caption))
    return render_template("trends_logs.html", sections=sections, range_=range_, ranges=RANGES)


@bp.get("/trends/<int:series_id>")
def series(series_id: int):
    d = deps()
    range_, span = _requested_range()
    try:
        info = d.store.metrics.get_series(series_id)
    except KeyError:
        abort(404, f"No series with id {series_id}.")
    now = d.clock()
    start = now - span
    result = d.store.metrics.query_range(series_id, start, now, now)
    points = [(p.ts, p.value, p.min, p.max) for p in result.points]
    # chart.render_svg escapes every text it writes (see its docstring), so its output is markup
    svg = Markup(chart.render_svg(points, start, now, width=1200, height=420, title=str(info.key),
                                  unit=unit_for(info.key.name)))
    kind = "raw samples" if result.step is None else f"{result.resolution} rollup"
    caption = f"{kind} ({result.source}), {len(result.points)} points"
    return render_template("trend.html", info=info, result=result, svg=svg, caption=caption,
                           range_=range_, ranges=RANGES, start=start, end=now,
                           latest=result.points[-1] if result.points else None)
