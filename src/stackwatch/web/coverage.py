"""The coverage page (/coverage) and its JSON (/api/v1/coverage): for every inventory host and every service
its roles expect, is there a check, is its result fresh, do logs and metrics arrive; gaps first, red /
amber / green, for a NOC screen (it refreshes itself)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from stackwatch.coverage.assess import GREEN, Report
from stackwatch.coverage.service import CoverageService
from stackwatch.web.deps import deps

bp = Blueprint("coverage", __name__)

LEVEL_CLASS = {"red": "critical", "amber": "warning", "green": "ok"}
EXTENSION = "stackwatch.coverage"


def _service() -> CoverageService:
    """One service per app, so the newest log record it has seen of each host outlives a request (a host
    silent for longer than the log search window is still dated)."""
    service = current_app.extensions.get(EXTENSION)
    if service is None:
        d = deps()
        service = current_app.extensions[EXTENSION] = CoverageService(d.config, d.store, d.event_store)
    return service


def _report() -> Report:
    report = _service().report(deps().clock())
    host = request.args.get("host")
    if host:
        report = Report(report.now, tuple(h for h in report.hosts if h.host == host), report.problems)
    return report


@bp.get("/coverage")
def index():
    report = _report()
    show_all = request.args.get("all") == "1"
    rows = report.rows
    shown = rows if show_all else [r for r in rows if r.level != GREEN]
    return render_template("coverage.html", report=report, rows=shown, hidden=len(rows) - len(shown),
                           counts=report.counts(), silent=[h for h in report.hosts if h.silent],
                           gap_hosts=[h for h in report.hosts if h.level != GREEN], level_class=LEVEL_CLASS,
                           show_all=show_all, host=request.args.get("host", ""), now=report.now,
                           refresh=max(1, round(deps().config.web.refresh)))


@bp.get("/api/v1/coverage")
def api():
    return jsonify(_report().to_dict())
