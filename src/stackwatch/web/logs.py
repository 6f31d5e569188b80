"""Log pages: /logs (search with filters, and a live tail) and /trace/<id> (every record naming an instance
UUID or a request id), plus their JSON under /api/v1/logs and /api/v1/trace/<id>.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for

from stackwatch.rsyslog.trace import build_trace, event_json, trace_json
from stackwatch.timespec import parse_duration
from stackwatch.web.deps import deps

bp = Blueprint("logs", __name__)
api_bp = Blueprint("logs_api", __name__, url_prefix="/api/v1")

LEVELS = ("", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "TRACE")
MAX_LIMIT = 1000


def _query():
    """Search parameters from the request: (text, start, end, filters, limit); 400 on bad values."""
    args = request.args
    now = deps().clock()
    try:
        start = _when(args.get("since", "1h"), now)
        end = _when(args.get("until"), now)
        limit = min(int(args.get("limit", "200")), MAX_LIMIT)
        after = float(args["after"]) if args.get("after") else None
    except ValueError as exc:
        abort(400, str(exc))
    if after is not None:
        start = after
    filters = {k: args[k] for k in ("host", "service", "program", "request_id", "instance_uuid") if args.get(k)}
    if args.get("level"):
        filters["severity"] = args["level"].upper()
    return (args.get("q") or "").strip() or None, start, end, filters, limit


def _when(text: str | None, now: float) -> float | None:
    if not text:
        return None
    try:
        return now - parse_duration(text)
    except ValueError:
        return float(text)


@bp.get("/logs")
def index():
    text, start, end, filters, limit = _query()
    found = deps().event_store.search(text, start, end, filters, limit)
    args = {k: v for k, v in request.args.items() if k != "tail"}
    return render_template("logs.html", events=found, args=request.args, levels=LEVELS, limit=limit,
                           now=deps().clock(), tail=request.args.get("tail") == "1",
                           tail_url=url_for("logs.index", tail="1", **args),
                           api_url=url_for("logs_api.api_logs", **{k: v for k, v in args.items() if k != "since"}))


@bp.get("/trace")
def trace_form():
    ident = (request.args.get("id") or "").strip()
    if not ident:
        return redirect(url_for("logs.index"))
    return redirect(url_for("logs.trace", ident=ident))


@bp.get("/trace/<ident>")
def trace(ident: str):
    t = build_trace(ident, deps().event_store.trace(ident))
    return render_template("trace.html", trace=t, now=deps().clock())


@api_bp.get("/logs")
def api_logs():
    text, start, end, filters, limit = _query()
    found = deps().event_store.search(text, start, end, filters, limit)
    return jsonify(count=len(found), events=[event_json(e) for e in found])


@api_bp.get("/trace/<ident>")
def api_trace(ident: str):
    return jsonify(trace_json(build_trace(ident, deps().event_store.trace(ident))))
