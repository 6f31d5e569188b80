"""`stackwatch alerts ...` with CliRunner against a real database (the same one the pager reads)."""

from __future__ import annotations

import time

import pytest
import yaml
from click.testing import CliRunner

from stackwatch.alerting.model import Alert, AlertState, Transition, fingerprint, make_labels
from stackwatch.cli import cli
from stackwatch.config import load_config
from stackwatch.store.sqlite import open_store
from stackwatch.store.sqlite.acks import SqliteAckStore
from stackwatch.store.sqlite.silences import SqliteSilenceStore


@pytest.fixture
def setup(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"),
        "inventory": {"hosts": [{"name": "compute-1", "address": "10.0.0.11", "roles": ["compute"]}]},
    }))
    config = load_config(cfg)
    store = open_store(config.database_path, config.metrics)
    now = time.time()
    labels = make_labels([("alertname", "ProcessDown"), ("host", "compute-1"), ("severity", "critical")])
    a = Alert(fingerprint(labels), "ProcessDown", labels, (("summary", "nova-compute <down>"),), "critical",
              AlertState.FIRING, 2.0, now - 60, now - 30, None, now - 30)
    store.alerts.save([a], [Transition(a, AlertState.PENDING, now - 30)])
    store.close()
    return cfg, config, a


def run(cfg, *args):
    result = CliRunner().invoke(cli, ["alerts", args[0], "--config", str(cfg), *args[1:]])
    return result


def test_list_show_ack(setup):
    cfg, config, a = setup
    r = run(cfg, "list")
    assert r.exit_code == 0 and a.fingerprint in r.output and "host=compute-1" in r.output
    r = run(cfg, "ack", a.fingerprint[:6], "--author", "bob", "-c", "on it", "--expires", "2h")
    assert r.exit_code == 0, r.output
    r = run(cfg, "list")
    assert "[ack: bob]" in r.output
    r = run(cfg, "show", a.fingerprint)
    assert r.exit_code == 0 and "acknowledged by bob: on it" in r.output and "firing" in r.output
    store = open_store(config.database_path, config.metrics)
    ack = SqliteAckStore(store.db).latest()[a.fingerprint]
    assert ack.author == "bob" and ack.expires_at is not None
    store.close()
    r = run(cfg, "show", "ffffffffff")
    assert r.exit_code == 1 and "no alert with fingerprint" in r.output


def test_silence_bad_matcher_is_refused_clearly(setup):
    cfg, config, _ = setup
    r = run(cfg, "silence", 'severity=~"critical|(warning"', "-d", "1h", "--author", "ann")
    assert r.exit_code == 1
    assert "bad matcher" in r.output and "bad regular expression" in r.output
    r = run(cfg, "silence", 'host=="x"', "-d", "1h", "--author", "ann")
    assert r.exit_code == 1 and "bad matcher" in r.output
    r = run(cfg, "silence", 'host="compute-1', "-d", "1h", "--author", "ann")
    assert r.exit_code == 1 and "not closed" in r.output
    store = open_store(config.database_path, config.metrics)
    assert SqliteSilenceStore(store.db).silences(time.time()) == []   # nothing stored
    store.close()


def test_silence_and_unsilence(setup):
    cfg, config, _ = setup
    r = run(cfg, "silence", 'host="compute-1"', 'severity=~"critical|warning"', "-d", "2h", "--author", "ann",
            "-c", "reboot")
    assert r.exit_code == 0, r.output
    sid = r.output.split()[1].rstrip(":")
    listed = run(cfg, "silence")
    assert sid in listed.output and 'severity=~"critical|warning"' in listed.output
    assert run(cfg, "unsilence", sid).exit_code == 0
    assert sid not in run(cfg, "silence").output
    r = run(cfg, "unsilence", sid)
    assert r.exit_code == 1 and "no silence" in r.output


def test_maintenance_window(setup):
    cfg, config, _ = setup
    r = run(cfg, "maint", "--host", "compute-1", "-d", "4h", "--author", "alice", "-c", "kernel upgrade")
    assert r.exit_code == 0, r.output
    wid = r.output.split()[2]
    assert wid in run(cfg, "maint").output
    r = run(cfg, "maint", "--host", "nope", "-d", "1h", "--author", "alice")
    assert r.exit_code == 1 and "unknown host" in r.output
    r = run(cfg, "maint", "--role", "compute", "--author", "alice")
    assert r.exit_code == 1 and "duration" in r.output
    assert run(cfg, "maint", "--stop", wid).exit_code == 0
    assert wid not in run(cfg, "maint").output


def test_list_shows_maintenance_as_of_now(setup):
    cfg, config, a = setup
    assert run(cfg, "maint", "--host", "compute-1", "-d", "1h", "--author", "alice").exit_code == 0
    r = run(cfg, "list")
    assert "[maintenance:" in r.output


def test_deliveries_and_retry_of_a_failed_page(setup):
    from stackwatch.alerting.notification import AlertSnapshot, GroupNotification
    from stackwatch.store.sqlite.outbox import SqliteOutboxStore

    cfg, config, a = setup
    store = open_store(config.database_path, config.metrics)
    outbox = SqliteOutboxStore(store.db)
    now = time.time()
    outbox.add(GroupNotification("n-7", "pager", "{}:{}", (), "trigger",
                                 (AlertSnapshot(a.fingerprint, "firing", a.labels, (), now),), now), now)
    outbox.record("n-7", now, 0.3, "failed", "HTTP 400: invalid routing key")
    store.close()
    out = run(cfg, "deliveries", "--state", "failed", "--attempts")
    assert out.exit_code == 0 and "n-7" in out.output and "invalid routing key" in out.output
    assert out.output.count("HTTP 400") == 2                     # the page's last error and its attempt
    ok = run(cfg, "retry", "n-7")
    assert ok.exit_code == 0 and "queued again" in ok.output
    again = run(cfg, "retry", "n-7")
    assert again.exit_code == 1 and "only a failed page" in again.output
    assert run(cfg, "retry", "nope").exit_code == 1
    assert "no pages failed" in run(cfg, "deliveries", "--state", "failed").output
