"""Pushing alerts to Debian's prometheus-alertmanager, started here on a free loopback port: what we
push is listed by its own GET /api/v2/alerts, resolving takes an alert off the list, and an alert it
refuses (400) is reported as not retryable."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request

import pytest

from stackwatch.alerting.notification import AlertSnapshot, DeliveryError
from stackwatch.alerting.notify.alertmanager import AlertmanagerReceiver

from .sinks import need_program, notification, snapshot

BINARY = "/usr/bin/prometheus-alertmanager"
CONFIG = """\
route:
  receiver: blackhole
  group_wait: 1h
receivers:
  - name: blackhole
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory):
    binary = need_program(BINARY)
    work = tmp_path_factory.mktemp("alertmanager")
    (work / "alertmanager.yml").write_text(CONFIG)
    port = free_port()
    log = (work / "alertmanager.log").open("wb")
    proc = subprocess.Popen([binary, f"--config.file={work / 'alertmanager.yml'}", f"--storage.path={work / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=1) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"alertmanager did not start: {(work / 'alertmanager.log').read_text()[-2000:]}")
        time.sleep(0.1)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def listed(url: str) -> dict[str, dict]:
    with urllib.request.urlopen(url + "/api/v2/alerts", timeout=5) as resp:
        return {a["labels"]["host"]: a for a in json.loads(resp.read()) if "host" in a["labels"]}


def test_pushed_alerts_are_listed_and_resolve(alertmanager):
    now = time.time()
    am = AlertmanagerReceiver("am", alertmanager, ends_after=3600)
    c1 = snapshot("am-compute-1", starts_at=now - 120, summary="am-compute-1 is down")
    c2 = snapshot("am-compute-2", starts_at=now - 60)
    am.send(notification(receiver="am", alerts=(c1, c2), created_at=now))
    alerts = listed(alertmanager)
    assert {"am-compute-1", "am-compute-2"} <= set(alerts)
    one = alerts["am-compute-1"]
    assert one["labels"] == {"alertname": "HostDown", "host": "am-compute-1", "role": "compute",
                             "severity": "critical"}
    assert one["annotations"] == {"summary": "am-compute-1 is down"}
    assert one["status"]["state"] == "active"
    assert one["generatorURL"] == c1.generator_url

    resolved = AlertSnapshot(c1.fingerprint, "resolved", c1.labels, c1.annotations, c1.starts_at, now - 1,
                             c1.generator_url)
    am.send(notification(receiver="am", event="resolve", alerts=(resolved,), created_at=now, nid="n-2"))
    alerts = listed(alertmanager)
    assert "am-compute-1" not in alerts and "am-compute-2" in alerts


def test_an_alert_alertmanager_refuses_is_not_retried(alertmanager):
    no_labels = AlertSnapshot("fp-empty", "firing", (("host", ""),), (), time.time())
    with pytest.raises(DeliveryError) as err:
        AlertmanagerReceiver("am", alertmanager).send(notification(receiver="am", alerts=(no_labels,)))
    assert not err.value.retryable and "HTTP 400" in err.value.reason
