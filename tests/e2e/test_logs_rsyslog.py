"""Real rsyslog, configured by `stackwatch rsyslog-config client`, forwarding into a running
`stackwatch serve` over RELP: records arrive parsed with their facility mapped to a service, `trace`
finds them, and while stackwatch is stopped nothing sent meanwhile is lost.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import console_script
from tests.e2e.test_serve import free_port, shipped_config_with_free_ports, start
from tests.rsyslog.rsyslog_server import Rsyslogd, need

pytestmark = pytest.mark.e2e
UUID = "7c1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
REQ = "req-3f0e9d8c-7b6a-4594-8372-615049382716"
DOWN = 60.0               # seconds stackwatch stays stopped


def stackwatch(*args: str, config: Path, data: Path) -> subprocess.CompletedProcess:
    return subprocess.run([console_script("stackwatch"), *args, "--config", str(config), "--data-dir", str(data)],
                          capture_output=True, text=True, timeout=60)


def wait_for(pred, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def count_marked(config: Path, data: Path, mark: str) -> int:
    res = stackwatch("logs", "search", mark, "--since", "1d", "--limit", "100000", "--json", config=config, data=data)
    return len(res.stdout.splitlines()) if res.returncode == 0 else 0


def test_rsyslog_into_stackwatch_survives_a_stop(tmp_path):
    need("rsyslogd")
    need("logger")
    relp = free_port()
    config = shipped_config_with_free_ports(tmp_path / "config.yaml")
    raw = yaml.safe_load(config.read_text())
    raw["logs"]["receive"]["relp"] = f"127.0.0.1:{relp}"
    raw["logs"]["forward"] = {"target": f"127.0.0.1:{relp}", "protocol": "relp", "queue_dir": str(tmp_path / "spool")}
    config.write_text(yaml.safe_dump(raw))
    (tmp_path / "spool").mkdir()
    data = tmp_path / "data"

    gen = stackwatch("rsyslog-config", "client", "--output", str(tmp_path / "etc"), config=config, data=data)
    assert gen.returncode == 0, gen.stderr
    forward = (tmp_path / "etc" / "etc/rsyslog.d/60-stackwatch-forward.conf").read_text()

    serve = start(data, free_port(), config=config)
    rsyslogd = Rsyslogd(tmp_path / "rsyslog", forward)
    (tmp_path / "rsyslog").mkdir()
    rsyslogd.start()
    try:
        # oslo.log through syslog (use_syslog = True): the program's tag, the facility, the record
        rsyslogd.logger("nova-compute", f"2026-11-25 10:00:00.123 4242 ERROR nova.compute.manager [{REQ} "
                        f"u1 p1 - - -] [instance: {UUID}] Instance failed to spawn", "local0.err")
        rsyslogd.logger("glance-api", f"2026-11-25 10:00:01.000 77 INFO glance.api.v2.images [{REQ} u1 p1 - - -] "
                        f"image for {UUID} fetched", "local1.info")
        rsyslogd.logger("myworker", f"volume worker saw {UUID}", "local2.warning")  # only the facility says cinder
        trace = wait_for(lambda: _trace(config, data), 60, "three records in the trace")
        by_program = {e["program"]: e for e in trace["events"]}
        assert by_program["nova-compute"]["service"] == "nova"
        assert by_program["nova-compute"]["level"] == "ERROR"
        assert by_program["nova-compute"]["instance_uuid"] == UUID and by_program["nova-compute"]["request_id"] == REQ
        assert by_program["glance-api"]["service"] == "glance"
        assert by_program["myworker"]["service"] == "cinder"  # local2, the guide's cinder facility
        assert trace["first_problem"]["program"] == "nova-compute"

        # stackwatch stops for a minute (the must-hold); rsyslog keeps what is sent meanwhile, spread
        # over that minute, in its disk-assisted queue
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(30) == 0
        stopped = time.monotonic()
        n = 300
        for i in range(n):
            rsyslogd.send("nova-api", f"while-down-{i:04d} marker-{UUID[:8]}", "local0", "info")
            time.sleep(max(0.0, stopped + DOWN * 0.95 * (i + 1) / n - time.monotonic()))
        time.sleep(max(0.0, stopped + DOWN - time.monotonic()))
        serve = start(data, free_port(), config=config)
        got = wait_for(lambda: (c := count_marked(config, data, f"marker-{UUID[:8]}")) >= n and c, 120,
                       f"{n} records sent while stackwatch was down")
        assert got == n  # RELP: every one, exactly once
    finally:
        rsyslogd.stop()
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=30)


def _trace(config: Path, data: Path):
    res = stackwatch("trace", UUID, "--json", config=config, data=data)
    if res.returncode != 0:
        return None
    doc = json.loads(res.stdout)
    return doc if doc["count"] >= 3 else None
