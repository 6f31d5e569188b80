"""Notification capture at run time: one pika consumer per deployment (several on one queue to scale,
competing), all feeding one NotificationIngest sink into the archive. `stackwatch serve` and
`stackwatch events consume` both run a NotificationRuntime.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from stackwatch.config import Config
from stackwatch.stacktach.ingest import NotificationIngest

log = logging.getLogger(__name__)


@dataclass
class NotificationRuntime:
    config: Config
    ingest: NotificationIngest
    consumers: list = field(default_factory=list)

    @classmethod
    def build(cls, config: Config, notification_store) -> "NotificationRuntime":
        rt = cls(config, NotificationIngest(notification_store))
        if not config.notifications.deployments:
            return rt
        from stackwatch.stacktach.amqp import NotificationConsumer

        for d in config.notifications.deployments:
            for _ in range(d.consumers):
                rt.consumers.append(NotificationConsumer(
                    d.name, list(d.urls), list(d.bindings), d.queue, rt.ingest.sink, prefetch=d.prefetch,
                    batch_max=min(500, d.prefetch), queue_max_length=d.max_length, queue_ttl=d.ttl))
        return rt

    def start(self) -> None:
        for c in self.consumers:
            c.start()

    def stop(self) -> None:
        for c in self.consumers:
            try:
                c.stop()
            except Exception as exc:
                log.error("stopping the %s consumer failed: %s", c.deployment, exc)

    def describe(self) -> str:
        if not self.consumers:
            return "no notification deployments configured"
        return ", ".join(f"{d.name} ({d.consumers} consumer(s) on {d.queue})"
                         for d in self.config.notifications.deployments)
