"""`stackwatch serve` as a real process pages a real HTTP receiver once for a failing process check, and
after a kill -9 and a restart it does not page again (the notification log and the outbox persist)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import console_script
from tests.e2e.test_serve import free_port

pytestmark = pytest.mark.e2e


def serve(config: Path, data: Path) -> subprocess.Popen:
    return subprocess.Popen([console_script("stackwatch"), "serve", "--config", str(config), "--data-dir", str(data),
                             "--listen", f"127.0.0.1:{free_port()}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def query(db: Path, sql: str):
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def wait(what: str, proc: subprocess.Popen, cond, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited {proc.returncode} while waiting for {what}: {proc.stderr.read()}")
        if cond():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_serve_pages_once_across_a_kill(tmp_path, sink):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"),
        "hostname": "here",
        "inventory": {"roles": {"watched": {"processes": ["stackwatch-no-such-process"]}},
                      "hosts": [{"name": "here", "address": "127.0.0.1", "roles": ["watched"]}]},
        "checks": {"defaults": {"interval": "1s", "jitter": "0s"}},
        "collectors": [],
        "alerting": {"evaluation_interval": "1s",
                     "rules": [{"name": "ProcessDown", "check": "proc-*", "severity": "critical"}],
                     "receivers": [{"name": "ops", "type": "webhook", "url": sink.url}],
                     "route": {"receiver": "ops", "group_by": ["alertname"], "group_wait": "0s",
                               "group_interval": "1s", "repeat_interval": "1h"}},
    }))
    data = tmp_path / "data"
    db = data / "stackwatch.db"
    proc = serve(config, data)
    try:
        wait("the page", proc, lambda: len(sink.bodies) >= 1)
        wait("the delivery to be recorded", proc,
             lambda: query(db, "SELECT state FROM outbox") == [("delivered",)])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        restarted_at = time.time()
        proc = serve(config, data)
        # several evaluation and paging passes of the new process, the check still failing
        wait("checks after the restart", proc,
             lambda: (query(db, "SELECT max(ts) FROM check_results")[0][0] or 0) > restarted_at + 3)
        assert len(sink.bodies) == 1
        (body,) = sink.bodies
        assert body["status"] == "firing" and body["alerts"][0]["labels"]["check"] == "proc-stackwatch-no-such-process"
        assert query(db, "SELECT count(*) FROM outbox") == [(1,)]
        assert query(db, "SELECT event, seq FROM nflog") == [("trigger", 0)]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
