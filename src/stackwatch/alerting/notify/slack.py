"""Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat): `text` plus one attachment
coloured by status (red firing, green resolved, amber acknowledged) listing the alerts.

`slack_payload` is pure (stdlib only); `SlackReceiver.send` posts it. The webhook URL is a secret (it
is the credential), so errors never print it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from stackwatch.alerting.notification import GroupNotification
from stackwatch.alerting.notify.base import group_title, status_word
from stackwatch.alerting.notify.http_post import post_json

COLORS = {"FIRING": "#d63232", "RESOLVED": "#2eb886", "ACKNOWLEDGED": "#daa038"}
_MAX_LINES = 20


def escape(text: str) -> str:
    """Slack's control characters (&, <, >) escaped, so alert text cannot inject links or mentions."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(n: GroupNotification, channel: str = "", username: str = "") -> dict[str, Any]:
    word = status_word(n)
    title = escape(group_title(n))
    lines = []
    for a in n.alerts[:_MAX_LINES]:
        ann = dict(a.annotations)
        what = escape(ann.get("summary") or ann.get("description") or a.label("alertname") or a.fingerprint)
        where = escape(", ".join(f"{k}={v}" for k, v in a.labels if k not in ("alertname", "severity")))
        ack = f" (acknowledged by {escape(a.acknowledged_by)})" if a.acknowledged_by else ""
        link = f" <{escape(a.generator_url)}|details>" if a.generator_url else ""
        lines.append(f"• *{a.status}* {what} — {where}{ack}{link}")
    if len(n.alerts) > _MAX_LINES:
        lines.append(f"… and {len(n.alerts) - _MAX_LINES} more")
    attachment: dict[str, Any] = {
        "color": COLORS.get(word, "#439fe0"),
        "fallback": title,
        "title": title,
        "text": "\n".join(lines),
        "mrkdwn_in": ["text"],
        "footer": "stackwatch",
        "ts": int(n.created_at),
    }
    if n.external_url:
        attachment["title_link"] = n.external_url
    body: dict[str, Any] = {"text": title, "attachments": [attachment]}
    if channel:
        body["channel"] = channel
    if username:
        body["username"] = username
    return body


@dataclass(frozen=True, slots=True)
class SlackReceiver:
    name: str
    url: str = field(repr=False)
    channel: str = ""
    username: str = ""
    timeout: float = 10.0
    ca_file: str | None = None
    kind: str = "slack"

    def send(self, n: GroupNotification) -> None:
        host = urlparse(self.url).hostname or "?"
        post_json(self.url, slack_payload(n, self.channel, self.username), self.timeout, ca_file=self.ca_file,
                  shown_as=f"Slack webhook of {self.name} at {host}")
