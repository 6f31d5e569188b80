"""Queue hygiene: notification queues that nobody consumes and that grow (pure, stdlib only).

A classic way to fill a RabbitMQ: oslo.messaging declares `notifications.info` (and `.error`,
`versioned_notifications.info`, `monitor.info`...) on a service's first notification, the services keep
publishing, and nothing consumes them (no ceilometer, a stopped StackTach, a topic nobody listens to).
The queue grows until the broker hits its memory or disk alarm and blocks every publisher, RPC included.

`parse_queues` turns a management API `/api/queues` answer (RabbitMQ 3.5 to 3.10 field sets; missing
stats, `""` and `null` tolerated) into `QueueReading`s. `unconsumed_growing` compares two readings taken
`elapsed` seconds apart and flags the notification queues with messages and no consumer that grew, or
that sit at their max-length while messages keep arriving (capped: the broker drops the oldest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

# oslo.messaging's notification queues are named "<topic>.<priority>"; these are the usual topics.
DEFAULT_TOPICS = ("notifications", "versioned_notifications", "monitor")


@dataclass(frozen=True, slots=True)
class QueueReading:
    vhost: str
    name: str
    messages: int                   # ready + unacknowledged
    messages_ready: int
    messages_unacknowledged: int
    consumers: int
    published: int | None           # cumulative count of messages published into the queue
    publish_rate: float | None      # messages/s, the broker's own sample
    deliver_rate: float | None      # deliver + get, messages/s
    ack_rate: float | None
    max_length: int | None          # x-max-length argument, else the effective policy's max-length
    policy: str | None
    state: str | None
    durable: bool


@dataclass(frozen=True, slots=True)
class Finding:
    vhost: str
    name: str
    messages_before: int
    messages_after: int
    growth_per_second: float
    capped: bool
    reason: str


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _rate(stats: Mapping[str, Any], key: str) -> float | None:
    details = stats.get(f"{key}_details")
    rate = details.get("rate") if isinstance(details, Mapping) else None
    return float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else None


def _max_length(q: Mapping[str, Any]) -> int | None:
    for source in (q.get("arguments"), q.get("effective_policy_definition")):
        if isinstance(source, Mapping):               # an empty definition is [] (an Erlang empty list)
            value = source.get("x-max-length", source.get("max-length"))
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


def parse_queue(q: Mapping[str, Any]) -> QueueReading:
    stats = q.get("message_stats") if isinstance(q.get("message_stats"), Mapping) else {}
    published = stats.get("publish")
    return QueueReading(
        vhost=str(q.get("vhost", "/")), name=str(q["name"]),
        messages=_int(q.get("messages")), messages_ready=_int(q.get("messages_ready")),
        messages_unacknowledged=_int(q.get("messages_unacknowledged")), consumers=_int(q.get("consumers")),
        published=published if isinstance(published, int) else None,
        publish_rate=_rate(stats, "publish"), deliver_rate=_rate(stats, "deliver_get"), ack_rate=_rate(stats, "ack"),
        max_length=_max_length(q), policy=q.get("policy") or None, state=q.get("state") or None,
        durable=bool(q.get("durable", False)))


def parse_queues(doc: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> list[QueueReading]:
    """`/api/queues` as a list, or one page of it (`{"items": [...]}`)."""
    items = doc.get("items", []) if isinstance(doc, Mapping) else doc
    return [parse_queue(q) for q in items]


def is_notification_queue(name: str, topics: Sequence[str] = DEFAULT_TOPICS) -> bool:
    return re.match(r"(?:%s)\." % "|".join(map(re.escape, topics)), name) is not None


def unconsumed_growing(before: Sequence[QueueReading], after: Sequence[QueueReading], elapsed: float,
                       topics: Sequence[str] = DEFAULT_TOPICS) -> list[Finding]:
    """Notification queues with messages, no consumer, and growing (or full and still fed), worst first.

    A queue missing from `before` counts as having been empty then."""
    if elapsed <= 0:
        raise ValueError("elapsed must be positive")
    previous = {(q.vhost, q.name): q for q in before}
    findings = []
    for q in after:
        if q.consumers or q.messages == 0 or not is_notification_queue(q.name, topics):
            continue
        prev = previous.get((q.vhost, q.name))
        was = prev.messages if prev else 0
        growth = (q.messages - was) / elapsed
        fed = (q.published is not None and prev is not None and prev.published is not None
               and q.published > prev.published)
        capped = q.max_length is not None and q.messages >= q.max_length and fed
        if growth > 0:
            reason = f"{q.messages} messages, no consumer, +{growth:.1f}/s"
        elif capped:
            reason = f"at its max-length {q.max_length}, no consumer, still fed: the oldest are dropped"
        else:
            continue
        findings.append(Finding(q.vhost, q.name, was, q.messages, growth, capped, reason))
    return sorted(findings, key=lambda f: (-f.growth_per_second, -f.messages_after, f.vhost, f.name))
