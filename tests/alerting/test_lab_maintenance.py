"""The guide's compute-node maintenance against the real lab: a maintenance window on the lab's compute node,
nova-compute stopped for real (`openstack-lab.sh stop nova-compute`), the real process check turns CRITICAL,
the alert is muted and marked as in maintenance while another compute node's alert pages; nova-compute
started again, the check recovers and the muted alert resolves without a page. Holds the lab exclusively
and always starts nova-compute again."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from stackwatch.alerting.runtime import AlertingRuntime
from stackwatch.checks import get_check
from stackwatch.config import build_config
from stackwatch.model import CheckResult, State
from stackwatch.store.sqlite import open_store
from tests.lab import SYSTEM_PATH, lab_faults, openstack_lab  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.timeout(600)]


def lab_script(lab, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(lab.dir / "openstack-lab.sh"), *args], capture_output=True, text=True, timeout=240,
                          env={"PATH": SYSTEM_PATH, "HOME": os.environ.get("HOME", "/root")})


def run_until(check, state: State, timeout: float):
    deadline = time.monotonic() + timeout
    outcome = check.run()
    while outcome.state is not state:
        assert time.monotonic() < deadline, f"the check still says {outcome.summary}"
        time.sleep(1)
        outcome = check.run()
    return outcome


def test_compute_node_maintenance_mutes_and_marks(lab_faults, tmp_path, sink):
    lab = lab_faults
    raw = {"data_dir": str(tmp_path),
           "inventory": {"hosts": [{"name": "lab", "address": "127.0.0.1", "roles": ["compute"]},
                                   {"name": "compute-2", "address": "10.0.0.12", "roles": ["compute"]}]},
           "alerting": {"rules": [{"name": "ProcessDown", "check": "proc-*", "severity": "critical"}],
                        "receivers": [{"name": "ops", "type": "webhook", "url": sink.url}],
                        "route": {"receiver": "ops", "group_by": ["alertname", "role"], "group_wait": "0s",
                                  "group_interval": "1s"}}}
    config = build_config(raw, tmp_path / "config.yaml", environ={})
    plugin = get_check("procs")
    procs = plugin(plugin.Options(process="nova-compute", critical="1:"))
    store = open_store(config.database_path, config.metrics)
    paging = AlertingRuntime.build(config, store)
    paging.start()
    try:
        before = run_until(procs, State.OK, 120)          # a healthy lab runs nova-compute
        now = time.time()
        window = paging.pager.silences.add_maintenance(["lab"], [], now, now + 3600, "alice",
                                                       "migrate instances, stop nova-compute", now)
        stopped = lab_script(lab, "stop", "nova-compute")
        try:
            assert stopped.returncode == 0, stopped.stdout + stopped.stderr
            down = run_until(procs, State.CRITICAL, 60)
            t = time.time()
            store.checks.record(CheckResult("lab", "proc-nova-compute", down.state, down.summary, t))
            # the other compute node's nova-compute is down too (its result as its agent would report it)
            store.checks.record(CheckResult("compute-2", "proc-nova-compute", State.CRITICAL, "0 processes", t))
            paging.tick(t)
            (page,) = sink.wait_for(1)
            assert [a["labels"]["host"] for a in page["alerts"]] == ["compute-2"]   # only the other pages
            marks = {a.label("host"): a.muted for a in store.alerts.active()}
            assert marks == {"lab": f"maintenance:{window.id}", "compute-2": ""}
        finally:
            started = lab_script(lab, "start", "nova-compute")
        assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
        after = run_until(procs, State.OK, 120)
        t = time.time() + 2
        store.checks.record(CheckResult("lab", "proc-nova-compute", after.state, after.summary, t))
        store.checks.record(CheckResult("compute-2", "proc-nova-compute", State.OK, "1 process", t))
        paging.tick(t)
        bodies = sink.wait_for(2)
        assert bodies[1]["status"] == "resolved"
        assert [a["labels"]["host"] for a in bodies[1]["alerts"]] == ["compute-2"]   # lab was never paged
        assert store.alerts.active() == []
        assert before.state is State.OK
    finally:
        paging.stop()
        store.close()
