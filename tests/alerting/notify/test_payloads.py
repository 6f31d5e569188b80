"""The pure payload builders: each receiver's body checked against the schema written from its docs."""

from __future__ import annotations

import jsonschema
import pytest

from stackwatch.alerting.notify.alertmanager import postable_alerts
from stackwatch.alerting.notify.base import ZERO_TIME, group_title, rfc3339
from stackwatch.alerting.notify.pagerduty import pagerduty_event
from stackwatch.alerting.notify.slack import slack_payload
from stackwatch.alerting.notify.webhook import webhook_payload

from .schemas import ALERTMANAGER_WEBHOOK, PAGERDUTY_EVENT, SLACK_MESSAGE
from .sinks import notification, snapshot


def test_rfc3339_like_alertmanager():
    assert rfc3339(None) == ZERO_TIME == "0001-01-01T00:00:00Z"
    assert rfc3339(0) == ZERO_TIME
    assert rfc3339(1_764_000_000.25) == "2025-11-24T16:00:00.250Z"


def test_webhook_payload_has_alertmanagers_shape():
    n = notification(alerts=(snapshot("compute-1"), snapshot("compute-2", status="resolved",
                                                             ends_at=1_764_000_050.0)))
    body = webhook_payload(n)
    jsonschema.validate(body, ALERTMANAGER_WEBHOOK)
    assert body["version"] == "4"
    assert body["groupKey"] == n.group_key
    assert body["status"] == "firing"
    assert body["receiver"] == "hook"
    assert body["groupLabels"] == {"alertname": "HostDown", "role": "compute"}
    assert body["commonLabels"] == {"alertname": "HostDown", "role": "compute", "severity": "critical"}
    assert body["externalURL"] == "http://127.0.0.1:9844"
    first, second = body["alerts"]
    assert first["endsAt"] == "0001-01-01T00:00:00Z" and first["status"] == "firing"
    assert second["endsAt"] == "2025-11-24T16:00:50.000Z" and second["status"] == "resolved"
    assert first["fingerprint"] == "fp-HostDown-compute-1"
    assert first["labels"]["host"] == "compute-1"


def test_webhook_max_alerts_counts_the_rest():
    body = webhook_payload(notification(alerts=tuple(snapshot(f"c{i}") for i in range(5))), max_alerts=2)
    jsonschema.validate(body, ALERTMANAGER_WEBHOOK)
    assert len(body["alerts"]) == 2 and body["truncatedAlerts"] == 3


def test_webhook_resolved_group():
    n = notification(event="resolve", alerts=(snapshot(status="resolved", ends_at=1_764_000_090.0),))
    body = webhook_payload(n)
    jsonschema.validate(body, ALERTMANAGER_WEBHOOK)
    assert body["status"] == "resolved"


@pytest.mark.parametrize("event", ["trigger", "acknowledge", "resolve"])
def test_pagerduty_event_matches_events_api_v2(event):
    alerts = (snapshot(status="resolved", ends_at=1_764_000_090.0),) if event == "resolve" else None
    n = notification(event=event, alerts=alerts)
    body = pagerduty_event(n, "r" * 32)
    jsonschema.validate(body, PAGERDUTY_EVENT)
    assert body["event_action"] == event
    assert body["dedup_key"] == n.dedup_key
    if event == "trigger":
        payload = body["payload"]
        assert payload["severity"] == "critical"
        assert payload["class"] == "HostDown" and payload["group"] == "compute"
        assert payload["timestamp"] == "2025-11-24T16:00:00.000Z"
        assert [d.startswith("alertname=HostDown") for d in payload["custom_details"]["firing"]] == [True, True]
        assert body["links"][0]["href"].startswith("http://127.0.0.1:9844/alerts/")
    else:
        assert "payload" not in body


def test_pagerduty_dedup_key_is_stable_across_events_and_restarts():
    keys = {pagerduty_event(notification(event=e, nid=f"n-{e}"), "k")["dedup_key"]
            for e in ("trigger", "acknowledge", "resolve")}
    assert len(keys) == 1
    other_receiver = pagerduty_event(notification(receiver="other"), "k")["dedup_key"]
    assert other_receiver not in keys


def test_pagerduty_summary_is_cut_to_1024_and_odd_severity_maps_to_warning():
    long = snapshot(summary="x" * 5000, severity="page-me")
    body = pagerduty_event(notification(alerts=(long,)), "k")
    jsonschema.validate(body, PAGERDUTY_EVENT)
    assert len(body["payload"]["summary"]) == 1024
    assert body["payload"]["severity"] == "warning"


def test_slack_payload_colour_by_status_and_escaped_text():
    evil = snapshot(summary="<!channel> disk & <http://evil|click>")
    firing = slack_payload(notification(alerts=(evil,)), channel="#ops")
    jsonschema.validate(firing, SLACK_MESSAGE)
    text = firing["attachments"][0]["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt; disk &amp; &lt;http://evil|click&gt;" in text
    assert firing["attachments"][0]["color"] == "#d63232"
    assert firing["channel"] == "#ops"
    resolved = slack_payload(notification(event="resolve", alerts=(snapshot(status="resolved", ends_at=2.0e9),)))
    assert resolved["attachments"][0]["color"] == "#2eb886"
    acked = slack_payload(notification(event="acknowledge"))
    assert acked["attachments"][0]["color"] == "#daa038"
    assert acked["text"].startswith("[ACKNOWLEDGED]")


def test_postable_alerts():
    firing, resolved = snapshot("c1", zone=""), snapshot("c2", status="resolved", ends_at=1_764_000_090.0)
    alerts = postable_alerts(notification(alerts=(firing, resolved)))
    assert alerts[0]["labels"] == {"alertname": "HostDown", "host": "c1", "role": "compute", "severity": "critical"}
    assert "endsAt" not in alerts[0]
    assert alerts[1]["endsAt"] == "2025-11-24T16:01:30.000Z"
    assert alerts[0]["generatorURL"].startswith("http://")
    with_ttl = postable_alerts(notification(alerts=(firing,)), ends_after=3600)
    assert with_ttl[0]["endsAt"] == rfc3339(1_764_000_100.0 + 3600)


def test_group_title():
    assert group_title(notification()) == "[FIRING:2] critical alertname=HostDown role=compute"
    assert group_title(notification(event="acknowledge")).startswith("[ACKNOWLEDGED] critical")
