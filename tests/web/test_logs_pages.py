"""Log search, live tail and trace pages and their JSON, over a real SQLite event store."""

from stackwatch.store.interfaces import Event
from tests.web.conftest import NOW, XSS

UUID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def add_events(web_store):
    web_store.events.add([
        Event(NOW - 120, "log", f"Claim successful on node cmp1", host="cmp1", service="nova",
              program="nova-compute", severity="INFO", request_id="req-77", instance_uuid=UUID),
        Event(NOW - 60, "log", f"Instance failed to spawn {XSS}", host="cmp1", service="nova",
              program="nova-compute", severity="ERROR", request_id="req-77", instance_uuid=UUID,
              fields={"traceback": "Traceback (most recent call last):\n  ...\nPortBindingFailed: <b>x</b>"}),
        Event(NOW - 30, "log", "unrelated", host="ctl1", service="glance", program="glance-api", severity="INFO"),
    ])


def test_search_page_filters_and_escapes(client, web_store):
    add_events(web_store)
    html = client.get("/logs?q=spawn&since=1h").get_data(as_text=True)
    assert "Instance failed to spawn" in html and "unrelated" not in html
    assert XSS not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html and "PortBindingFailed" in html  # the traceback, escaped, in <details>
    assert f'href="/trace/{UUID}"' in html
    html = client.get("/logs?service=glance&since=1h").get_data(as_text=True)
    assert "unrelated" in html and "spawn" not in html


def test_live_tail_uses_own_script_only(client, web_store):
    add_events(web_store)
    resp = client.get("/logs?tail=1&since=1h")
    html = resp.get_data(as_text=True)
    assert '<script src="/static/tail.js"></script>' in html
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "textContent" in client.get("/static/tail.js").get_data(as_text=True)


def test_trace_page_and_api(client, web_store):
    add_events(web_store)
    html = client.get(f"/trace/{UUID}").get_data(as_text=True)
    assert "2 record(s)" in html and "First problem" in html and XSS not in html
    doc = client.get(f"/api/v1/trace/{UUID}").get_json()
    assert doc["count"] == 2 and doc["first_problem"]["level"] == "ERROR"
    assert [e["message"][:5] for e in doc["events"]] == ["Claim", "Insta"]
    assert client.get("/trace?id=req-77").headers["Location"].endswith("/trace/req-77")


def test_logs_api_after_and_bad_input(client, web_store):
    add_events(web_store)
    doc = client.get(f"/api/v1/logs?after={NOW - 90}").get_json()
    assert [e["host"] for e in doc["events"]] == ["ctl1", "cmp1"]
    assert client.get("/api/v1/logs?since=yesterday-ish").status_code == 400


def test_metrics_from_logs_page(client, web_store):
    from stackwatch.model import Kind, Sample, SeriesKey

    samples = []
    for i, ts in enumerate(range(int(NOW - 3000), int(NOW), 60)):
        for host in ("ctl1", "ctl2"):  # two API hosts, summed per service
            samples.append(Sample(SeriesKey.of("stackwatch_api_requests_total", {
                "service": "nova", "host": host, "program": "nova-api", "method": "GET", "status_class": "2xx"}),
                float(ts), float(i * 60), Kind.COUNTER))  # 1 request/s per host
    web_store.metrics.write(samples)
    html = client.get("/trends/logs?range=1h").get_data(as_text=True)
    assert "API requests per hour" in html and "nova: api requests per hour" in html and "<svg" in html
    assert "latest 7200/h" in html  # 2 hosts x 3600 requests per hour
