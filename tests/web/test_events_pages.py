"""Notification pages over a real store filled through the ingest sink."""

import json

from stackwatch.stacktach.ingest import NotificationIngest
from stackwatch.stacktach.message import AmqpMessage

UUID = "1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0"


def body(event_type, message_id, ts, **payload):
    inner = {"message_id": message_id, "event_type": event_type, "publisher_id": "compute.cmp1", "priority": "INFO",
             "timestamp": ts, "_context_request_id": "req-42",
             "payload": {"instance_id": UUID, "tenant_id": "t1", "instance_type": "m1.tiny", **payload}}
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()


def test_instance_page_shows_boot_time_and_links_to_trace(client, web_store):
    ingest = NotificationIngest(web_store.notifications)
    ingest.sink([AmqpMessage(body("compute.instance.create.start", "a", "2023-11-14 22:00:00.000000"), None, "nova",
                             "notifications.info", 0, "r1"),
                 AmqpMessage(body("compute.instance.create.end", "b", "2023-11-14 22:00:12.500000",
                                  state="active", launched_at="2023-11-14T22:00:12.000000"), None, "nova",
                             "notifications.info", 0, "r1"),
                 AmqpMessage(b"<script>not json</script>", None, "nova", "notifications.info", 0, "r1")])
    html = client.get(f"/events/instance/{UUID}").get_data(as_text=True)
    assert "create (boot time)" in html and "12.500 s" in html
    assert f'href="/trace/{UUID}"' in html
    lc = client.get(f"/api/v1/events/instance/{UUID}").get_json()
    assert [(o["operation"], o["outcome"], o["duration"]) for o in lc["operations"]] == [("create", "ok", 12.5)]
    index = client.get("/events").get_data(as_text=True)
    assert "not JSON 1" in index and "<script>" not in index
    assert client.get("/events/instance/00000000-0000-0000-0000-000000000000").status_code == 404
    assert "req-42" in client.get("/events/request/req-42").get_data(as_text=True)
