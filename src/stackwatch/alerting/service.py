"""One evaluation tick: gather observations for every rule (latest metric values, current check states,
log pattern counts), evaluate, persist state and history, and hand the transitions to listeners
(routing and receivers plug in here later).
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable

from stackwatch.alerting.logwatch import LogWatch
from stackwatch.alerting.model import Transition
from stackwatch.alerting.rules import check_observations, evaluate, metric_observations
from stackwatch.config import AlertingConfig

log = logging.getLogger(__name__)


class AlertService:
    def __init__(self, config: AlertingConfig, store, logwatch: LogWatch | None = None,
                 listeners: Iterable[Callable[[list[Transition]], None]] = ()):
        self.config = config
        self.store = store
        self.logwatch = logwatch or LogWatch(config.rules)
        self.listeners = list(listeners)

    def evaluate_once(self, now: float) -> list[Transition]:
        all_transitions: list[Transition] = []
        current = None
        for rule in self.config.rules:
            if rule.log is not None:
                observations = self.logwatch.observations(rule, now)
            elif rule.metric is not None:
                latest = self.store.metrics.latest(rule.metric, dict(rule.matchers), since=now - self.config.staleness)
                observations = metric_observations(rule, [(info.key.labels, value) for info, _, value in latest])
            else:
                if current is None:
                    current = [(c.host, c.check, c.state, c.summary) for c in self.store.checks.current()
                               if c.timestamp >= now - self.config.staleness]
                observations = check_observations(rule, current)
            previous = self.store.alerts.by_rule(rule.name)
            alerts, transitions = evaluate(rule, observations, previous, now)
            self.store.alerts.save(alerts, transitions)
            for t in transitions:
                log.info("alert %s %s -> %s: %s", rule.name, t.previous.value, t.alert.state.value,
                         dict(t.alert.labels))
            all_transitions.extend(transitions)
        for listener in self.listeners:
            listener(all_transitions)
        return all_transitions

