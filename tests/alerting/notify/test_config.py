"""`alerting.receivers` read by build_receivers: every kind, secrets only by reference, and every
problem reported with its dotted path."""

from __future__ import annotations

from pathlib import Path

from stackwatch.alerting.notify.alertmanager import AlertmanagerReceiver
from stackwatch.alerting.notify.config import build_delivery, build_receivers
from stackwatch.alerting.outbox import RetryPolicy
from stackwatch.alerting.notify.pagerduty import DEFAULT_URL, PagerDutyReceiver
from stackwatch.alerting.notify.slack import SlackReceiver
from stackwatch.alerting.notify.smtp import SmtpReceiver
from stackwatch.alerting.notify.webhook import WebhookReceiver
from stackwatch.config_reader import Reader

ENV = {"SMTP_PASSWORD": "mail-pw", "PD_KEY": "k" * 32, "SLACK_URL": "https://hooks.slack.com/services/T/B/X",
       "HOOK_TOKEN": "tok"}


def read(items, environ=ENV, base_dir: Path | None = None):
    r = Reader(environ=environ, base_dir=base_dir)
    return build_receivers(r, items, "alerting.receivers"), r.problems


def test_every_kind(tmp_path):
    (tmp_path / "am-pass").write_text("am-pw\n")
    receivers, problems = read([
        {"name": "ops-mail", "type": "email", "to": ["ops@example.org", "b@example.org"], "from": "sw@example.org",
         "smarthost": "mail.example.org:587", "auth_username": "sw", "auth_password": {"env": "SMTP_PASSWORD"}},
        {"name": "hook", "type": "webhook", "url": "https://hooks.example.org/a", "bearer_token": {"env": "HOOK_TOKEN"},
         "max_alerts": 50, "timeout": "5s"},
        {"name": "pager", "type": "pagerduty", "routing_key": {"env": "PD_KEY"}},
        {"name": "chat", "type": "slack", "url": {"env": "SLACK_URL"}, "channel": "#ops"},
        {"name": "am", "type": "alertmanager", "url": "http://127.0.0.1:9093", "ends_after": "1h",
         "basic_auth": {"username": "sw", "password": {"file": "am-pass"}}},
        {"name": "smtps", "type": "email", "to": "x@example.org", "from": "Stackwatch <sw@example.org>",
         "smarthost": "mail.example.org:465", "tls": True},
    ], base_dir=tmp_path)
    assert problems == []
    mail, hook, pager, chat, am, smtps = receivers
    assert isinstance(mail, SmtpReceiver) and (mail.host, mail.port, mail.password) == ("mail.example.org", 587, "mail-pw")
    assert mail.require_tls and not mail.tls and mail.to == ("ops@example.org", "b@example.org")
    assert isinstance(hook, WebhookReceiver) and hook.auth.bearer_token == "tok" and hook.timeout == 5.0
    assert isinstance(pager, PagerDutyReceiver) and pager.url == DEFAULT_URL and pager.routing_key == "k" * 32
    assert isinstance(chat, SlackReceiver) and chat.url == ENV["SLACK_URL"]
    assert isinstance(am, AlertmanagerReceiver) and am.ends_after == 3600 and am.auth.password == "am-pw"
    assert smtps.tls and smtps.to == ("x@example.org",) and smtps.username is None
    for r in receivers:                              # secrets never appear in a repr (logs, tracebacks)
        for secret in ("mail-pw", "tok", "k" * 32, "hooks.slack.com", "am-pw"):
            assert secret not in repr(r)


def test_problems_have_dotted_paths():
    _, problems = read([
        {"name": "a", "type": "webhook", "url": "ftp://x", "bearer_token": "inline-token"},
        {"name": "a", "type": "webhook", "url": "http://x"},
        {"name": "m", "type": "email", "to": ["not-an-address"], "from": "sw@example.org", "smarthost": "mail",
         "auth_username": "u", "auth_password": {"env": "UNSET_VAR"}, "tls": "yes"},
        {"name": "p", "type": "pagerduty"},
        {"name": "s", "type": "slack", "url": "https://hooks.slack.com/services/T/B/X"},
        {"name": "x", "type": "sms"},
        {"type": "webhook", "url": "http://x", "tiemout": "5s"},
        "not a mapping",
    ])
    text = "\n".join(problems)
    expected = [
        "alerting.receivers[0].url: 'ftp://x' is not an http:// or https:// URL",
        "alerting.receivers[0].bearer_token: secrets are referenced, never written in config.yaml",
        "alerting.receivers[1].name: duplicate receiver name 'a'",
        "alerting.receivers[2].to[0]: not an email address: 'not-an-address'",
        "alerting.receivers[2].smarthost: expected host:port, got 'mail'",
        "alerting.receivers[2].auth_password.env: environment variable UNSET_VAR is unset or empty",
        "alerting.receivers[2].tls: expected true or false",
        "alerting.receivers[3].routing_key: required",
        "alerting.receivers[4].url: secrets are referenced",
        "alerting.receivers[5].type: unknown receiver type 'sms' (one of email, webhook, pagerduty, slack, alertmanager)",
        "alerting.receivers[6].tiemout: unknown key (did you mean 'timeout'?)",
        "alerting.receivers[6].name: required",
        "alerting.receivers[7]: expected a mapping",
    ]
    for line in expected:
        assert line in text, f"missing {line!r} in:\n{text}"
    assert "inline-token" not in text and "hooks.slack.com" not in text


def test_not_a_list_and_none():
    assert read(None) == ((), [])
    _, problems = read({"name": "x"})
    assert problems == ["alerting.receivers: expected a list, got dict"]


def test_delivery_policy():
    r = Reader(environ={})
    assert build_delivery(r, None) == RetryPolicy()
    p = build_delivery(r, {"max_attempts": 3, "max_age": "2h", "initial_backoff": "1s", "max_backoff": "1m"})
    assert (p.max_attempts, p.max_age, p.initial_backoff, p.max_backoff) == (3, 7200, 1, 60)
    assert r.problems == []
    build_delivery(r, {"max_attempts": 0, "max_age": "soon", "initial_backoff": "1h", "max_backoff": "1m",
                       "retries": 3})
    text = "\n".join(r.problems)
    for line in ("alerting.delivery.max_attempts: must be at least 1", "alerting.delivery.max_age: bad duration 'soon'",
                 "alerting.delivery.max_backoff: must not be shorter than initial_backoff",
                 "alerting.delivery.retries: unknown key"):
        assert line in text, text
