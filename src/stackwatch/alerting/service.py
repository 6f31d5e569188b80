"""One evaluation tick: gather observations for every rule (latest metric values, current check states with
their attempts, log pattern counts, last-seen times for absence rules), evaluate, persist state and
history in one transaction, and hand the transitions to listeners (the pager routes and pages them).

The store is read once per tick, not once per rule, so ten thousand rules evaluate in well under a second.
"""

from __future__ import annotations

import fnmatch
import logging
from collections import defaultdict
from typing import Callable, Iterable, Mapping

from stackwatch.alerting.config import AlertingConfig, RuleSpec
from stackwatch.alerting.logwatch import LogWatch
from stackwatch.alerting.model import Alert, Labels, Transition, make_labels
from stackwatch.alerting.rules import (Observation, absence_observations, check_observations, evaluate,
                                       metric_observations)

log = logging.getLogger(__name__)


class AlertService:
    def __init__(self, config: AlertingConfig, store, logwatch: LogWatch | None = None,
                 listeners: Iterable[Callable[[list[Transition]], None]] = (),
                 deployments: Iterable[str] = (), host_labels: Mapping[str, Labels] | None = None):
        self.config = config
        self.store = store
        self.logwatch = logwatch or LogWatch(config.rules)
        self.listeners = list(listeners)
        self.deployments = tuple(deployments)   # notification consumers that absence rules may watch
        self.started_at: float | None = None
        # inventory labels (role, region...) added to every alert about a host, so routes, group_by,
        # inhibition (`equal: [region]`) and maintenance by role can use them
        self.host_labels = dict(host_labels or {})

    def evaluate_once(self, now: float) -> list[Transition]:
        if self.started_at is None:
            self.started_at = now
        tick = _Tick(self, now)
        previous: dict[str, dict[str, Alert]] = defaultdict(dict)
        for a in self.store.alerts.active():
            previous[a.rule][a.fingerprint] = a
        all_alerts: list[Alert] = []
        all_transitions: list[Transition] = []
        for rule in self.config.rules:
            try:
                observations = tick.observations(rule)
            except Exception:  # one broken source never stops the others
                log.exception("alert rule %s: cannot gather observations", rule.name)
                continue
            alerts, transitions = evaluate(rule, observations, previous.get(rule.name, {}), now, self.host_labels)
            all_alerts.extend(alerts)
            all_transitions.extend(transitions)
        self.store.alerts.save(all_alerts, all_transitions)
        for t in all_transitions:
            log.info("alert %s %s -> %s: %s", t.alert.rule, t.previous.value, t.alert.state.value,
                     dict(t.alert.labels))
        for listener in self.listeners:
            try:
                listener(all_transitions)
            except Exception:
                log.exception("alert listener %r failed", listener)
        return all_transitions


