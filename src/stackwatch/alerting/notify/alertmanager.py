"""Pushing alerts to an existing Alertmanager: POST /api/v2/alerts with the group's alerts as
postable alerts (labels, annotations, startsAt, endsAt, generatorURL).

`postable_alerts` is pure (stdlib only); `AlertmanagerReceiver.send` posts it. Alertmanager resolves a
firing alert without an endsAt after its `resolve_timeout` (5m by default); set `ends_after` (e.g.
the route's repeat_interval plus a margin) to give firing alerts an explicit endsAt instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stackwatch.alerting.notification import GroupNotification
from stackwatch.alerting.notify.base import as_dict, rfc3339
from stackwatch.alerting.notify.http_post import HttpAuth, post_json


def postable_alerts(n: GroupNotification, ends_after: float = 0.0) -> list[dict[str, Any]]:
    """The alerts of `n` in Alertmanager's PostableAlert shape. Empty label values are left out, as
    Prometheus does (an empty label is an absent label)."""
    out = []
    for a in n.alerts:
        alert: dict[str, Any] = {
            "labels": {k: v for k, v in as_dict(a.labels).items() if v != ""},
            "annotations": as_dict(a.annotations),
            "startsAt": rfc3339(a.starts_at),
        }
        if a.status == "resolved":
            alert["endsAt"] = rfc3339(a.ends_at or n.created_at)
        elif ends_after > 0:
            alert["endsAt"] = rfc3339(n.created_at + ends_after)
        if a.generator_url:
            alert["generatorURL"] = a.generator_url
        out.append(alert)
    return out


@dataclass(frozen=True, slots=True)
class AlertmanagerReceiver:
    name: str
    url: str                      # Alertmanager's base URL, e.g. http://alertmanager:9093
    auth: HttpAuth = HttpAuth()
    timeout: float = 10.0
    ends_after: float = 0.0
    ca_file: str | None = None
    kind: str = "alertmanager"

    @property
    def endpoint(self) -> str:
        return self.url.rstrip("/") + "/api/v2/alerts"

    def send(self, n: GroupNotification) -> None:
        post_json(self.endpoint, postable_alerts(n, self.ends_after), self.timeout, self.auth, self.ca_file)
