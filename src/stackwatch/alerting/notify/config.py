"""`alerting.receivers:` in config.yaml: a list of `{name, type, ...}` read into ready Receiver objects
(secrets resolved from {env}/{file} references, never inline), every problem with its dotted path.

    receivers:
      - {name: ops-mail, type: email, to: [ops@example.org], from: stackwatch@example.org,
         smarthost: "mail.example.org:587", auth_username: stackwatch, auth_password: {env: SMTP_PASSWORD}}
      - {name: hook, type: webhook, url: "https://hooks.example.org/alerts", bearer_token: {file: /etc/sw/t}}
      - {name: pager, type: pagerduty, routing_key: {env: PD_ROUTING_KEY}}
      - {name: chat, type: slack, url: {env: SLACK_WEBHOOK_URL}, channel: "#ops"}
      - {name: am, type: alertmanager, url: "http://alertmanager:9093", ends_after: 1h}

`alerting.delivery:` tunes the outbox's retries (`build_delivery`):

    delivery: {max_attempts: 12, max_age: 1d, initial_backoff: 10s, max_backoff: 10m}
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from stackwatch.alerting.notify.alertmanager import AlertmanagerReceiver
from stackwatch.alerting.notify.base import Receiver
from stackwatch.alerting.notify.http_post import HttpAuth
from stackwatch.alerting.notify.pagerduty import DEFAULT_URL, PagerDutyReceiver
from stackwatch.alerting.notify.slack import SlackReceiver
from stackwatch.alerting.notify.smtp import SmtpReceiver
from stackwatch.alerting.notify.webhook import WebhookReceiver
from stackwatch.alerting.notify.retry import RetryPolicy
from stackwatch.config_reader import Reader

_COMMON = ("name", "type", "timeout")
_HTTP_AUTH = ("bearer_token", "basic_auth", "ca_file")
KEYS: dict[str, tuple[str, ...]] = {
    "email": _COMMON + ("to", "from", "smarthost", "auth_username", "auth_password", "tls", "require_tls",
                        "ca_file", "hello", "subject_prefix"),
    "webhook": _COMMON + ("url", "max_alerts") + _HTTP_AUTH,
    "pagerduty": _COMMON + ("routing_key", "url", "client", "ca_file"),
    "slack": _COMMON + ("url", "channel", "username", "ca_file"),
    "alertmanager": _COMMON + ("url", "ends_after") + _HTTP_AUTH,
}
KINDS = tuple(KEYS)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ADDRESS = re.compile(r"^[^@\s<>,]+@[^@\s<>,]+$")


def build_receivers(r: Reader, items: Any, path: str = "alerting.receivers") -> tuple[Receiver, ...]:
    """The receivers listed in `items` (the raw `alerting.receivers` list). Problems go to `r`; a
    receiver with a problem is left out (the caller raises ConfigError when r.problems is not empty)."""
    out: list[Receiver] = []
    seen: set[str] = set()
    for i, raw in enumerate(r.list(items, path)):
        where = f"{path}[{i}]"
        if not isinstance(raw, dict):
            r.mapping(raw, where)
            continue
        m = raw
        kind = m.get("type")
        if kind not in KEYS:
            r.problem(f"{where}.type", "required" if kind is None else f"unknown receiver type {kind!r}",
                      f"one of {', '.join(KINDS)}")
            continue
        r.mapping(m, where, KEYS[kind])
        name = r.str(m, "name", where)
        if name and not _NAME.match(name):
            r.problem(f"{where}.name", f"bad receiver name {name!r}", "letters, digits, '_', '-' and '.'")
        elif name in seen:
            r.problem(f"{where}.name", f"duplicate receiver name {name!r}")
        seen.add(name)
        before = len(r.problems)
        receiver = _BUILDERS[kind](r, m, where, name, r.duration(m, "timeout", where, "10s"))
        if receiver is not None and len(r.problems) == before:
            out.append(receiver)
    return tuple(out)


def build_delivery(r: Reader, raw: Any, path: str = "alerting.delivery") -> RetryPolicy:
    """The outbox's retry policy from `alerting.delivery` (every key optional)."""
    m = r.mapping(raw, path, ("max_attempts", "max_age", "initial_backoff", "max_backoff"))
    d = RetryPolicy()
    policy = RetryPolicy(int(r.number(m, "max_attempts", path, d.max_attempts, minimum=1)),
                         r.duration(m, "max_age", path, d.max_age),
                         r.duration(m, "initial_backoff", path, d.initial_backoff),
                         r.duration(m, "max_backoff", path, d.max_backoff))
    if policy.max_backoff < policy.initial_backoff:
        r.problem(f"{path}.max_backoff", "must not be shorter than initial_backoff")
    return policy


