"""The issue's scenario, end to end through the real pieces: check results in the SQLite store, rule
evaluation, routing and grouping, the real outbox and webhook receiver, and a real HTTP server receiving
the Alertmanager-shaped payloads.

Two compute nodes' checks fail together -> one grouped page; they recover -> one resolved page; a
maintenance window on one -> only the other pages (and the first is marked); a restart in the middle,
even between handing a page to the outbox and logging it -> no duplicate; ack -> an acknowledge and no
repeat; resolve -> one resolved notification.
"""

from __future__ import annotations

import time

from stackwatch.alerting.outbox import Outbox, RetryPolicy
from stackwatch.alerting.pager import Pager
from stackwatch.alerting.service import AlertService, host_labels_of
from stackwatch.config import build_config
from stackwatch.model import CheckResult, State
from stackwatch.store.sqlite import open_store
from stackwatch.store.sqlite.outbox import SqliteOutboxStore


def scenario_config(tmp_path, url):
    raw = {
        "data_dir": str(tmp_path),
        "inventory": {"hosts": [
            {"name": "ctl", "address": "127.0.0.1", "roles": ["controller"]},
            {"name": "compute-1", "address": "10.0.0.11", "roles": ["compute"]},
            {"name": "compute-2", "address": "10.0.0.12", "roles": ["compute"]}]},
        "alerting": {
            "rules": [{"name": "ProcessDown", "check": "proc-*", "state": "CRITICAL", "for": "1m",
                       "max_check_attempts": 2, "severity": "critical"}],
            "receivers": [{"name": "ops", "type": "webhook", "url": url}],
            "route": {"receiver": "ops", "group_by": ["alertname", "role"], "group_wait": "30s",
                      "group_interval": "1m", "repeat_interval": "10m"},
            "external_url": "http://stackwatch.example",
        },
    }
    return build_config(raw, tmp_path / "config.yaml", environ={})


class Stackwatch:
    """The alerting part of one stackwatch process: store, evaluation, pager and outbox."""

    def __init__(self, config):
        self.config = config
        self.store = open_store(config.database_path, config.metrics)
        self.outbox = Outbox(SqliteOutboxStore(self.store.db), config.alerting.receivers,
                             RetryPolicy(initial_backoff=0.05, max_backoff=0.1))
        self.outbox.start()
        self.service = AlertService(config.alerting, self.store, host_labels=host_labels_of(config.inventory))
        self.pager = Pager(config.alerting, self.store, self.outbox,
                           {h.name: h.roles for h in config.inventory.hosts})

    def check(self, host, state, now):
        self.store.checks.record(CheckResult(host, "proc-nova-compute", state, f"{state.name}: 0 processes", now))

    def tick(self, now):
        self.service.evaluate_once(now)
        return self.pager.run_once(now)

    def settle(self):
        """Wait until the outbox has delivered everything handed to it."""
        deadline = time.monotonic() + 15
        while self.outbox.deliveries(state="pending") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not self.outbox.deliveries(state="pending"), "the outbox did not deliver"

    def stop(self):
        self.outbox.stop()
        self.store.close()


def firing(body):
    return sorted(a["labels"]["host"] for a in body["alerts"] if a["status"] == "firing")


