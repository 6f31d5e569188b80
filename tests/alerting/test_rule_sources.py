"""Rule sources through the one rule interface: hysteresis, keep_firing_for, Nagios soft/hard states,
absence of data, and the service reading them from a real store (with inventory labels added)."""

from __future__ import annotations

from stackwatch.alerting.config import AbsentSpec, RuleSpec
from stackwatch.alerting.model import AlertState
from stackwatch.alerting.rules import absence_observations, check_observations, evaluate, metric_observations
from stackwatch.alerting.service import AlertService, host_labels_of
from stackwatch.config import build_config
from stackwatch.model import CheckResult, Sample, SeriesKey, State
from stackwatch.store.sqlite import open_store

LABELS = (("host", "h1"),)


def states(rule, values, times):
    prev, out = {}, []
    for v, t in zip(values, times):
        alerts, _ = evaluate(rule, metric_observations(rule, [(LABELS, v)]), prev, t)
        prev = {a.fingerprint: a for a in alerts if a.state in (AlertState.PENDING, AlertState.FIRING)}
        out.append(alerts[0].state.value if alerts else "none")
    return out


def test_hysteresis_resolves_only_below_the_resolve_threshold():
    rule = RuleSpec(name="Hot", severity="warning", for_=0, metric="t", op=">", threshold=90, resolve_threshold=80)
    assert states(rule, [95, 85, 81, 79, 85], [0, 10, 20, 30, 40]) == ["firing", "firing", "firing", "resolved", "none"]


def test_keep_firing_for_rides_out_flapping():
    rule = RuleSpec(name="Hot", severity="warning", for_=0, metric="t", op=">", threshold=90, keep_firing_for=60)
    assert states(rule, [95, 50, 95, 50, 50], [0, 10, 20, 30, 90]) == ["firing", "firing", "firing", "firing",
                                                                        "resolved"]


def test_check_soft_then_hard_after_max_check_attempts():
    rule = RuleSpec(name="Proc", severity="critical", for_=0, check="proc-*", max_check_attempts=3)
    obs = check_observations(rule, [("c1", "proc-nova-compute", State.CRITICAL, "0 procs", 2),
                                    ("c2", "proc-nova-compute", State.CRITICAL, "0 procs", 3)])
    assert [(dict(o.labels)["host"], o.active) for o in obs] == [("c1", False), ("c2", True)]
    assert "SOFT 2/3" in obs[0].description and "HARD" in obs[1].description


def test_absence_counts_from_start_for_never_seen_things():
    rule = RuleSpec(name="Silent", severity="warning", for_=0, absent=AbsentSpec("host", "*", for_=600))
    obs = absence_observations(rule, [((("host", "a"),), 1000.0), ((("host", "b"),), None)], now=1700.0, since=1500.0)
    assert [o.active for o in obs] == [True, False]
    assert "since stackwatch started" in obs[1].description


def test_service_reads_every_source_once_and_labels_hosts(tmp_path):
    raw = {"data_dir": str(tmp_path),
           "inventory": {"hosts": [{"name": "c1", "address": "10.0.0.1", "roles": ["compute"],
                                    "labels": {"region": "r1"}},
                                   {"name": "c2", "address": "10.0.0.2", "roles": ["compute"]}]},
           "alerting": {"rules": [
               {"name": "Load", "metric": "load1", "match": {"host": "c1"}, "op": ">", "threshold": 4},
               {"name": "ProcDown", "check": "proc-*", "max_check_attempts": 2, "severity": "critical"},
               {"name": "HostSilent", "absent": {"host": "c*", "for": "10m"}},
               {"name": "LoadMissing", "absent": {"metric": "load1", "for": "5m"}, "match": {"host": "c2"}},
           ]}}
    config = build_config(raw, tmp_path / "config.yaml", environ={})
    store = open_store(config.database_path, config.metrics)
    try:
        svc = AlertService(config.alerting, store, host_labels=host_labels_of(config.inventory))
        t = 10_000.0
        store.metrics.write([Sample(SeriesKey.of("load1", {"host": "c1"}), t, 9.0),
                             Sample(SeriesKey.of("load1", {"host": "c2"}), t, 9.0)])
        for attempt in range(2):
            store.checks.record(CheckResult("c1", "proc-nova-compute", State.CRITICAL, "0", t + attempt))
        store.checks.record(CheckResult("c2", "proc-nova-compute", State.OK, "1", t - 900))
        svc.evaluate_once(t + 60)
        got = {(a.rule, a.label("host")): a for a in store.alerts.active()}
        assert set(got) == {("Load", "c1"), ("ProcDown", "c1"), ("HostSilent", "c2")}
        assert got[("Load", "c1")].label("region") == "r1" and got[("Load", "c1")].label("role") == "compute"
        svc.evaluate_once(t + 400)    # load1{host=c2} silent for 400 s > 5 min
        got = {(a.rule, a.label("host")) for a in store.alerts.active()}
        assert ("LoadMissing", "c2") in got
    finally:
        store.close()
