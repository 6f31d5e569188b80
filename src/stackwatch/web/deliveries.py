"""Where pages stand: /alerts/deliveries lists the outbox (newest first; ?state=failed|pending|delivered,
?receiver=NAME), /alerts/deliveries/<id> shows every delivery attempt with its error, and a failed page can be
sent again (POST, login and CSRF token required) once its receiver is fixed.

Reads the outbox table through SqliteOutboxStore (the same rows the delivery workers write), so it also works
when serve's outbox is not in this process; a retry marks the page pending and serve's worker picks it up.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from stackwatch.store.sqlite.outbox import SqliteOutboxStore
from stackwatch.web.auth import current_user, login_required
from stackwatch.web.deps import deps

bp = Blueprint("deliveries", __name__)

STATES = ("pending", "delivered", "failed")


@bp.get("/alerts/deliveries")
def index():
    d = deps()
    state = request.args.get("state") or None
    if state is not None and state not in STATES:
        abort(400, f"state must be one of {', '.join(STATES)}")
    receiver = request.args.get("receiver") or None
    outbox = SqliteOutboxStore(d.store.db)
    rows = outbox.deliveries(receiver, state, 200)
    counts = {s: len(outbox.deliveries(None, s, 100000)) for s in STATES}
    return render_template("deliveries.html", rows=rows, state=state, receiver=receiver, counts=counts,
                           states=STATES, now=d.clock(), here="alerts")


@bp.get("/alerts/deliveries/<nid>")
def show(nid: str):
    d = deps()
    outbox = SqliteOutboxStore(d.store.db)
    delivery = outbox.get(nid)
    if delivery is None:
        abort(404, f"No page with id {nid!r} in the outbox.")
    return render_template("delivery.html", delivery=delivery, attempts=outbox.attempts(nid), now=d.clock(),
                           here="alerts")


@bp.post("/alerts/deliveries/<nid>/retry")
@login_required
def retry(nid: str):
    d = deps()
    outbox = SqliteOutboxStore(d.store.db)
    if outbox.get(nid) is None:
        abort(404, f"No page with id {nid!r} in the outbox.")
    if not outbox.requeue(nid, d.clock()):
        abort(409, "Only a failed page can be sent again.")
    import logging

    logging.getLogger(__name__).info("page %s queued again by %s", nid, current_user())
    return redirect(url_for("deliveries.show", nid=nid))
