"""How the web pages spell things: ages ("42s", "5m"), UTC timestamps, state and severity colours
(as CSS class names), perfdata, numbers and the unit a metric's name implies.

Pure: stdlib and stackwatch.model only. create_app registers these as Jinja filters.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from stackwatch.model import State

STATE_CLASS = {State.OK: "ok", State.WARNING: "warning", State.CRITICAL: "critical", State.UNKNOWN: "unknown"}
STATE_SHORT = {State.OK: "OK", State.WARNING: "WARN", State.CRITICAL: "CRIT", State.UNKNOWN: "UNKN"}
SEVERITY_CLASS = {"critical": "critical", "warning": "warning", "info": "info"}

# Prometheus naming conventions: the unit is the name's last word
_UNIT_SUFFIXES = (("_bytes", "B"), ("_seconds", "s"), ("_percent", "%"), ("_celsius", "°C"))


def format_age(seconds: float | None) -> str:
    """A short age: 42s, 5m, 3h, 2d (a result from the future, clock skew, reads 0s)."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def format_ts(ts: float | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%H:%M:%S UTC")


def state_class(state: State | int | None) -> str:
    """CSS class of a check state; "missing" when there is no result."""
    if state is None:
        return "missing"
    return STATE_CLASS.get(State(state), "unknown")


def state_short(state: State) -> str:
    """The state in at most four letters, for overview cells too narrow for the whole word."""
    return STATE_SHORT[State(state)]


def severity_class(severity: str) -> str:
    return SEVERITY_CLASS.get(severity, "info")


def format_number(value: float | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def format_perfdatum(p: dict) -> str:
    """One perfdata dict (as the check store returns it) as 'label=value uom (warn W, crit C)'."""
    text = f"{p.get('label', '')}={format_number(p.get('value'))}{p.get('uom') or ''}"
    limits = [f"{name} {p[key]}" for name, key in (("warn", "warning"), ("crit", "critical")) if p.get(key)]
    return f"{text} ({', '.join(limits)})" if limits else text


def unit_for(metric_name: str) -> str:
    for suffix, unit in _UNIT_SUFFIXES:
        if metric_name.endswith(suffix):
            return unit
    return ""


def format_labels(labels: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f'{k}="{v}"' for k, v in labels)
