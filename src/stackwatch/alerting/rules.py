"""Rule evaluation: observations in, alert state transitions out (pending -> firing -> resolved).

Every rule source (metric thresholds, check states, log patterns, absence of data; notification events and
probe results are metrics and check results) turns into `Observation`s, and one `evaluate` applies `for:`,
hysteresis (`resolve_threshold`, `keep_firing_for`) and the lifecycle to all of them.

Pure: stdlib only, `now` passed in. The service gathers observations from the stores (latest metric
values, current check states, last-seen times) and persists what this returns.
"""

from __future__ import annotations

import fnmatch
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping

from stackwatch.alerting.model import Alert, AlertState, Labels, Transition, fingerprint, make_labels
from stackwatch.model import State

if TYPE_CHECKING:
    from stackwatch.alerting.config import RuleSpec

OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
             "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True, slots=True)
class Observation:
    """One candidate alert: its labels, the value seen, and whether the rule's condition holds."""

    labels: Labels
    value: float
    active: bool
    description: str = ""


def metric_observations(rule: "RuleSpec", latest: Iterable[tuple[Labels, float]]) -> list[Observation]:
    """Compare each series' latest value with the rule's threshold."""
    compare = OPERATORS[rule.op]
    out = []
    for labels, value in latest:
        active = bool(compare(value, rule.threshold))
        desc = f"{rule.metric}{{{', '.join(f'{k}={v}' for k, v in labels)}}} = {value:g} ({rule.op} {rule.threshold:g})"
        out.append(Observation(labels, value, active, desc))
    return out


def check_observations(rule: "RuleSpec", current: Iterable[tuple]) -> list[Observation]:
    """(host, check, state, summary[, attempts]) rows: active when the state is at least as bad as the rule's
    and HARD, as Nagios: seen on `max_check_attempts` consecutive results (a SOFT state does not alert)."""
    threshold = State.parse(rule.state).severity
    hard_after = getattr(rule, "max_check_attempts", 1)
    pattern = rule.check or "*"
    out = []
    for row in current:
        host, check, state, summary = row[:4]
        attempts = row[4] if len(row) > 4 else 1
        if pattern != "*" and not fnmatch.fnmatchcase(check, pattern):
            continue
        bad = state.severity >= threshold
        hard = attempts >= hard_after
        kind = "" if not bad or hard_after <= 1 else (" HARD" if hard else f" SOFT {attempts}/{hard_after}")
        labels = make_labels([("host", host), ("check", check)])
        out.append(Observation(labels, float(int(state)), bad and hard,
                               f"{check} on {host} is {state.name}{kind}: {summary}"))
    return out


def absence_observations(rule: "RuleSpec", last_seen: Iterable[tuple[Labels, float | None]], now: float,
                         since: float) -> list[Observation]:
    """(labels, last time seen or None) per watched thing: active when silent for the rule's `absent.for`.
    A thing never seen counts from `since` (when stackwatch started watching), so a restart is no alert."""
    spec = rule.absent
    out = []
    for labels, seen in last_seen:
        last = seen if seen is not None else since
        silent = now - last
        what = ", ".join(f"{k}={v}" for k, v in labels) or spec.target
        desc = (f"no {spec.kind} data from {what} for {silent:.0f}s" if seen is not None
                else f"no {spec.kind} data from {what} since stackwatch started watching {silent:.0f}s ago")
        out.append(Observation(labels, silent, silent >= spec.for_, desc))
    return out


def evaluate(rule: "RuleSpec", observations: Iterable[Observation], previous: Mapping[str, Alert],
             now: float, host_labels: Mapping[str, Labels] | None = None) -> tuple[list[Alert], list[Transition]]:
    """New state of every alert of `rule` (`previous` keyed by fingerprint) and the transitions made.
    `host_labels` (host -> inventory labels such as role and region) are added under an observation's own.

    A label set no longer observed counts as inactive: a pending alert is dropped, a firing one resolves.
    """
    updated: list[Alert] = []
    transitions: list[Transition] = []
    seen: set[str] = set()
    tail = list(rule.labels) + [("alertname", rule.name), ("severity", rule.severity)]
    for obs in observations:
        extra: Labels = ()
        if host_labels:
            for k, v in obs.labels:
                if k == "host":
                    extra = host_labels.get(v, ())
                    break
        labels = make_labels([*extra, *obs.labels, *tail])
        fp = fingerprint(labels)
        seen.add(fp)
        prev = previous.get(fp)
        summary = rule.summary or obs.description
        annotations = make_labels([("summary", summary), ("description", obs.description)])
        alert = _step(rule, fp, labels, annotations, prev, _holds(rule, obs, prev), obs.value, now)
        if alert is not None:
            updated.append(alert)
            before = prev.state if prev else AlertState.INACTIVE
            if alert.state is not before:
                transitions.append(Transition(alert, before, now))
    for fp, prev in previous.items():
        if fp in seen or prev.rule != rule.name:
            continue
        alert = _step(rule, fp, prev.labels, prev.annotations, prev, False, prev.value, now)
        if alert is not None:
            updated.append(alert)
            if alert.state is not prev.state:
                transitions.append(Transition(alert, prev.state, now))
    return updated, transitions


def _holds(rule: "RuleSpec", obs: Observation, prev: Alert | None) -> bool:
    """The condition, with hysteresis: a firing metric alert stays active until the value passes the
    rule's `resolve_threshold` (e.g. fire above 90, resolve only below 80)."""
    if obs.active:
        return True
    resolve = getattr(rule, "resolve_threshold", None)
    if resolve is not None and prev is not None and prev.state is AlertState.FIRING and rule.metric is not None:
        return bool(OPERATORS[rule.op](obs.value, resolve))
    return False


def _step(rule: "RuleSpec", fp: str, labels: Labels, annotations: Labels, prev: Alert | None,
          active: bool, value: float | None, now: float) -> Alert | None:
    state = prev.state if prev else AlertState.INACTIVE
    if active:
        if state in (AlertState.INACTIVE, AlertState.RESOLVED):
            firing = rule.for_ <= 0
            return Alert(fp, rule.name, labels, annotations, rule.severity,
                         AlertState.FIRING if firing else AlertState.PENDING, value, now,
                         now if firing else None, None, now, now, prev.muted if prev else "")
        assert prev is not None
        if state is AlertState.PENDING and now - (prev.active_since or now) >= rule.for_:
            return prev.evolve(state=AlertState.FIRING, fired_at=now, value=value, updated_at=now,
                               annotations=annotations, last_active_at=now)
        return prev.evolve(value=value, updated_at=now, annotations=annotations, last_active_at=now)
    if state is AlertState.PENDING:
        assert prev is not None
        return prev.evolve(state=AlertState.INACTIVE, value=value, updated_at=now)
    if state is AlertState.FIRING:
        assert prev is not None
        keep = getattr(rule, "keep_firing_for", 0.0)
        if keep and now - (prev.last_active_at or prev.fired_at or now) < keep:
            return prev.evolve(value=value, updated_at=now)  # keep_firing_for: flapping does not resolve
        return prev.evolve(state=AlertState.RESOLVED, resolved_at=now, value=value, updated_at=now)
    return None
