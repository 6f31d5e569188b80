"""The alerts page's write actions: login (users from config, passwords by reference), CSRF tokens,
ack / silence / maintenance through real forms into the real store, and every user string escaped."""

from __future__ import annotations

import os
import re
import stat

import pytest

from stackwatch.config import build_config
from stackwatch.store.sqlite import open_store
from stackwatch.store.sqlite.acks import SqliteAckStore
from stackwatch.store.sqlite.silences import SqliteSilenceStore
from stackwatch.web import create_app

from tests.web.conftest import NOW, XSS, seed


@pytest.fixture
def env():
    return {"ANN_PASSWORD": "correct horse"}


@pytest.fixture
def app_store(tmp_path, env, monkeypatch):
    monkeypatch.delenv("STACKWATCH_SECRET_KEY", raising=False)
    raw = {"data_dir": str(tmp_path),
           "web": {"users": [{"name": "ann", "password": {"env": "ANN_PASSWORD"}}]},
           "inventory": {"hosts": [{"name": "h1", "address": "127.0.0.1", "roles": []},
                                   {"name": "h2", "address": "10.0.0.2", "roles": ["compute"]}]},
           "metrics": {"rollups": [{"step": "5m", "retention": "90d"}, {"step": "1h", "retention": "730d"},
                                   {"step": "1d"}]}}
    config = build_config(raw, tmp_path / "config.yaml", environ=env)
    store = open_store(tmp_path / "web.db", config.metrics)
    seeded = seed(store)
    app = create_app(config, store, clock=lambda: NOW)
    app.testing = True
    yield app, store, seeded
    store.close()


def token(client, path="/login"):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def login(client, password="correct horse"):
    return client.post("/login", data={"username": "ann", "password": password, "csrf_token": token(client),
                                       "next": "/alerts"})


def test_read_without_login_act_only_with_login(app_store):
    app, store, seeded = app_store
    client = app.test_client()
    page = client.get("/alerts").get_data(as_text=True)
    assert "Log in" in page and "New silence" not in page
    assert XSS not in page and "&lt;script&gt;" in page
    r = client.post(f"/alerts/{seeded.firing_fp}/ack", data={"comment": "x"})
    assert r.status_code == 401
    assert SqliteAckStore(store.db).latest() == {}


def test_login_rejects_wrong_password_and_open_redirects(app_store):
    app, _, _ = app_store
    client = app.test_client()
    r = login(client, "wrong")
    assert r.status_code == 401 and "wrong password" in r.get_data(as_text=True)
    r = client.post("/login", data={"username": "ann", "password": "correct horse", "csrf_token": token(client),
                                    "next": "//evil.example/x"})
    assert r.status_code == 302 and r.headers["Location"] == "/alerts"
    r = client.post("/login", data={"username": "ann", "password": "correct horse"})   # no CSRF token
    assert r.status_code == 400


def test_ack_needs_csrf_and_is_recorded_with_author(app_store):
    app, store, seeded = app_store
    client = app.test_client()
    assert login(client).status_code == 302
    assert client.post(f"/alerts/{seeded.firing_fp}/ack", data={"comment": "no token"}).status_code == 400
    t = token(client, f"/alerts/{seeded.firing_fp}")
    r = client.post(f"/alerts/{seeded.firing_fp}/ack", data={"comment": f"on it {XSS}", "expires": "4h",
                                                             "csrf_token": t})
    assert r.status_code == 302
    ack = SqliteAckStore(store.db).latest()[seeded.firing_fp]
    assert ack.author == "ann" and ack.expires_at == NOW + 4 * 3600
    page = client.get(f"/alerts/{seeded.firing_fp}").get_data(as_text=True)
    assert "acknowledged by ann" in page and XSS not in page and "Withdraw acknowledgement" in page
    r = client.post(f"/alerts/{seeded.firing_fp}/unack", data={"csrf_token": t})
    assert r.status_code == 302 and SqliteAckStore(store.db).latest() == {}


