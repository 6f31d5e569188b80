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
_PHASES = (".start", ".end", ".error")


def open_notification_store(config: Config, sqlite_store):
    """The notification archive `notifications.backend` names: the embedded store's (`sqlite_store.notifications`)
    or Elasticsearch (raises StoreUnavailable when it cannot be reached)."""
    if config.notifications.backend != "elasticsearch" or config.notifications.elasticsearch is None:
        return sqlite_store.notifications
    from stackwatch.store.elasticsearch.notifications import ElasticsearchNotificationStore

    es = config.notifications.elasticsearch
    options: dict = {}
    if es.username:
        options["basic_auth"] = (es.username, es.password or "")
    if es.ca_file:
        options["ca_certs"] = es.ca_file
    return ElasticsearchNotificationStore(list(es.hosts), es.index_prefix, **options)


@dataclass
class NotificationRuntime:
    config: Config
    ingest: NotificationIngest
    consumers: list = field(default_factory=list)
    _readings: dict = field(default_factory=dict)   # deployment -> (time, [QueueReading])
    _inventory_keys: set = field(default_factory=set)   # volume/image series written last time

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
        self.ingest.close()

    def write_trends(self, now: float, store, interval: float = 60.0) -> int:
        """Totals, operation timings of the last interval, stuck operations and the inventory (instances per
        compute node and flavor, volumes, images) into the trend store (a scheduled job)."""
        from stackwatch.stacktach.ingest import notifications_of
        from stackwatch.stacktach.lifecycle import timings
        from stackwatch.stacktach.trends import inventory_samples, operation_samples, total_samples

        stuck_after = self.config.notifications.stuck_after
        rows = store.notifications.query(start=now - stuck_after - 2 * interval, limit=1_000_000)
        # operations are made of their start/end/error notifications and the errors (lifecycle._close takes its
        # dimensions from those): only they are decoded again, not the instance.update flood around them
        notes = notifications_of(r for r in rows if r.is_error or r.name.endswith(_PHASES))
        samples = total_samples(self.ingest.totals, self.ingest.errors, now)
        samples += operation_samples(timings(notes, now, stuck_after), now - interval, now)
        samples += inventory_samples(*store.notifications.alive_instances(), now)
        samples += self.inventory_samples(store.notifications, now)
        return store.metrics.write(samples)

    def inventory_samples(self, archive, now: float) -> list:
        """Volumes and images in existence, from cinder and glance notifications (stacktach.inventory); a
        series written last time and gone now is written as 0."""
        from stackwatch.stacktach import inventory

        samples = inventory.volume_samples(inventory.volumes(archive.resource_events("cinder")).values(), now)
        samples += inventory.image_samples(inventory.images(archive.resource_events("glance")).values(), now)
        samples, self._inventory_keys = inventory.with_vanished(samples, self._inventory_keys, now)
        return samples

    def check_queues(self, now: float, metric_store) -> int:
        """Queue hygiene (a scheduled job): notification queues with messages, no consumer and growing
        -- a classic way to fill a RabbitMQ -- become `stackwatch_rabbitmq_queue_unconsumed_growing` = 1."""
        from stackwatch.model import Kind, Sample, SeriesKey
        from stackwatch.stacktach.queue_hygiene import is_notification_queue, unconsumed_growing
        from stackwatch.stacktach.rabbitmq_mgmt import ManagementClient, ManagementError

        samples = []
        for d in self.config.notifications.deployments:
            if not d.management_url:
                continue
            try:
                _, queues = ManagementClient(d.management_url, *d.management_auth).reading()
            except (ManagementError, OSError) as exc:
                log.warning("RabbitMQ management API of %s: %s", d.name, exc)
                continue
            previous = self._readings.get(d.name)
            self._readings[d.name] = (now, queues)
            growing = set()
            if previous is not None and now > previous[0]:
                growing = {(f.vhost, f.name) for f in unconsumed_growing(previous[1], queues, now - previous[0])}
            for q in queues:
                if not is_notification_queue(q.name) and q.name != d.queue:
                    continue
                labels = {"deployment": d.name, "vhost": q.vhost, "queue": q.name}
                samples.append(Sample(SeriesKey.of("stackwatch_rabbitmq_queue_messages", labels), now,
                                      float(q.messages), Kind.GAUGE, "Messages in a notification queue"))
                samples.append(Sample(SeriesKey.of("stackwatch_rabbitmq_queue_consumers", labels), now,
                                      float(q.consumers), Kind.GAUGE, "Consumers of a notification queue"))
                samples.append(Sample(SeriesKey.of("stackwatch_rabbitmq_queue_unconsumed_growing", labels), now,
                                      1.0 if (q.vhost, q.name) in growing else 0.0, Kind.GAUGE,
                                      "1 when a notification queue has messages, no consumer, and grows"))
        return metric_store.write(samples) if samples else 0

    def describe(self) -> str:
        if not self.consumers:
            return "no notification deployments configured"
        return ", ".join(f"{d.name} ({d.consumers} consumer(s) on {d.queue})"
                         for d in self.config.notifications.deployments)
