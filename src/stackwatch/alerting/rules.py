"""Rule evaluation: observations in, alert state transitions out (pending -> firing -> resolved).

Pure: stdlib only, `now` passed in. The service gathers observations from the stores (latest metric
values, current check states) and persists what this returns.
"""

from __future__ import annotations

import fnmatch
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping

from stackwatch.alerting.model import Alert, AlertState, Labels, Transition, fingerprint, make_labels
from stackwatch.model import State

if TYPE_CHECKING:
    from stackwatch.config import RuleSpec

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


def check_observations(rule: "RuleSpec", current: Iterable[tuple[str, str, State, str]]) -> list[Observation]:
    """(host, check, state, summary) rows: active when the state is at least as bad as the rule's."""
    threshold = State.parse(rule.state).severity
    out = []
    for host, check, state, summary in current:
        if not fnmatch.fnmatchcase(check, rule.check or "*"):
            continue
        labels = make_labels([("host", host), ("check", check)])
        out.append(Observation(labels, float(int(state)), state.severity >= threshold,
                               f"{check} on {host} is {state.name}: {summary}"))
    return out


def evaluate(rule: "RuleSpec", observations: Iterable[Observation], previous: Mapping[str, Alert],
             now: float) -> tuple[list[Alert], list[Transition]]:
    """New state of every alert of `rule` (`previous` keyed by fingerprint) and the transitions made.

    A label set no longer observed counts as inactive: a pending alert is dropped, a firing one resolves.
    """
    updated: list[Alert] = []
    transitions: list[Transition] = []
    seen: set[str] = set()
    for obs in observations:
        labels = make_labels(list(obs.labels) + list(rule.labels)
                             + [("alertname", rule.name), ("severity", rule.severity)])
        fp = fingerprint(labels)
        seen.add(fp)
        prev = previous.get(fp)
        summary = rule.summary or obs.description
        annotations = make_labels([("summary", summary), ("description", obs.description)])
        alert = _step(rule, fp, labels, annotations, prev, obs.active, obs.value, now)
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


def _step(rule: "RuleSpec", fp: str, labels: Labels, annotations: Labels, prev: Alert | None,
          active: bool, value: float | None, now: float) -> Alert | None:
    state = prev.state if prev else AlertState.INACTIVE
    if active:
        if state in (AlertState.INACTIVE, AlertState.RESOLVED):
            firing = rule.for_ <= 0
            return Alert(fp, rule.name, labels, annotations, rule.severity,
                         AlertState.FIRING if firing else AlertState.PENDING, value, now,
                         now if firing else None, None, now)
        assert prev is not None
        if state is AlertState.PENDING and now - (prev.active_since or now) >= rule.for_:
            return prev.evolve(state=AlertState.FIRING, fired_at=now, value=value, updated_at=now,
                               annotations=annotations)
        return prev.evolve(value=value, updated_at=now, annotations=annotations)
    if state is AlertState.PENDING:
        assert prev is not None
        return prev.evolve(state=AlertState.INACTIVE, value=value, updated_at=now)
    if state is AlertState.FIRING:
        assert prev is not None
        return prev.evolve(state=AlertState.RESOLVED, resolved_at=now, value=value, updated_at=now)
    return None
