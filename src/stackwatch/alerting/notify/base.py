"""The Receiver protocol and what every payload builder shares: label pairs as dicts and times as
RFC 3339 the way Alertmanager writes them.

Pure: stdlib only.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol

from stackwatch.alerting.notification import DeliveryError, GroupNotification, Labels

__all__ = ["DeliveryError", "Receiver", "ZERO_TIME", "rfc3339", "as_dict", "status_word", "group_title", "one_line"]

# Go's zero time.Time, which Alertmanager writes for an unset endsAt.
ZERO_TIME = "0001-01-01T00:00:00Z"


class Receiver(Protocol):
    """Delivers one notification or raises DeliveryError (retryable=False when a retry cannot help)."""

    name: str
    kind: str

    def send(self, n: GroupNotification) -> None: ...


def rfc3339(ts: float | None) -> str:
    """`ts` (seconds since the epoch) as RFC 3339 in UTC with milliseconds; ZERO_TIME when unset."""
    if not ts:
        return ZERO_TIME
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_dict(pairs: Labels) -> dict[str, str]:
    return {str(k): str(v) for k, v in pairs}


def status_word(n: GroupNotification) -> str:
    """What a person reads first: FIRING, RESOLVED or ACKNOWLEDGED."""
    if n.event == "acknowledge":
        return "ACKNOWLEDGED"
    return n.status.upper()


def group_title(n: GroupNotification) -> str:
    """One line naming the page: '[FIRING:2] critical alertname=HostDown role=compute'."""
    firing = sum(1 for a in n.alerts if a.status == "firing")
    word = status_word(n)
    head = f"[{word}:{firing}]" if word == "FIRING" else f"[{word}]"
    labels = " ".join(f"{k}={v}" for k, v in n.group_labels) or n.group_key
    return " ".join(part for part in (head, n.severity, labels) if part)


def one_line(text: str, limit: int = 0) -> str:
    """`text` without line breaks (safe for mail headers and summaries), cut to `limit` characters."""
    flat = " ".join(str(text).split())
    if limit and len(flat) > limit:
        flat = flat[: max(0, limit - 1)] + "…"
    return flat
