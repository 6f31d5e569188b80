"""Notification pages (StackTach's views): /events (recent notifications, errors, dead letters),
/events/instance/<uuid> (lifecycle, operations and their durations, a link to the log trace) and
/events/request/<id>, plus /api/v1/events/instance/<uuid>.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, abort, jsonify, render_template

from stackwatch.stacktach.lifecycle import build_lifecycle
from stackwatch.stacktach.ingest import notifications_of
from stackwatch.web.deps import deps

bp = Blueprint("events", __name__)
api_bp = Blueprint("events_api", __name__, url_prefix="/api/v1")


def _lifecycle(uuid: str):
    d = deps()
    rows = d.store.notifications.query(instance=uuid, limit=100000)
    notes = notifications_of(rows)
    if not notes:
        abort(404, f"No notifications for instance {uuid}.")
    return rows, build_lifecycle(notes, d.clock(), d.config.notifications.stuck_after)


@bp.get("/events")
def index():
    d = deps()
    now = d.clock()
    store = d.store.notifications
    return render_template("events.html", recent=store.query(limit=100, newest_first=True),
                           errors=store.query(errors_only=True, start=now - 86400, limit=50, newest_first=True),
                           dead=store.dead_letter_counts(), total=store.count(), now=now)


@bp.get("/events/instance/<uuid>")
def instance(uuid: str):
    rows, lc = _lifecycle(uuid)
    return render_template("event_instance.html", uuid=uuid, rows=rows, lc=lc, now=deps().clock())


@bp.get("/events/request/<request_id>")
def request_view(request_id: str):
    rows = deps().store.notifications.query(request_id=request_id, limit=10000)
    return render_template("event_request.html", request_id=request_id, rows=rows)


@api_bp.get("/events/instance/<uuid>")
def api_instance(uuid: str):
    _, lc = _lifecycle(uuid)
    return jsonify(asdict(lc))
