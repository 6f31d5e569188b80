"""Alert pages: /alerts (active, then recently resolved) and /alerts/<fingerprint> with its history."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from stackwatch.alerting.model import AlertState
from stackwatch.web.deps import deps

bp = Blueprint("alerts", __name__)

RECENT = 50


@bp.get("/alerts")
def index():
    d = deps()
    resolved = [a for a in d.store.alerts.recent(RECENT) if a.state is AlertState.RESOLVED]
    return render_template("alerts.html", active=d.store.alerts.active(), resolved=resolved, now=d.clock())


@bp.get("/alerts/<fp>")
def alert(fp: str):
    d = deps()
    found = d.store.alerts.get(fp)
    if found is None:
        abort(404, f"No alert with fingerprint {fp!r}.")
    return render_template("alert.html", alert=found, history=d.store.alerts.history(fp), now=d.clock())