class _Tick:
    """What one tick reads from the stores, each at most once, indexed so each rule touches only the
    series and checks it names."""

    def __init__(self, service: AlertService, now: float):
        self.s, self.now = service, now
        self._latest: dict[str, list[tuple[Labels, float, float]]] | None = None
        self._by_label: dict[tuple[str, str], dict[str, list]] = {}
        self._checks: list | None = None
        self._checks_by_name: dict[str, list] | None = None
        self._names_for: dict[str, list[str]] = {}

    def latest(self, name: str) -> list[tuple[Labels, float, float]]:
        if self._latest is None:
            self._latest = defaultdict(list)
            for info, ts, value in self.s.store.metrics.latest():
                self._latest[info.key.name].append((info.key.labels, ts, value))
        return self._latest.get(name, [])

    def series(self, name: str, matchers: tuple[tuple[str, str], ...]) -> list[tuple[Labels, float, float]]:
        """The latest points of `name` whose labels equal `matchers`, found through a per-label index."""
        rows = self.latest(name)
        if not matchers:
            return rows
        key, value = matchers[0]
        index = self._by_label.get((name, key))
        if index is None:
            index = self._by_label[(name, key)] = defaultdict(list)
            for row in rows:
                index[dict(row[0]).get(key, "")].append(row)
        return [row for row in index.get(value, ()) if _has(row[0], matchers[1:])]

    def checks(self) -> list:
        if self._checks is None:
            self._checks = current_check_states(self.s.store)
        return self._checks

    def check_rows(self, pattern: str, matchers: tuple[tuple[str, str], ...]) -> list:
        """(host, check, state, summary, attempts) of the fresh results of checks named like `pattern`
        (and on the host of a `host` matcher: an index lookup, not a scan)."""
        if self._checks_by_name is None:
            self._checks_by_name = defaultdict(list)
            self._checks_by_host: dict[tuple[str, str], list] = defaultdict(list)
            cutoff = self.now - self.s.config.staleness
            for row in self.checks():
                if row[5] >= cutoff:
                    self._checks_by_name[row[1]].append(row)
                    self._checks_by_host[(row[1], row[0])].append(row)
        names = self._names_for.get(pattern)
        if names is None:
            if any(ch in pattern for ch in "*?["):
                names = [n for n in self._checks_by_name if fnmatch.fnmatchcase(n, pattern)]
            else:
                names = [pattern]
            self._names_for[pattern] = names
        want = dict(matchers)
        host = want.pop("host", None)
        check = want.pop("check", None)
        if want:
            return []  # check results carry only host and check labels
        out = []
        for n in names:
            if check is not None and n != check:
                continue
            rows = self._checks_by_host.get((n, host), ()) if host is not None else self._checks_by_name.get(n, ())
            out.extend(row[:5] for row in rows)
        return out

    def observations(self, rule: RuleSpec) -> list[Observation]:
        now, staleness = self.now, self.s.config.staleness
        kind = rule.kind
        if kind == "log":
            return self.s.logwatch.observations(rule, now)
        if kind == "metric":
            rows = [(labels, value) for labels, ts, value in self.series(rule.metric, rule.matchers)
                    if ts >= now - staleness]
            return metric_observations(rule, rows)
        if kind == "check":
            return check_observations(rule, self.check_rows(rule.check or "*", rule.matchers))
        return absence_observations(rule, self.last_seen(rule), now, self.s.started_at or now)

    def last_seen(self, rule: RuleSpec) -> list[tuple[Labels, float | None]]:
        spec = rule.absent
        if spec.kind == "metric":
            rows = [(labels, ts) for labels, ts, _ in self.series(spec.target, rule.matchers)]
            return rows or [(make_labels(rule.matchers), None)]
        if spec.kind == "host":
            last: dict[str, float] = {}
            for host, _, _, _, _, ts in self.checks():
                if fnmatch.fnmatchcase(host, spec.target):
                    last[host] = max(last.get(host, 0.0), ts)
            return [(make_labels([("host", h)]), ts) for h, ts in sorted(last.items())]
        if spec.kind == "log":
            return [(make_labels([("host", h), ("service", svc)]), ts)
                    for (h, svc), ts in sorted(self.s.logwatch.feeds().items())
                    if fnmatch.fnmatchcase(h, spec.target) and fnmatch.fnmatchcase(svc, spec.service)]
        from stackwatch.store.sqlite.lastseen import last_notification_by_deployment

        seen = last_notification_by_deployment(self.s.store.db)
        names = sorted(set(self.s.deployments) | set(seen))
        return [(make_labels([("deployment", d)]), seen.get(d)) for d in names if fnmatch.fnmatchcase(d, spec.target)]


def current_check_states(store) -> list[tuple]:
    """(host, check, State, summary, attempts, timestamp) of every check: the SQLite store answers without
    decoding perfdata; other stores through their `checks.current()`."""
    db = getattr(store, "db", None)
    if db is not None:
        from stackwatch.store.sqlite.lastseen import current_check_states as sqlite_states

        return sqlite_states(db)
    return [(c.host, c.check, c.state, c.summary, c.attempts, c.timestamp) for c in store.checks.current()]


def host_labels_of(inventory) -> dict[str, Labels]:
    """host -> its inventory labels plus `role` (the host's roles, comma-separated)."""
    out = {}
    for h in inventory.hosts:
        pairs = list(h.labels)
        if h.roles:
            pairs.append(("role", ",".join(sorted(h.roles))))
        out[h.name] = make_labels(pairs)
    return out


def _has(labels: Labels, want: Iterable[tuple[str, str]] | Mapping) -> bool:
    if not want:
        return True
    d = dict(labels)
    return all(d.get(k) == v for k, v in want)
