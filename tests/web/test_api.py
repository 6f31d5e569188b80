"""The JSON API under /api/v1, against a real SQLite store."""

import pytest

from .conftest import NOW, XSS


def test_checks(client):
    checks = client.get("/api/v1/checks").json["checks"]
    by = {(c["host"], c["check"]): c for c in checks}
    assert set(by) == {("h1", "disk"), ("h1", "load"), ("h1", "ntp"), ("h2", "disk")}
    load = by["h1", "load"]
    assert load["state"] == "CRITICAL" and load["state_code"] == 2 and load["summary"] == XSS
    assert load["age"] == 5 and load["timestamp"] == NOW - 5 and load["since"] == NOW - 5
    assert load["perfdata"][0]["label"] == "load1" and load["perfdata"][0]["value"] == 12.5
    disk = by["h1", "disk"]
    assert disk["attempts"] == 4 and disk["since"] == NOW - 900 and not disk["stale"]
    assert by["h2", "disk"]["stale"] is True
    only_h2 = client.get("/api/v1/checks?host=h2").json["checks"]
    assert [c["host"] for c in only_h2] == ["h2"]


def test_hosts(client):
    hosts = {h["name"]: h for h in client.get("/api/v1/hosts").json["hosts"]}
    assert hosts["h1"]["state"] == "CRITICAL" and hosts["h1"]["state_code"] == 2 and hosts["h1"]["checks"] == 3
    assert hosts["h2"]["state"] == "WARNING" and hosts["h2"]["address"] == "10.0.0.2"
    assert hosts["h2"]["roles"] == ["compute"]


def test_alerts(client, seeded):
    body = client.get("/api/v1/alerts").json
    assert [a["rule"] for a in body["active"]] == ["HighLoad"]
    assert {a["rule"] for a in body["recent"]} == {"HighLoad", "DiskFilling"}
    firing = body["active"][0]
    assert firing["fingerprint"] == seeded.firing_fp and firing["state"] == "firing"
    assert firing["labels"] == {"alertname": "HighLoad", "host": "h1"} and firing["severity"] == "critical"
    resolved = client.get("/api/v1/alerts?state=resolved").json
    assert resolved["active"] == [] and [a["rule"] for a in resolved["recent"]] == ["DiskFilling"]


def test_alert_detail_and_history(client, seeded):
    body = client.get(f"/api/v1/alerts/{seeded.firing_fp}").json
    assert body["alert"]["rule"] == "HighLoad"
    assert [(h["from"], h["to"]) for h in body["history"]] == [("pending", "firing"), ("inactive", "pending")]


def test_unknown_alert_is_a_json_404(client):
    resp = client.get("/api/v1/alerts/0000")
    assert resp.status_code == 404 and resp.is_json
    assert resp.json["status"] == 404 and "0000" in resp.json["message"]


def test_series(client, seeded):
    all_m = client.get("/api/v1/series?name=m").json["series"]
    assert [s["labels"] for s in all_m] == [{"host": "h1"}, {"host": "h2"}]
    one = client.get("/api/v1/series?match=host=h1").json["series"]
    assert [(s["id"], s["name"], s["kind"]) for s in one] == [(seeded.series_id, "m", "gauge")]
    assert client.get("/api/v1/series?name=m&match=host=h1&match=host=h2").json["series"] == []
    assert client.get("/api/v1/series?name=nope").json["series"] == []


def test_range_30d_comes_from_the_1h_rollup(client, seeded):
    body = client.get(f"/api/v1/series/{seeded.series_id}/range?range=30d").json
    assert body["resolution"] == "1h" and body["step"] == 3600 and "rollups" in body["source"]
    assert body["end"] == NOW and body["start"] == NOW - 30 * 86400
    assert 600 < len(body["points"]) <= 721
    p = body["points"][0]
    assert set(p) == {"ts", "value", "min", "max"} and p["min"] <= p["value"] <= p["max"]


def test_range_1h_and_explicit_window_use_raw_points(client, seeded):
    body = client.get(f"/api/v1/series/{seeded.series_id}/range?range=1h").json
    assert body["resolution"] == "raw" and body["step"] is None and body["source"] == "samples_raw"
    assert 60 <= len(body["points"]) <= 61
    body = client.get(f"/api/v1/series/{seeded.series_id}/range?start={NOW - 600}&end={NOW}").json
    assert body["resolution"] == "raw" and len(body["points"]) == 11


@pytest.mark.parametrize("query, message", [
    ("range=forever", "bad range"),
    ("range=0s", "bad range"),
    ("start=abc", "bad start"),
    ("start=200&end=100", "start must be before end"),
    ("end=100", "end needs a start"),
    ("range=1h&start=100", "either range or start/end"),
])
def test_bad_range_parameters_are_400(client, seeded, query, message):
    resp = client.get(f"/api/v1/series/{seeded.series_id}/range?{query}")
    assert resp.status_code == 400 and resp.is_json and message in resp.json["message"]


@pytest.mark.parametrize("url", ["/api/v1/series?match=host", "/api/v1/series?match==x",
                                 "/api/v1/alerts?state=exploded"])
def test_bad_filters_are_400(client, url):
    resp = client.get(url)
    assert resp.status_code == 400 and resp.is_json


def test_unknown_series_and_paths_are_json_404(client):
    for url in ("/api/v1/series/9999/range?range=1h", "/api/v1/nothing-here"):
        resp = client.get(url)
        assert resp.status_code == 404 and resp.is_json


def test_wrong_method_is_json(client):
    resp = client.post("/api/v1/checks")
    assert resp.status_code == 405 and resp.is_json


class _BrokenChecks:
    def current(self, host=None):
        raise RuntimeError("database exploded")


def test_unexpected_errors_are_a_500_without_details(config, web_store):
    from stackwatch.web import create_app

    class Store:
        checks, alerts, metrics = _BrokenChecks(), web_store.alerts, web_store.metrics

    client = create_app(config, Store(), clock=lambda: NOW).test_client()
    api = client.get("/api/v1/checks")
    assert api.status_code == 500 and api.is_json and "exploded" not in api.text
    page = client.get("/")
    assert page.status_code == 500 and page.mimetype == "text/html" and "exploded" not in page.text
