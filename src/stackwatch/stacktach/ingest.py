"""The notification pipeline: AMQP deliveries are decoded and normalized, stored in one durable write
(the archive, one row per message_id; bad bodies and unknown event types raw in the dead-letter table
with their reason), and counted. `sink` is the `message.NotificationSink` the consumer calls: it returns
only after the commit, so the consumer acknowledges only what is stored, and a bad body never blocks the
queue (it is stored as a dead letter and acknowledged like any other).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter

from stackwatch.stacktach.message import AmqpMessage
from stackwatch.stacktach.names import PUBLISHER_SERVICES
from stackwatch.stacktach.notification import MalformedNotification, Notification, decode
from stackwatch.store.sqlite.notifications import DeadLetter

KNOWN_SERVICES = frozenset(PUBLISHER_SERVICES.values()) | {"swift", "placement", "ironic", "octavia", "manila",
                                                           "designate", "trove", "magnum", "barbican"}
_dumps = json.JSONEncoder(default=str, separators=(",", ":"), ensure_ascii=False).encode


def message_id_of(n: Notification, m: AmqpMessage) -> str:
    """oslo's message_id, else the AMQP property, else a digest of the body (so redeliveries still match)."""
    return n.message_id or m.message_id or "sha256:" + hashlib.sha256(m.body).hexdigest()


def notification_row(n: Notification, message_id: str, m: AmqpMessage) -> tuple:
    """A Notification in `store.sqlite.notifications.COLUMNS` order."""
    return (message_id, n.timestamp if n.timestamp is not None else m.received_at, m.deployment, n.event_type,
            n.name, n.priority or "", n.publisher_id or "", n.service, n.host or "", n.request_id,
            n.global_request_id, n.tenant_id, n.user_id, n.instance_uuid, n.state, n.old_state, n.task_state,
            1 if n.is_error else 0, _dumps(dict(n.payload)), n.raw)


def notifications_of(rows) -> list[Notification]:
    """Stored rows back into Notifications: the raw body is kept, so decoding it again is exact (a row
    that no longer decodes, which the sink would have dead-lettered, is skipped)."""
    out = []
    for r in rows:
        try:
            out.append(decode(r.raw.encode("utf-8", "backslashreplace"), exchange=r.service, cell=r.deployment))
        except MalformedNotification:
            continue
    return out


class NotificationIngest:
    def __init__(self, store, max_bytes: int = 1 << 20):
        self.store = store
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self.received = 0
        self.stored = 0
        self.duplicates = 0
        self.dead = Counter()   # reason -> count
        self.totals = Counter()  # (service, name) -> stored
        self.errors = Counter()  # (service, host, name) -> stored error notifications

    def sink(self, batch: list[AmqpMessage]) -> None:
        rows, dead, kinds = [], [], []
        for m in batch:
            try:
                n = decode(m.body, self.max_bytes, exchange=m.exchange, cell=m.deployment)
            except MalformedNotification as exc:
                dead.append(DeadLetter(m.received_at, m.deployment, m.exchange, m.routing_key, m.message_id,
                                       exc.reason, m.body))
                continue
            if n.service not in KNOWN_SERVICES:
                dead.append(DeadLetter(m.received_at, m.deployment, m.exchange, m.routing_key,
                                       message_id_of(n, m), "unknown event type", m.body))
                continue
            rows.append(notification_row(n, message_id_of(n, m), m))
            kinds.append((n.service, n.host or "", n.name, n.is_error))
        inserted = self.store.add(rows, dead)  # raises: nothing is acknowledged, the broker redelivers
        with self._lock:
            self.received += len(batch)
            self.stored += inserted
            self.duplicates += len(rows) - inserted
            for d in dead:
                self.dead[d.reason] += 1
            if inserted == len(rows):  # duplicates would count twice; totals are approximate only then
                for service, host, name, is_error in kinds:
                    self.totals[(service, name)] += 1
                    if is_error:
                        self.errors[(service, host, name)] += 1
