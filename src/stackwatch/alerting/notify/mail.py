"""The email a notification becomes: subject with status, severity and group labels; a plain-text and
an HTML part (Jinja2 templates under templates/, HTML autoescaped) listing the alerts.

Builds the message only; `smtp` sends it. Header values are flattened to one line, so no label or
annotation can add a header.
"""

from __future__ import annotations

import functools
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import jinja2

from stackwatch.alerting.notification import GroupNotification
from stackwatch.alerting.notify.base import as_dict, group_title, one_line, rfc3339, status_word


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("stackwatch.alerting.notify", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def subject(n: GroupNotification, prefix: str = "") -> str:
    """'[FIRING:2] critical alertname=HostDown role=compute' (with `prefix` first, e.g. '[stackwatch]')."""
    return one_line(f"{prefix} {group_title(n)}" if prefix else group_title(n), 250)


def context(n: GroupNotification) -> dict:
    """What the templates see: plain values only (strings, dicts, lists)."""
    alerts = [{
        "status": a.status,
        "labels": as_dict(a.labels),
        "annotations": as_dict(a.annotations),
        "summary": dict(a.annotations).get("summary", "") or a.label("alertname") or a.fingerprint,
        "starts_at": rfc3339(a.starts_at),
        "ends_at": rfc3339(a.ends_at) if a.ends_at else "",
        "generator_url": a.generator_url if a.generator_url.startswith(("http://", "https://")) else "",
        "acknowledged_by": a.acknowledged_by,
        "escalation_level": a.escalation_level,
    } for a in n.alerts]
    return {
        "title": group_title(n),
        "status": status_word(n),
        "event": n.event,
        "receiver": n.receiver,
        "severity": n.severity,
        "group_labels": as_dict(n.group_labels),
        "common_labels": as_dict(n.common_labels),
        "external_url": n.external_url,
        "firing": [a for a in alerts if a["status"] == "firing"],
        "resolved": [a for a in alerts if a["status"] == "resolved"],
        "created_at": rfc3339(n.created_at),
    }


def build_message(n: GroupNotification, sender: str, to: tuple[str, ...], subject_prefix: str = "",
                  domain: str | None = None) -> EmailMessage:
    ctx = context(n)
    msg = EmailMessage()
    msg["Subject"] = subject(n, subject_prefix)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(n.created_at, localtime=False)
    msg["Message-ID"] = make_msgid("stackwatch", domain=domain)
    # mail clients thread one group's pages together
    msg["X-Stackwatch-Group"] = n.dedup_key
    msg["X-Stackwatch-Notification"] = one_line(n.notification_id, 200)
    msg.set_content(_env().get_template("email.txt").render(ctx))
    msg.add_alternative(_env().get_template("email.html").render(ctx), subtype="html")
    return msg
