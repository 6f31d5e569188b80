"""The coverage page and its JSON, over the web fixtures' store: h1 (this machine) has fresh disk and load
results, h2 (a remote compute node) only a stale disk result; strings from the store are escaped."""

from __future__ import annotations

import re

from tests.web.conftest import NOW, XSS


def test_nav_links_to_coverage(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/coverage"' in page


def test_gaps_first_and_colours(client):
    resp = client.get("/coverage")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert '<meta http-equiv="refresh"' in page
    hosts_table = page.split("<h2>Hosts with gaps</h2>")[1].split("</table>")[0]
    assert "h2" in hosts_table                                      # never covered: no check runs for h2
    services = page.split("<h2>Services with gaps</h2>")[1].split("</table>")[0]
    verdicts = re.findall(r'<span class="badge verdict state-(\w+)">([^<]+)</span>', services)
    levels = [cls for cls, _ in verdicts]
    assert levels == sorted(levels, key=["critical", "warning", "ok"].index)   # red first
    # h2 is remote: nothing checks it (its metrics arrive, so it is not silent); h1's disk and load are fresh
    assert verdicts == [("critical", "no check")] * 4
    assert "Show the 2 covered services too" in page


def test_all_shows_covered_rows_and_host_filter(client):
    page = client.get("/coverage?all=1").get_data(as_text=True)
    assert "<h2>Services</h2>" in page and "Show only the gaps" in page
    only = client.get("/coverage?host=h2").get_data(as_text=True)
    assert "Coverage of h2" in only and "/coverage?host=h1" not in only


def test_json_api(client):
    doc = client.get("/api/v1/coverage").get_json()
    hosts = {h["host"]: h for h in doc["hosts"]}
    assert set(hosts) == {"h1", "h2"} and doc["level"] == "red"
    h2 = hosts["h2"]
    services = {s["service"]: s for s in h2["services"]}
    assert services["nova-compute"]["verdict"] in ("no check", "host silent")
    assert services["nova-compute"]["source"] is None
    assert doc["generated"] == NOW


def test_host_names_from_config_are_escaped(tmp_path):
    from stackwatch.config import build_config
    from stackwatch.store.sqlite import open_store
    from stackwatch.web import create_app

    raw = {"data_dir": str(tmp_path), "inventory": {"roles": {XSS: {"processes": [XSS]}},
                         "hosts": [{"name": XSS, "address": "10.0.0.9", "roles": [XSS]}]},
           "checks": {"host": [{"type": "disk", "options": {"path": "/"}}]}}
    config = build_config(raw, tmp_path / "config.yaml", environ={})
    store = open_store(tmp_path / "x.db", config.metrics)
    try:
        app = create_app(config, store, clock=lambda: NOW)
        page = app.test_client().get("/coverage").get_data(as_text=True)
        assert XSS not in page
        assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4    # host, role, service, check names
    finally:
        store.close()