def test_silence_bad_matcher_refused_clearly_then_good_one_listed_and_expired(app_store):
    app, store, _ = app_store
    client = app.test_client()
    login(client)
    t = token(client, "/alerts")
    r = client.post("/alerts/silences", data={"matchers": f'severity=~"critical|(warning"\nhost="{XSS}"',
                                              "duration": "2h", "comment": "c", "csrf_token": t})
    body = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Silence refused, bad matcher" in body and "bad regular expression" in body
    assert XSS not in body
    assert SqliteSilenceStore(store.db).silences(NOW) == []
    r = client.post("/alerts/silences", data={"matchers": 'host="h1"\nseverity=~"critical|warning"',
                                              "duration": "2h", "comment": "reboot", "csrf_token": t})
    assert r.status_code == 302
    (s,) = SqliteSilenceStore(store.db).silences(NOW)
    assert s.author == "ann" and s.ends_at == NOW + 7200
    page = client.get("/alerts").get_data(as_text=True)
    assert s.id in page and "severity=~&#34;critical|warning&#34;" in page
    assert client.post(f"/alerts/silences/{s.id}/expire", data={"csrf_token": t}).status_code == 302
    assert SqliteSilenceStore(store.db).silences(NOW) == []


def test_maintenance_window_from_the_page(app_store, tmp_path):
    app, store, _ = app_store
    client = app.test_client()
    login(client)
    t = token(client, "/alerts")
    r = client.post("/alerts/maintenance", data={"hosts": ["h9"], "duration": "1h", "csrf_token": t})
    assert r.status_code == 400 and "not in the inventory: h9" in r.get_data(as_text=True)
    r = client.post("/alerts/maintenance", data={"hosts": ["h2"], "roles": ["compute"], "duration": "4h",
                                                 "comment": "kernel", "csrf_token": t})
    assert r.status_code == 302
    (w,) = SqliteSilenceStore(store.db).maintenance(NOW)
    assert w.hosts == ("h2",) and w.roles == ("compute",) and w.author == "ann"
    assert client.post(f"/alerts/maintenance/{w.id}/end", data={"csrf_token": t}).status_code == 302
    assert SqliteSilenceStore(store.db).maintenance(NOW) == []
    key = tmp_path / "web-secret-key"
    assert key.exists() and stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_alert_in_a_maintenance_window_is_marked_on_the_page(app_store):
    app, store, seeded = app_store
    SqliteSilenceStore(store.db).add_maintenance(["h1"], [], NOW - 60, NOW + 3600, "alice", "upgrade", NOW - 60)
    page = app.test_client().get("/alerts").get_data(as_text=True)
    assert "in maintenance" in page


def test_deliveries_show_failed_pages_with_their_attempts_and_retry_needs_login(app_store):
    from stackwatch.alerting.notification import AlertSnapshot, GroupNotification
    from stackwatch.store.sqlite.outbox import SqliteOutboxStore

    app, store, _ = app_store
    outbox = SqliteOutboxStore(store.db)
    n = GroupNotification("n-1", "pager", '{}:{alertname="HostDown"}', (("alertname", "HostDown"),), "trigger",
                          (AlertSnapshot("fp", "firing", (("alertname", "HostDown"),), (), NOW - 60),), NOW - 60)
    outbox.add(n, NOW - 60)
    outbox.record("n-1", NOW - 50, 0.2, "retry", f"HTTP 500 from the receiver {XSS}", next_attempt_at=NOW - 40)
    outbox.record("n-1", NOW - 40, 0.1, "failed", "HTTP 400: bad routing key")
    client = app.test_client()
    page = client.get("/alerts/deliveries?state=failed").get_data(as_text=True)
    assert "pager" in page and "HTTP 400: bad routing key" in page and "failed (1)" in page
    detail = client.get("/alerts/deliveries/n-1").get_data(as_text=True)
    assert "HTTP 500 from the receiver" in detail and XSS not in detail and "Send again" in detail
    assert client.get("/alerts/deliveries?state=bogus").status_code == 400
    assert client.post("/alerts/deliveries/n-1/retry").status_code == 401          # no login
    assert login(client).status_code == 302
    assert client.post("/alerts/deliveries/n-1/retry", data={}).status_code == 400  # no CSRF token
    r = client.post("/alerts/deliveries/n-1/retry", data={"csrf_token": token(client, "/alerts/deliveries/n-1")})
    assert r.status_code == 302 and outbox.get("n-1").state == "pending"
