"""Generic webhook receiver: the notification as JSON in Alertmanager's webhook payload shape
(version "4"), so consumers written for Alertmanager work unchanged.

`webhook_payload` is pure (stdlib only); `WebhookReceiver.send` posts it. An "acknowledge" event has no
counterpart in Alertmanager's shape: it is sent as the group's current (firing) state, which consumers
already see on every repeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stackwatch.alerting.notification import GroupNotification
from stackwatch.alerting.notify.base import as_dict, rfc3339
from stackwatch.alerting.notify.http_post import HttpAuth, post_json


def webhook_payload(n: GroupNotification, max_alerts: int = 0) -> dict[str, Any]:
    """Alertmanager's webhook body for `n`; `max_alerts` > 0 keeps that many and counts the rest in
    truncatedAlerts, as Alertmanager's `max_alerts` does."""
    alerts = list(n.alerts)
    kept = alerts[:max_alerts] if max_alerts > 0 else alerts
    return {
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": len(alerts) - len(kept),
        "status": n.status,
        "receiver": n.receiver,
        "groupLabels": as_dict(n.group_labels),
        "commonLabels": as_dict(n.common_labels),
        "commonAnnotations": as_dict(n.common_annotations),
        "externalURL": n.external_url,
        "alerts": [
            {
                "status": a.status,
                "labels": as_dict(a.labels),
                "annotations": as_dict(a.annotations),
                "startsAt": rfc3339(a.starts_at),
                "endsAt": rfc3339(a.ends_at),
                "generatorURL": a.generator_url,
                "fingerprint": a.fingerprint,
            }
            for a in kept
        ],
    }


@dataclass(frozen=True, slots=True)
class WebhookReceiver:
    name: str
    url: str = field(repr=False)
    auth: HttpAuth = HttpAuth()
    timeout: float = 10.0
    max_alerts: int = 0
    ca_file: str | None = None
    kind: str = "webhook"

    def send(self, n: GroupNotification) -> None:
        post_json(self.url, webhook_payload(n, self.max_alerts), self.timeout, self.auth, self.ca_file)
