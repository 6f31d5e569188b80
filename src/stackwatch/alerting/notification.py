"""What routing hands to receivers: one notification about one alert group, for one receiver.

Pure: stdlib only. The contract between the routing side (alerting.routing, alerting.dispatch: what to send,
to whom, when) and the receivers (alerting.notify: email, webhook, PagerDuty, Slack, Alertmanager: how to
deliver). Shaped after Alertmanager's webhook payload so the webhook receiver maps it one to one.

- `event` says what this page is: "trigger" (new or repeated firing), "acknowledge" (someone acked the group:
  PagerDuty's acknowledge), "resolve" (every alert of the group resolved).
- `group_key` is stable for the group and receiver across restarts: PagerDuty's dedup_key derives from it.
- `notification_id` is unique per notification; the outbox uses it so a restart never sends one twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]

EVENTS = ("trigger", "acknowledge", "resolve")


@dataclass(frozen=True, slots=True)
class AlertSnapshot:
    """One alert as it was when the notification was made."""

    fingerprint: str
    status: str                   # "firing" | "resolved"
    labels: Labels
    annotations: Labels
    starts_at: float              # seconds since the epoch
    ends_at: float | None = None  # set when resolved
    generator_url: str = ""       # link back to the alert in stackwatch's web UI
    acknowledged_by: str = ""     # who acknowledged it ("" when not acknowledged)
    escalation_level: int = 0     # 0 = first receiver; n = escalated n times

    def label(self, name: str, default: str = "") -> str:
        return dict(self.labels).get(name, default)

    @property
    def severity(self) -> str:
        return self.label("severity", "warning")


@dataclass(frozen=True, slots=True)
class GroupNotification:
    """A page about one alert group for one receiver."""

    notification_id: str
    receiver: str
    group_key: str                       # e.g. '{}:{alertname="HostDown", role="compute"}'
    group_labels: Labels                 # the group_by labels and their values
    event: str                           # "trigger" | "acknowledge" | "resolve"
    alerts: tuple[AlertSnapshot, ...]
    created_at: float
    external_url: str = ""               # stackwatch's web UI base URL
    common_labels: Labels = field(default=())
    common_annotations: Labels = field(default=())

    def __post_init__(self) -> None:
        if self.event not in EVENTS:
            raise ValueError(f"event must be one of {EVENTS}, not {self.event!r}")

    @property
    def status(self) -> str:
        """Alertmanager's group status: "firing" while any alert of the group fires."""
        return "firing" if any(a.status == "firing" for a in self.alerts) else "resolved"

    @property
    def dedup_key(self) -> str:
        """Stable per group and receiver (PagerDuty dedup_key, at most 255 characters)."""
        return hashlib.sha256(f"{self.receiver}\x1f{self.group_key}".encode()).hexdigest()[:32]

    @property
    def severity(self) -> str:
        """The worst severity among the group's alerts (critical > error > warning > info)."""
        order = {"critical": 0, "error": 1, "warning": 2, "info": 3}
        return min((a.severity for a in self.alerts), key=lambda s: order.get(s, 4), default="warning")


def common(pairs_list: list[Labels]) -> Labels:
    """The label pairs every one of `pairs_list` shares (Alertmanager's commonLabels)."""
    if not pairs_list:
        return ()
    shared = set(pairs_list[0])
    for pairs in pairs_list[1:]:
        shared &= set(pairs)
    return tuple(sorted(shared))


class DeliveryError(Exception):
    """A receiver could not deliver. `retryable` False for errors a retry cannot fix (a 400, bad config)."""

    def __init__(self, reason: str, retryable: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
