"""The platform as `serve` builds it (Runtime): check results recorded through it, the scheduled
evaluation job, the pager and the outbox started with the platform deliver a page to a real HTTP server;
absence rules on log feeds and notification consumers."""

from __future__ import annotations

import time

from stackwatch.alerting.config import AbsentSpec, RuleSpec
from stackwatch.alerting.logwatch import LogWatch
from stackwatch.alerting.service import AlertService
from stackwatch.config import build_config
from stackwatch.model import CheckResult, State
from stackwatch.rsyslog.record import LogRecord
from stackwatch.runtime import Runtime


def test_runtime_pages_through_its_outbox(tmp_path, sink):
    raw = {"data_dir": str(tmp_path),
           "inventory": {"hosts": [{"name": "compute-1", "address": "10.0.0.11", "roles": ["compute"]}]},
           "checks": {"processes": {}},
           "alerting": {"rules": [{"name": "ProcessDown", "check": "proc-*", "severity": "critical"}],
                        "receivers": [{"name": "ops", "type": "webhook", "url": sink.url}],
                        "route": {"receiver": "ops", "group_by": ["alertname"], "group_wait": "0s"}}}
    config = build_config(raw, tmp_path / "config.yaml", environ={})
    rt = Runtime.build(config)
    try:
        rt.paging.start()
        now = time.time()
        rt.record_check(CheckResult("compute-1", "proc-nova-compute", State.CRITICAL, "0 processes", now))
        rt.paging.tick(now)
        (body,) = sink.wait_for(1)
        assert body["alerts"][0]["labels"]["role"] == "compute"      # inventory labels on the alert
        assert body["externalURL"] == "" and body["status"] == "firing"
    finally:
        rt.stop()


def record(host, service):
    return LogRecord(None, host, service, "", None, "INFO", None, None, None, None, None, None, "hello", None, "x")


def test_absent_log_feed_and_consumer(store):
    rules = (RuleSpec(name="LogsSilent", severity="warning", for_=0,
                      absent=AbsentSpec("log", "compute-*", "nova", 600)),
             RuleSpec(name="ConsumerSilent", severity="critical", for_=0,
                      absent=AbsentSpec("consumer", "region-*", for_=900)))
    from stackwatch.alerting.config import AlertingConfig

    watch = LogWatch(rules)
    assert watch.active                           # ingest feeds it for the absence rule alone
    svc = AlertService(AlertingConfig(rules=rules), store, watch, deployments=["region-one"])
    watch.observe(record("compute-1", "nova"), 1000.0)
    watch.observe(record("compute-2", "nova"), 1000.0)
    watch.observe(record("compute-1", "neutron"), 1000.0)
    svc.evaluate_once(1100.0)
    assert store.alerts.active() == []
    watch.observe(record("compute-2", "nova"), 1500.0)
    svc.evaluate_once(1700.0)                     # compute-1's nova feed silent for 700 s
    assert [(a.rule, a.label("host"), a.label("service")) for a in store.alerts.active()] == [
        ("LogsSilent", "compute-1", "nova")]
    svc.evaluate_once(2100.0)                     # region-one never heard from since the start (1100)
    got = {(a.rule, a.label("deployment") or a.label("host")) for a in store.alerts.active()}
    assert ("ConsumerSilent", "region-one") in got
