"""A host's page (/hosts/<name>): its checks with summary, perfdata and recent history, its active
alerts, and links to the trends of its series (those labelled host=<name>)."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, abort, render_template

from stackwatch.web.deps import deps
from stackwatch.web.grid import is_stale

bp = Blueprint("hosts", __name__)

HISTORY = 10  # results shown per check


@bp.get("/hosts/<name>")
def host(name: str):
    d = deps()
    now = d.clock()
    try:
        inventory_host = d.config.inventory.host(name)
    except KeyError:
        inventory_host = None
    checks = d.store.checks.current(host=name)
    if inventory_host is None and not checks:
        abort(404, f"No host {name!r} in the inventory or in the check results.")
    intervals = {spec.name: spec.interval for spec in d.config.checks}
    stale = {c.check: is_stale(c.timestamp, intervals.get(c.check), now) for c in checks}
    history = {c.check: d.store.checks.history(name, c.check, HISTORY) for c in checks}
    series = defaultdict(list)
    for info in d.store.metrics.series(matchers={"host": name}):
        series[info.key.name].append(info)
    alerts = [a for a in d.store.alerts.active() if a.label("host") == name]
    return render_template("host.html", name=name, host=inventory_host, checks=checks, stale=stale,
                           history=history, series=dict(series), alerts=alerts, now=now)
