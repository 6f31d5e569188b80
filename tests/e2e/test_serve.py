"""`stackwatch serve` as a real process: it checks this host, stores, exposes and serves, and stops cleanly;
bad input (port taken, corrupt database, unwritable data directory) gives one line and a non-zero exit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, console_script

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()


def shipped_config_with_free_ports(target: Path, **logs) -> Path:
    """The shipped config.yaml with its log inputs on free ports (and files under the test's control),
    so tests never collide with a stackwatch already running on this machine."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw["logs"]["receive"] = {"tcp": f"127.0.0.1:{free_port()}", "udp": f"127.0.0.1:{free_port()}",
                              "relp": f"127.0.0.1:{free_port()}"}
    raw["logs"]["files"] = []
    raw["logs"].update(logs)
    target.write_text(yaml.safe_dump(raw))
    return target


def start(data_dir: Path, port: int, *extra: str, user: list[str] | None = None,
          config: Path | None = None) -> subprocess.Popen:
    if config is None:
        config = shipped_config_with_free_ports(Path(tempfile.mkdtemp(prefix="stackwatch-cfg-")) / "config.yaml")
        config.parent.chmod(0o755)
    cmd = (user or []) + [console_script("stackwatch"), "serve", "--config", str(config),
                          "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_checks(base: str, proc: subprocess.Popen, minimum: int, timeout: float = 90) -> list[dict]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited {proc.returncode}: {proc.stderr.read()}")
        try:
            checks = json.loads(get(base + "/api/v1/checks")[2])["checks"]
            if len(checks) >= minimum:
                return checks
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail("no check results within the timeout")


def test_serve_end_to_end(tmp_path):
    port = free_port()
    proc = start(tmp_path / "data", port)
    base = f"http://127.0.0.1:{port}"
    try:
        checks = wait_for_checks(base, proc, minimum=7)
        by_name = {c["check"]: c for c in checks}
        assert {"disk-root", "load", "memory", "swap", "cpu", "interfaces", "proc-stackwatch"} <= set(by_name)
        assert all(c["host"] == "localhost" for c in checks)
        assert by_name["proc-stackwatch"]["state"] == "OK"  # the platform finds itself running
        assert by_name["disk-root"]["state"] in ("OK", "WARNING", "CRITICAL")

        status, ctype, html = get(base + "/")
        assert status == 200 and ctype.startswith("text/html")
        assert "disk-root" in html and "localhost" in html and 'http-equiv="refresh"' in html

        status, ctype, text = get(base + "/metrics")
        assert status == 200 and ctype.startswith("text/plain")
        assert 'stackwatch_check_state{check="disk-root",host="localhost",state=' in text
        assert "stackwatch_host_load1{" in text
        assert "stackwatch_job_runs_total{" in text and "stackwatch_store_write_seconds_bucket" in text

        alerts = json.loads(get(base + "/api/v1/alerts")[2])
        assert "active" in alerts

        series = json.loads(get(base + "/api/v1/series?name=stackwatch_host_load1")[2])["series"]
        assert series and series[0]["labels"]["host"] == "localhost"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "stackwatch stopped" in err
    db = sqlite3.connect(tmp_path / "data" / "stackwatch.db")
    assert db.execute("SELECT count(*) FROM check_results WHERE host = 'localhost'").fetchone()[0] >= 7
    assert db.execute("SELECT count(*) FROM rollups").fetchone()[0] > 0  # open buckets checkpointed on stop
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_port_in_use_is_one_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = start(tmp_path / "data", port)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert err.strip() == f"error: cannot listen on 127.0.0.1:{port}: address already in use"


def test_corrupt_database_is_one_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "stackwatch.db").write_bytes(b"garbage" * 1000)
    proc = start(data, free_port())
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "Traceback" not in err
    assert err.strip().startswith("error: cannot use database") and "file is not a database" in err
    assert len(err.strip().splitlines()) == 1


def test_unwritable_data_dir_is_one_line():
    parent = Path(tempfile.mkdtemp(prefix="stackwatch-ro-"))  # outside pytest's 0700 tmp tree
    parent.chmod(0o755)
    data = parent / "readonly"
    data.mkdir()
    data.chmod(0o555)
    user = None
    if os.geteuid() == 0:  # root writes anywhere: run as nobody, which cannot write there
        user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    try:
        proc = start(data, free_port(), user=user)
        out, err = proc.communicate(timeout=30)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert err.strip() == f"error: data directory {data} is not writable"