def _email(r: Reader, m: dict, where: str, name: str, timeout: float) -> Receiver | None:
    single = isinstance(m.get("to"), str)
    to = (r.str(m, "to", where),) if single else r.str_list(m, "to", where)
    if not to:
        r.problem(f"{where}.to", "required", "one address or a list of addresses")
    for j, address in enumerate(to):
        if address and not _ADDRESS.match(address):
            r.problem(f"{where}.to" if single else f"{where}.to[{j}]", f"not an email address: {address!r}")
    sender = r.str(m, "from", where)
    if sender and not _ADDRESS.match(sender.rsplit("<", 1)[-1].rstrip(">").strip()):
        r.problem(f"{where}.from", f"not an email address: {sender!r}")
    host, port = _host_port(r, r.str(m, "smarthost", where), f"{where}.smarthost")
    tls = r.bool(m, "tls", where, False)
    username = r.str(m, "auth_username", where, None)
    password = r.secret(m, "auth_password", where, required=username is not None)
    if password is not None and username is None:
        r.problem(f"{where}.auth_username", "required with auth_password")
    return SmtpReceiver(name, host, port, sender, tuple(to), username, password, tls,
                        r.bool(m, "require_tls", where, True), r.str(m, "ca_file", where, None),
                        r.str(m, "hello", where, None), r.str(m, "subject_prefix", where, ""), timeout)


def _webhook(r: Reader, m: dict, where: str, name: str, timeout: float) -> Receiver | None:
    url = _url(r, r.str(m, "url", where), f"{where}.url")
    max_alerts = int(r.number(m, "max_alerts", where, 0, minimum=0))
    return WebhookReceiver(name, url, _auth(r, m, where), timeout, max_alerts, r.str(m, "ca_file", where, None))


def _pagerduty(r: Reader, m: dict, where: str, name: str, timeout: float) -> Receiver | None:
    key = r.secret(m, "routing_key", where) or ""
    url = _url(r, r.str(m, "url", where, DEFAULT_URL), f"{where}.url")
    return PagerDutyReceiver(name, key, url, r.str(m, "client", where, "stackwatch"), timeout,
                             r.str(m, "ca_file", where, None))


def _slack(r: Reader, m: dict, where: str, name: str, timeout: float) -> Receiver | None:
    url = r.secret(m, "url", where)      # the incoming-webhook URL is the credential
    if url is not None:
        _url(r, url, f"{where}.url", show=False)
    return SlackReceiver(name, url or "", r.str(m, "channel", where, ""), r.str(m, "username", where, ""),
                         timeout, r.str(m, "ca_file", where, None))


def _alertmanager(r: Reader, m: dict, where: str, name: str, timeout: float) -> Receiver | None:
    url = _url(r, r.str(m, "url", where), f"{where}.url")
    ends_after = r.duration(m, "ends_after", where, 0)
    return AlertmanagerReceiver(name, url, _auth(r, m, where), timeout, ends_after, r.str(m, "ca_file", where, None))


_BUILDERS = {"email": _email, "webhook": _webhook, "pagerduty": _pagerduty, "slack": _slack,
             "alertmanager": _alertmanager}


def _auth(r: Reader, m: dict, where: str) -> HttpAuth:
    token = r.secret(m, "bearer_token", where, required=False)
    if "basic_auth" not in m:
        return HttpAuth(bearer_token=token)
    if token is not None:
        r.problem(f"{where}.basic_auth", "give bearer_token or basic_auth, not both")
    b = r.mapping(m.get("basic_auth"), f"{where}.basic_auth", ("username", "password"))
    return HttpAuth(username=r.str(b, "username", f"{where}.basic_auth"),
                    password=r.secret(b, "password", f"{where}.basic_auth"))


def _url(r: Reader, url: str, where: str, show: bool = True) -> str:
    if not url:
        return url
    parsed = urlparse(url)
    shown = repr(url) if show else "the referenced URL"
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        r.problem(where, f"{shown} is not an http:// or https:// URL")
    else:
        try:
            parsed.port
        except ValueError:
            r.problem(where, f"{shown} has a bad port")
    return url


def _host_port(r: Reader, text: str, where: str) -> tuple[str, int]:
    if not text:
        return "", 0
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        r.problem(where, f"expected host:port, got {text!r}", "e.g. mail.example.org:587")
        return text, 0
    return host, int(port)
