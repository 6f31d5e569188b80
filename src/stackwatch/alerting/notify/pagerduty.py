"""PagerDuty Events API v2: trigger, acknowledge and resolve one PagerDuty alert per group, correlated
by the group's stable dedup_key (so a restart or a repeat updates the same incident).

`pagerduty_event` is pure (stdlib only); `PagerDutyReceiver.send` posts it. PagerDuty answers 202;
400 means the event is invalid (not retried), 429 and 5xx are retried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stackwatch.alerting.notification import GroupNotification
from stackwatch.alerting.notify.base import as_dict, group_title, one_line, rfc3339
from stackwatch.alerting.notify.http_post import post_json

DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = ("critical", "error", "warning", "info")
_ACTIONS = {"trigger": "trigger", "acknowledge": "acknowledge", "resolve": "resolve"}


def pagerduty_event(n: GroupNotification, routing_key: str, client: str = "stackwatch") -> dict[str, Any]:
    """The Events API v2 body for `n`. Acknowledge and resolve carry only what PagerDuty needs to find
    the alert (routing_key, dedup_key, event_action); a trigger carries the payload and links."""
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": _ACTIONS[n.event],
        "dedup_key": n.dedup_key,
    }
    if n.event != "trigger":
        return event
    common = as_dict(n.common_labels)
    first = n.alerts[0] if n.alerts else None
    summary = as_dict(n.common_annotations).get("summary") or (
        dict(first.annotations).get("summary", "") if first and len(n.alerts) == 1 else "")
    title = group_title(n)
    severity = n.severity if n.severity in SEVERITIES else "warning"
    event["payload"] = {
        "summary": one_line(f"{title}: {summary}" if summary else title, 1024),
        "source": common.get("host") or common.get("instance") or common.get("region") or client,
        "severity": severity,
        "timestamp": rfc3339(min((a.starts_at for a in n.alerts), default=n.created_at)),
        "component": common.get("service") or common.get("check") or common.get("process") or "",
        "group": common.get("role") or common.get("region") or "",
        "class": common.get("alertname") or common.get("rule") or "",
        "custom_details": {
            "firing": [_describe(a) for a in n.alerts if a.status == "firing"],
            "resolved": [_describe(a) for a in n.alerts if a.status == "resolved"],
            "num_firing": sum(1 for a in n.alerts if a.status == "firing"),
            "group_labels": as_dict(n.group_labels),
        },
    }
    event["payload"] = {k: v for k, v in event["payload"].items() if v != ""}
    event["client"] = client
    if n.external_url:
        event["client_url"] = n.external_url
    links = [{"href": a.generator_url, "text": one_line(_name(a), 200)} for a in n.alerts if a.generator_url]
    if links:
        event["links"] = links[:10]
    return event


def _name(a) -> str:
    labels = dict(a.labels)
    return " ".join(v for v in (labels.get("alertname") or labels.get("rule", ""), labels.get("host", "")) if v) \
        or a.fingerprint


def _describe(a) -> str:
    summary = dict(a.annotations).get("summary", "")
    labels = ", ".join(f"{k}={v}" for k, v in a.labels)
    return f"{labels}: {summary}" if summary else labels


@dataclass(frozen=True, slots=True)
class PagerDutyReceiver:
    name: str
    routing_key: str = field(repr=False)
    url: str = DEFAULT_URL
    client: str = "stackwatch"
    timeout: float = 10.0
    ca_file: str | None = None
    kind: str = "pagerduty"

    def send(self, n: GroupNotification) -> None:
        post_json(self.url, pagerduty_event(n, self.routing_key, self.client), self.timeout, ca_file=self.ca_file)
