"""The dead man's switch through a real `stackwatch serve`: a remote compute node whose only signal is its
syslog over TCP is covered for logs while it sends, and turns silent (stackwatch_host_silent 1, HostSilent
firing) once it stops; this machine's checks are planned and run here; `stackwatch coverage --json` reads the same
database while serve runs."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, console_script
from tests.e2e.test_serve import free_port, start

pytestmark = pytest.mark.e2e


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def write_config(tmp_path: Path, tcp_port: int) -> Path:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw["logs"]["receive"] = {"tcp": f"127.0.0.1:{tcp_port}", "udp": None, "relp": None}
    raw["logs"]["files"] = []
    raw["inventory"]["hosts"].append({"name": "compute-9", "address": "10.0.0.29", "roles": ["compute"]})
    raw["coverage"].update({"interval": "1s", "logs_within": "4s", "silent_after": "4s"})
    raw["alerting"]["evaluation_interval"] = "1s"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def syslog_line(n: int) -> bytes:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (f"<134>1 {now} compute-9 nova-compute 4242 - - heartbeat {n} from the compute node\n").encode()


def poll(what, predicate, proc, timeout=60.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited {proc.returncode}: {proc.stderr.read()}")
        try:
            last = what()
            if predicate(last):
                return last
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"condition not met within {timeout}s; last seen: {last}")


def host(doc: dict, name: str) -> dict:
    return next(h for h in doc["hosts"] if h["host"] == name)


def host_silent_alert(base: str) -> str | None:
    active = get_json(base + "/api/v1/alerts")["active"]
    states = [a["state"] for a in active if a["rule"] == "HostSilent" and a["labels"].get("host") == "compute-9"]
    return states[0] if states else None


def test_a_node_that_stops_sending_logs_goes_silent(tmp_path):
    port, tcp_port = free_port(), free_port()
    config = write_config(tmp_path, tcp_port)
    proc = start(tmp_path / "data", port, config=config)
    base = f"http://127.0.0.1:{port}"
    try:
        poll(lambda: get_json(base + "/api/v1/coverage"), lambda d: d["hosts"], proc)
        sent = 0
        with socket.create_connection(("127.0.0.1", tcp_port), timeout=10) as sock:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:       # the node reports: its logs arrive, it is not silent
                sock.sendall(syslog_line(sent))
                sent += 1
                doc = get_json(base + "/api/v1/coverage")
                node = host(doc, "compute-9")
                if node["logs_age"] is not None and not node["silent"]:
                    break
                time.sleep(0.3)
            else:
                pytest.fail(f"compute-9's logs never counted: {host(doc, 'compute-9')}")
        assert node["gaps"]["logs"] == 0 and node["gaps"]["check"] == 8   # logs arrive; nothing checks it
        assert poll(lambda: host_silent_alert(base), lambda s: s != "firing", proc) != "firing"
        # it stops: after silent_after the switch trips, gauge and alert included
        node = poll(lambda: host(get_json(base + "/api/v1/coverage"), "compute-9"), lambda h: h["silent"], proc)
        assert node["reason"].startswith("silent for") and node["level"] == "red"
        poll(lambda: host_silent_alert(base), lambda s: s == "firing", proc)
        with urllib.request.urlopen(base + "/metrics", timeout=10) as resp:
            metrics = resp.read().decode()
        assert 'stackwatch_host_silent{host="compute-9"} 1.0' in metrics
        local = host(get_json(base + "/api/v1/coverage"), "localhost")
        assert local["gaps"]["check"] == 0 and local["check_age"] is not None    # this machine is checked here
        cli = subprocess.run([console_script("stackwatch"), "coverage", "--config", str(config), "--data-dir",
                              str(tmp_path / "data"), "--json"], capture_output=True, text=True, timeout=60)
        assert cli.returncode == 2, cli.stderr
        assert host(json.loads(cli.stdout), "compute-9")["silent"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
