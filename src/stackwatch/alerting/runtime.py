"""Alerting inside the running platform: the evaluation service, the outbox (one delivery worker per
configured receiver) and the pager, built from config and driven by one scheduled job, so each
evaluation is followed at once by its paging pass.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from stackwatch.alerting.logwatch import LogWatch
from stackwatch.alerting.outbox import Outbox
from stackwatch.alerting.pager import Pager
from stackwatch.alerting.service import AlertService, host_labels_of
from stackwatch.store.sqlite.outbox import SqliteOutboxStore

log = logging.getLogger(__name__)


@dataclass
class AlertingRuntime:
    service: AlertService
    pager: Pager
    outbox: Outbox

    @classmethod
    def build(cls, config, store, logwatch: LogWatch | None = None, registry=None,
              clock: Callable[[], float] = time.time) -> "AlertingRuntime":
        a = config.alerting
        service = AlertService(a, store, logwatch, deployments=[d.name for d in config.notifications.deployments],
                               host_labels=host_labels_of(config.inventory))
        policy = {"policy": a.delivery} if a.delivery is not None else {}
        outbox = Outbox(SqliteOutboxStore(store.db), a.receivers, clock=clock, **policy)
        pager = Pager(a, store, outbox, {h.name: h.roles for h in config.inventory.hosts})
        if registry is not None:
            registry.register(outbox)
        return cls(service, pager, outbox)

    def tick(self, now: float) -> None:
        """Evaluate every rule, then page what the new state calls for."""
        self.service.evaluate_once(now)
        self.pager.run_once(now)

    def start(self) -> None:
        self.outbox.start()

    def stop(self) -> None:
        self.outbox.stop()