def test_grouped_page_maintenance_restart_ack_resolve(tmp_path, sink):
    config = scenario_config(tmp_path, sink.url)
    sw = Stackwatch(config)
    t = float(int(time.time()))

    # 1. both compute nodes fail together: SOFT on the first result, HARD on the second, firing after for: 1m
    for host in ("compute-1", "compute-2"):
        sw.check(host, State.CRITICAL, t)
    assert sw.tick(t).pages == []                     # soft state: no alert yet
    for host in ("compute-1", "compute-2"):
        sw.check(host, State.CRITICAL, t + 15)
    sw.tick(t + 15)                                   # hard: pending
    assert {a.state.value for a in sw.store.alerts.active()} == {"pending"}
    for host in ("compute-1", "compute-2"):
        sw.check(host, State.CRITICAL, t + 75)
    assert sw.tick(t + 75).pages == []                # firing, but group_wait holds the page
    for host in ("compute-1", "compute-2"):
        sw.check(host, State.CRITICAL, t + 105)
    plan = sw.tick(t + 105)
    assert len(plan.pages) == 1                       # ONE page for the group
    sw.settle()
    (page,) = sink.wait_for(1)
    assert page["status"] == "firing" and page["receiver"] == "ops"
    assert page["groupLabels"] == {"alertname": "ProcessDown", "role": "compute"}
    assert firing(page) == ["compute-1", "compute-2"]
    assert sw.tick(t + 120).pages == []               # nothing new, repeat_interval not reached

    # 2. both recover: one resolved notification
    for host in ("compute-1", "compute-2"):
        sw.check(host, State.OK, t + 180)
    sw.tick(t + 180)
    sw.settle()
    bodies = sink.wait_for(2)
    assert bodies[1]["status"] == "resolved" and len(bodies[1]["alerts"]) == 2
    assert sw.tick(t + 300).pages == []

    # 3. compute-1 goes into maintenance (the guide's planned compute-node work); both fail again
    window = sw.pager.silences.add_maintenance(["compute-1"], [], t + 400, t + 4000, "alice",
                                               "migrate instances, stop nova-compute", t + 400)
    base = t + 400
    for i, dt in enumerate((0, 15, 75, 105)):
        for host in ("compute-1", "compute-2"):
            sw.check(host, State.CRITICAL, base + dt)
        plan = sw.tick(base + dt)
    assert len(plan.pages) == 1
    sw.settle()
    bodies = sink.wait_for(3)
    assert firing(bodies[2]) == ["compute-2"]         # only the node not in maintenance pages
    marked = {a.label("host"): a.muted for a in sw.store.alerts.active()}
    assert marked == {"compute-1": f"maintenance:{window.id}", "compute-2": ""}

    # 4. restart in the middle. First a crash between handing a page to the outbox and logging it:
    #    the repeat is submitted, then the process dies before the notification log is written.
    base += 105
    repeat_at = base + 600
    for host in ("compute-1", "compute-2"):
        sw.check(host, State.CRITICAL, repeat_at)
    sw.service.evaluate_once(repeat_at)
    views, nflog = sw.pager.views(repeat_at)
    crashed = sw.pager.dispatcher.plan(views, nflog, repeat_at)
    assert len(crashed.pages) == 1
    assert sw.outbox.submit(crashed.pages[0].notification) is True
    sw.settle()
    sink.wait_for(4)
    sw.stop()

    sw = Stackwatch(config)                           # the restart recomputes the same page ...
    plan = sw.tick(repeat_at)
    assert [p.notification.notification_id for p in plan.pages] == [crashed.pages[0].notification.notification_id]
    sw.settle()
    sw.tick(repeat_at + 10)                           # ... and later passes find it logged
    sw.settle()
    time.sleep(0.3)
    assert len(sink.bodies) == 4                      # the outbox did not send it twice

    # 5. ack compute-2's alert: one acknowledge page, then no repeat after repeat_interval
    (c2,) = [a for a in sw.store.alerts.active() if a.label("host") == "compute-2"]
    sw.pager.acks.add(c2.fingerprint, "bob", "on it", repeat_at + 20)
    sw.check("compute-2", State.CRITICAL, repeat_at + 30)
    sw.tick(repeat_at + 30)
    sw.settle()
    bodies = sink.wait_for(5)
    assert bodies[4]["status"] == "firing" and firing(bodies[4]) == ["compute-2"]
    for later in (repeat_at + 700, repeat_at + 1400):
        sw.check("compute-2", State.CRITICAL, later)
        sw.check("compute-1", State.CRITICAL, later)
        assert sw.tick(later).pages == []             # acknowledged: no repeat
    outbox_events = [d.event for d in sw.outbox.deliveries()]
    assert outbox_events.count("acknowledge") == 1

    # 6. resolve: one resolved notification, then silence
    sw.check("compute-2", State.OK, repeat_at + 1500)
    sw.tick(repeat_at + 1500)
    sw.settle()
    bodies = sink.wait_for(6)
    assert bodies[5]["status"] == "resolved"
    assert [a["labels"]["host"] for a in bodies[5]["alerts"]] == ["compute-2"]
    for later in (repeat_at + 1600, repeat_at + 2500):
        assert sw.tick(later).pages == []
    sw.settle()
    assert len(sink.bodies) == 6
    sent = sw.pager.nflog.sent(fingerprint=c2.fingerprint)
    # the alert's page history: first episode (page, resolved), second (page, repeat, ack, resolved)
    assert [s["event"] for s in reversed(sent)] == ["trigger", "resolve", "trigger", "trigger", "acknowledge",
                                                   "resolve"]
    sw.stop()
