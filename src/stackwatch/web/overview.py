"""The NOC overview (/): hosts × checks coloured by state, for a wall screen; refreshes itself."""

from __future__ import annotations

from flask import Blueprint, render_template

from stackwatch.alerting.model import AlertState
from stackwatch.web.deps import deps
from stackwatch.web.grid import build_grid

bp = Blueprint("overview", __name__)


@bp.get("/")
def index():
    d = deps()
    now = d.clock()
    intervals = {spec.name: spec.interval for spec in d.config.checks}
    grid = build_grid((h.name for h in d.config.inventory.hosts), intervals, d.store.checks.current(), now)
    firing = sum(1 for a in d.store.alerts.active() if a.state is AlertState.FIRING)
    return render_template("overview.html", grid=grid, firing=firing, now=now,
                           refresh=max(1, round(d.config.web.refresh)))
