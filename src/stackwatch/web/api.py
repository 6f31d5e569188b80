"""The JSON API under /api/v1: current checks, hosts with their worst state, alerts, series and ranges.

Bad parameters answer 400 with a message; unknown things 404 (JSON, by create_app's error handler).
"""

from __future__ import annotations

import math

from flask import Blueprint, abort, request

from stackwatch.alerting.model import Alert, AlertState
from stackwatch.model import worst
from stackwatch.store.interfaces import CurrentCheck, SeriesInfo
from stackwatch.web.deps import deps
from stackwatch.web.grid import is_stale
from stackwatch.web.ranges import window

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/checks")
def checks():
    d = deps()
    now = d.clock()
    intervals = {spec.name: spec.interval for spec in d.config.checks}
    current = d.store.checks.current(host=request.args.get("host"))
    return {"checks": [_check(c, now, intervals.get(c.check)) for c in current]}


@bp.get("/hosts")
def hosts():
    d = deps()
    by_host: dict[str, list[CurrentCheck]] = {}
    for c in d.store.checks.current():
        by_host.setdefault(c.host, []).append(c)
    out = []
    for h in d.config.inventory.hosts:
        states = [c.state for c in by_host.get(h.name, [])]
        state = worst(states) if states else None
        out.append({"name": h.name, "address": h.address, "roles": list(h.roles), "labels": dict(h.labels),
                    "state": None if state is None else state.name,
                    "state_code": None if state is None else int(state), "checks": len(states)})
    return {"hosts": out}


@bp.get("/alerts")
def alerts():
    d = deps()
    state = request.args.get("state")
    if state is not None and state not in {s.value for s in AlertState}:
        abort(400, f"bad state {state!r}: use one of {', '.join(s.value for s in AlertState)}")
    active, recent = d.store.alerts.active(), d.store.alerts.recent()
    if state is not None:
        active = [a for a in active if a.state.value == state]
        recent = [a for a in recent if a.state.value == state]
    return {"active": [_alert(a) for a in active], "recent": [_alert(a) for a in recent]}


@bp.get("/alerts/<fp>")
def alert(fp: str):
    d = deps()
    found = d.store.alerts.get(fp)
    if found is None:
        abort(404, f"no alert with fingerprint {fp!r}")
    history = [{"ts": ts, "from": old, "to": new, "value": _num(value)}
               for ts, old, new, value in d.store.alerts.history(fp)]
    return {"alert": _alert(found), "history": history}


@bp.get("/series")
def series():
    matchers: dict[str, str] = {}
    conflict = False
    for text in request.args.getlist("match"):
        label, sep, value = text.partition("=")
        if not sep or not label:
            abort(400, f"bad match {text!r}: use label=value")
        conflict |= matchers.setdefault(label, value) != value
    if conflict:  # host=a and host=b: no series has both
        return {"series": []}
    found = deps().store.metrics.series(name=request.args.get("name") or None, matchers=matchers or None)
    return {"series": [_series(i) for i in found]}


@bp.get("/series/<int:series_id>/range")
def series_range(series_id: int):
    d = deps()
    now = d.clock()
    args = request.args
    try:
        start, end = window(now, args.get("range"), args.get("start"), args.get("end"))
    except ValueError as exc:
        abort(400, str(exc))
    try:
        d.store.metrics.get_series(series_id)
    except KeyError:
        abort(404, f"no series with id {series_id}")
    result = d.store.metrics.query_range(series_id, start, end, now)
    return {"series": _series(result.series), "start": start, "end": end, "resolution": result.resolution,
            "step": result.step, "source": result.source,
            "points": [{"ts": p.ts, "value": _num(p.value), "min": _num(p.min), "max": _num(p.max)}
                       for p in result.points]}


def _check(c: CurrentCheck, now: float, interval: float | None) -> dict:
    return {"host": c.host, "check": c.check, "state": c.state.name, "state_code": int(c.state),
            "summary": c.summary, "timestamp": c.timestamp, "age": now - c.timestamp,
            "stale": is_stale(c.timestamp, interval, now), "since": c.since, "attempts": c.attempts,
            "perfdata": [_clean(p) for p in c.perfdata], "duration": c.duration}


def _alert(a: Alert) -> dict:
    return {"fingerprint": a.fingerprint, "rule": a.rule, "severity": a.severity, "state": a.state.value,
            "labels": dict(a.labels), "annotations": dict(a.annotations), "summary": a.summary,
            "value": _num(a.value), "active_since": a.active_since, "fired_at": a.fired_at,
            "resolved_at": a.resolved_at, "updated_at": a.updated_at}


def _series(info: SeriesInfo) -> dict:
    return {"id": info.id, "name": info.key.name, "labels": dict(info.key.labels), "kind": info.kind.value,
            "help": info.help}


def _clean(perfdatum: dict) -> dict:
    return {k: _num(v) if isinstance(v, float) else v for k, v in perfdatum.items()}


def _num(value: float | None) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    return value if value is None or math.isfinite(value) else None
