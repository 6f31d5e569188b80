"""The HTTP receivers against a real local HTTP server: what arrives matches the documented schemas,
auth headers are sent, and failures are classified (400 final, 429/500/timeouts retryable)."""

from __future__ import annotations

import base64

import jsonschema
import pytest

from stackwatch.alerting.notification import DeliveryError
from stackwatch.alerting.notify.http_post import HttpAuth
from stackwatch.alerting.notify.pagerduty import PagerDutyReceiver
from stackwatch.alerting.notify.slack import SlackReceiver
from stackwatch.alerting.notify.webhook import WebhookReceiver

from .schemas import ALERTMANAGER_WEBHOOK, PAGERDUTY_EVENT, SLACK_MESSAGE
from .sinks import HttpSink, notification, snapshot


@pytest.fixture
def sink():
    s = HttpSink().start()
    yield s
    s.stop()


def test_webhook_delivers_alertmanager_payload_with_bearer_token(sink):
    WebhookReceiver("hook", sink.url + "/alerts", HttpAuth(bearer_token="s3cret")).send(notification())
    (req,) = sink.requests
    assert req.path == "/alerts"
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["Authorization"] == "Bearer s3cret"
    jsonschema.validate(req.json(), ALERTMANAGER_WEBHOOK)
    assert [a["labels"]["host"] for a in req.json()["alerts"]] == ["compute-1", "compute-2"]


def test_webhook_basic_auth(sink):
    WebhookReceiver("hook", sink.url, HttpAuth(username="sw", password="pw")).send(notification())
    assert sink.requests[0].headers["Authorization"] == "Basic " + base64.b64encode(b"sw:pw").decode()


def test_pagerduty_trigger_ack_resolve_reach_the_endpoint_valid(sink):
    sink.status, sink.answer = 202, b'{"status":"success","message":"Event processed","dedup_key":"x"}'
    pd = PagerDutyReceiver("pager", "R" * 32, url=sink.url + "/v2/enqueue")
    pd.send(notification(event="trigger"))
    pd.send(notification(event="acknowledge"))
    pd.send(notification(event="resolve", alerts=(snapshot(status="resolved", ends_at=1_764_000_200.0),)))
    bodies = [r.json() for r in sink.requests]
    for body in bodies:
        jsonschema.validate(body, PAGERDUTY_EVENT)
    assert [b["event_action"] for b in bodies] == ["trigger", "acknowledge", "resolve"]
    assert len({b["dedup_key"] for b in bodies}) == 1
    assert all(r.path == "/v2/enqueue" for r in sink.requests)


def test_slack_message_and_url_never_in_errors(sink):
    SlackReceiver("chat", sink.url + "/services/T000/B000/SECRETTOKEN", channel="#ops").send(notification())
    jsonschema.validate(sink.requests[0].json(), SLACK_MESSAGE)
    sink.status = 404
    with pytest.raises(DeliveryError) as err:
        SlackReceiver("chat", sink.url + "/services/T000/B000/SECRETTOKEN").send(notification())
    assert "SECRETTOKEN" not in str(err.value) and "HTTP 404" in str(err.value)
    assert err.value.retryable is False


@pytest.mark.parametrize("status,retryable", [(400, False), (401, False), (404, False), (429, True),
                                              (500, True), (503, True)])
def test_http_errors_are_classified(sink, status, retryable):
    sink.status, sink.answer = status, b'{"status":"invalid event","errors":["routing_key missing"]}'
    with pytest.raises(DeliveryError) as err:
        WebhookReceiver("hook", sink.url).send(notification())
    assert err.value.retryable is retryable
    assert f"HTTP {status}" in err.value.reason
    if status == 400:
        assert "routing_key missing" in err.value.reason     # the receiver's own explanation is kept


def test_a_hanging_receiver_times_out_retryably(sink):
    sink.hang.set()
    with pytest.raises(DeliveryError) as err:
        WebhookReceiver("hook", sink.url, timeout=0.5).send(notification())
    assert err.value.retryable and "no answer" in err.value.reason


def test_nobody_listening_is_retryable():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeliveryError) as err:
        WebhookReceiver("hook", f"http://127.0.0.1:{port}/x?token=abc").send(notification())
    assert err.value.retryable and "cannot reach" in err.value.reason
    assert "token=abc" not in err.value.reason
