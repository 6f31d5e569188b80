"""The guide's compute-node failure and maintenance against the real lab, in one episode: nova-compute is stopped
for real once (`openstack-lab.sh stop nova-compute`, holding the lab exclusively) and started again once, and
everything that must see it happens inside that one episode (each stop costs nova's service_down_time and a
restart of 40-55 s, so one episode instead of three keeps CI short):

- alerting (issue 7): with a maintenance window on the lab's compute node, its real process check turns CRITICAL
  and the alert is muted and marked as in maintenance while another compute node's alert pages; after the start
  the check recovers and the muted alert resolves without a page;
- heartbeat check (issue 5): os-compute-services, polled at a check interval, is CRITICAL within two intervals
  after nova marks the service down (its last heartbeat + service_down_time from the lab's nova.conf), and OK
  again after the start;
- instance probe (issue 6): once nova sees the node down, the probe fails at wait-active with the scheduler's
  "No valid host", and leaves no server behind.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone

import pytest

from stackwatch.alerting.runtime import AlertingRuntime
from stackwatch.checks import get_check
from stackwatch.checks.probes import core, probe_class
from stackwatch.checks.probes.service import connect_probe_api, run_probe
from stackwatch.config import build_config
from stackwatch.model import CheckResult, State
from stackwatch.store.sqlite import open_store
from tests.alerting.conftest import sink  # noqa: F401 (fixture)
from tests.lab import lab_faults, openstack_lab  # noqa: F401 (fixtures)
from tests.openstack.lab_support import ensure_probe_project, lab_daemon, lab_environ, probe_config, wait_until

pytestmark = [pytest.mark.timeout(900),
              pytest.mark.filterwarnings("ignore::DeprecationWarning:openstack"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack"),
              pytest.mark.filterwarnings("ignore::ResourceWarning")]

CHECK_INTERVAL = 10.0        # how often the heartbeat is polled, as a scheduler would run it


def check(name: str, **options):
    plugin = get_check(name)
    return plugin(plugin.Options(**options))


def run_until(run, state: State, timeout: float, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    outcome = run()
    while outcome.state is not state:
        assert time.monotonic() < deadline, f"still {outcome.state.name}: {outcome.summary}"
        time.sleep(interval)
        outcome = run()
    return outcome


def _utc(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "")).replace(tzinfo=timezone.utc).timestamp()


def compute_state(lab) -> str:
    rows = lab.openstack("compute", "service", "list", "--service", "nova-compute", as_json=True)
    return rows[0]["State"] if rows else ""


def paging_config(tmp_path, sink_url: str):
    raw = {"data_dir": str(tmp_path),
           "inventory": {"hosts": [{"name": "lab", "address": "127.0.0.1", "roles": ["compute"]},
                                   {"name": "compute-2", "address": "10.0.0.12", "roles": ["compute"]}]},
           "alerting": {"rules": [{"name": "ProcessDown", "check": "proc-*", "severity": "critical"}],
                        "receivers": [{"name": "ops", "type": "webhook", "url": sink_url}],
                        "route": {"receiver": "ops", "group_by": ["alertname", "role"], "group_wait": "0s",
                                  "group_interval": "1s"}}}
    return build_config(raw, tmp_path / "config.yaml", environ={})


def test_nova_compute_down_episode(lab_faults, tmp_path, sink):  # noqa: F811
    lab = lab_faults
    down_time = float(lab.nova("DEFAULT", "service_down_time", "60") or 60)
    config = paging_config(tmp_path, sink.url)
    procs = check("procs", process="nova-compute", critical="1:")
    store = open_store(config.database_path, config.metrics)
    paging = AlertingRuntime.build(config, store)
    paging.start()
    with lab_environ(lab):
        ensure_probe_project(lab)
        probes = probe_config(step_timeout=60)
        heartbeat = check("os-compute-services", binary="nova-compute")   # one instance, as the scheduler keeps
        try:
            assert run_until(procs.run, State.OK, 120).state is State.OK      # a healthy lab runs nova-compute
            first = heartbeat.run()
            assert first.state is State.OK, first.summary
            now = time.time()
            window = paging.pager.silences.add_maintenance(["lab"], [], now, now + 3600, "alice",
                                                           "migrate instances, stop nova-compute", now)
            lab_daemon(lab, "stop", "nova-compute")
            try:
                # -- alerting: the process is gone; the node in maintenance is muted and marked, the other pages
                down = run_until(procs.run, State.CRITICAL, 60)
                t = time.time()
                store.checks.record(CheckResult("lab", "proc-nova-compute", down.state, down.summary, t))
                store.checks.record(CheckResult("compute-2", "proc-nova-compute", State.CRITICAL, "0 processes", t))
                paging.tick(t)
                (page,) = sink.wait_for(1)
                assert [a["labels"]["host"] for a in page["alerts"]] == ["compute-2"]
                marks = {a.label("host"): a.muted for a in store.alerts.active()}
                assert marks == {"lab": f"maintenance:{window.id}", "compute-2": ""}

                # -- heartbeat: CRITICAL within two check intervals after nova marks the service down
                last_beat = _last_heartbeat(lab)
                marked_down = last_beat + down_time
                deadline = marked_down + 2 * CHECK_INTERVAL
                outcome = heartbeat.run()
                while outcome.state is not State.CRITICAL:
                    assert time.time() < deadline, (f"still {outcome.state.name} two check intervals after nova "
                                                    f"marked nova-compute down: {outcome.summary}")
                    time.sleep(CHECK_INTERVAL)
                    outcome = heartbeat.run()
                print(f"heartbeat CRITICAL {time.time() - marked_down:+.1f}s after nova marked nova-compute down "
                      f"(service_down_time {down_time:g}s, check interval {CHECK_INTERVAL:g}s)")
                assert "1 down: nova-compute@" in outcome.summary

                # -- instance probe: the scheduler has no host
                wait_until("nova to see nova-compute down", lambda: compute_state(lab) == "down", 180, 5)
                result = run_probe("instance", probes, tmp_path)
            finally:
                lab_daemon(lab, "start", "nova-compute")
            probe = core.evaluate(result, 600)
            assert probe.state is State.CRITICAL
            assert probe.summary.startswith("step wait-active failed"), probe.summary
            assert "No valid host" in probe.summary and result.cleanup_errors == ()
            api = connect_probe_api(probes)
            left = [n for _id, n in probe_class("instance")(api, probes.probes).list_resources()]
            assert core.resource_name("instance", result.run_id) not in left

            # -- after the start: heartbeat OK, process OK, the muted alert resolves without a page
            assert run_until(heartbeat.run, State.OK, 120, CHECK_INTERVAL / 2).summary == "1 of 1 services up"
            after = run_until(procs.run, State.OK, 120)
            t = time.time() + 2
            store.checks.record(CheckResult("lab", "proc-nova-compute", after.state, after.summary, t))
            store.checks.record(CheckResult("compute-2", "proc-nova-compute", State.OK, "1 process", t))
            paging.tick(t)
            bodies = sink.wait_for(2)
            assert bodies[1]["status"] == "resolved"
            assert [a["labels"]["host"] for a in bodies[1]["alerts"]] == ["compute-2"]   # lab was never paged
            assert store.alerts.active() == []
            wait_until("nova-compute up again", lambda: compute_state(lab) == "up", 180, 5)
        finally:
            paging.stop()
            store.close()


def _last_heartbeat(lab) -> float:
    """When nova last heard from nova-compute (its services' updated_at, UTC)."""
    rows = lab.openstack("compute", "service", "list", "--service", "nova-compute", as_json=True)
    assert rows, "nova lists no nova-compute"
    return max(_utc(r["Updated At"]) for r in rows)
