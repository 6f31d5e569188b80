"""Coverage verdicts from facts (pure): checks planned or not, fresh or stale, logs and metrics arriving,
silent hosts (the dead man's switch), gaps per kind, the gauges and the exit code."""

from __future__ import annotations

import ast
import json
import pathlib

import pytest

from stackwatch.coverage.assess import (
    AMBER, GREEN, IN_PROCESS, NRPE, RED, Planned, Policy, assess, expected_services, samples,
)
from stackwatch.inventory import DEFAULT_ROLE_PROCESSES, Host, Inventory, Role
from stackwatch.model import State

NOW = 1_700_000_000.0
ROLES = {name: Role(name, procs) for name, procs in DEFAULT_ROLE_PROCESSES.items()}
ROLES["monitoring"] = Role("monitoring", ("stackwatch",))
HOST_CHECKS = ("disk-root", "load")
POLICY = Policy(stale_intervals=3, logs_within=900, metrics_within=300, silent_after=600)


def inventory(*hosts: Host) -> Inventory:
    return Inventory(hosts, ROLES)


def compute(name="compute-1", address="10.0.0.21") -> Host:
    return Host(name, address, ("compute",))


def planned_all(host: Host, inv: Inventory, interval=60.0, source=IN_PROCESS) -> dict:
    return {s.check: Planned(source, interval) for s in expected_services(inv, host, HOST_CHECKS)}


def fresh_results(host: Host, inv: Inventory, age=30.0, state=State.OK) -> list:
    return [(host.name, s.check, state, NOW - age) for s in expected_services(inv, host, HOST_CHECKS)]


def run(inv, planned, results, logs=None, metrics=None, policy=POLICY):
    return assess(inv, HOST_CHECKS, planned, results, logs or {}, metrics or {}, policy, NOW)


def test_expected_services_are_role_processes_then_host_checks_each_once():
    host = Host("aio", "127.0.0.1", ("controller", "compute", "controller"))
    services = expected_services(inventory(host), host, HOST_CHECKS)
    names = [s.name for s in services]
    assert names == list(DEFAULT_ROLE_PROCESSES["controller"]) + ["nova-compute", "libvirtd", "disk-root", "load"]
    assert services[0].check == "proc-nova-api" and services[0].role == "controller"
    assert services[-1].role == "host" and services[-1].check == "load"


def test_everything_fresh_is_green_and_exit_zero():
    host = compute()
    inv = inventory(host)
    report = run(inv, {host.name: planned_all(host, inv)}, fresh_results(host, inv),
                 logs={host.name: NOW - 60}, metrics={host.name: NOW - 15})
    (h,) = report.hosts
    assert [r.verdict for r in h.rows] == ["covered"] * 4
    assert h.level == GREEN and not h.silent and h.reason == ""
    assert dict(h.gaps) == {"check": 0, "stale": 0, "logs": 0, "metrics": 0}
    assert report.exit_code == 0 and report.counts() == {RED: 0, AMBER: 0, GREEN: 4}


def test_a_service_without_a_check_is_red():
    host = compute()
    inv = inventory(host)
    planned = planned_all(host, inv)
    del planned["proc-libvirtd"]
    results = [r for r in fresh_results(host, inv) if r[1] != "proc-libvirtd"]
    report = run(inv, {host.name: planned}, results, logs={host.name: NOW}, metrics={host.name: NOW})
    (h,) = report.hosts
    row = next(r for r in h.rows if r.service == "libvirtd")
    assert (row.verdict, row.level, row.source, row.check) == ("no check", RED, None, "proc-libvirtd")
    assert h.rows[0] is row                                   # gaps first
    assert dict(h.gaps)["check"] == 1 and h.level == RED and "1 service without a check" in h.reason
    assert report.exit_code == 2


@pytest.mark.parametrize("age, verdict, level", [
    (None, "no result", RED),
    (60 * 3 + 1, "stale", RED),      # older than 3 intervals
    (60 * 3, "covered", GREEN),      # exactly 3 intervals: still fresh
    (5, "covered", GREEN),
])
def test_result_freshness_against_three_intervals(age, verdict, level):
    host = compute()
    inv = inventory(host)
    results = [r for r in fresh_results(host, inv) if r[1] != "proc-nova-compute"]
    if age is not None:
        results.append((host.name, "proc-nova-compute", State.CRITICAL, NOW - age))
    report = run(inv, {host.name: planned_all(host, inv)}, results, logs={host.name: NOW}, metrics={host.name: NOW})
    row = next(r for r in report.hosts[0].rows if r.service == "nova-compute")
    assert (row.verdict, row.level) == (verdict, level)
    assert dict(report.hosts[0].gaps)["stale"] == (1 if level == RED else 0)
    if age is not None:
        assert row.state is State.CRITICAL and row.age == age   # coverage is not health: a CRITICAL is covered


def test_no_logs_and_stale_metrics_are_amber_and_counted_once_per_host():
    host = compute()
    inv = inventory(host)
    report = run(inv, {host.name: planned_all(host, inv)}, fresh_results(host, inv),
                 logs={host.name: NOW - 901}, metrics={host.name: NOW - 301})
    (h,) = report.hosts
    assert {r.level for r in h.rows} == {AMBER} and {r.verdict for r in h.rows} == {"no logs"}
    assert dict(h.gaps) == {"check": 0, "stale": 0, "logs": 1, "metrics": 1}
    assert "no logs within 15m" in h.reason and "no metrics within 5m" in h.reason
    assert report.exit_code == 1


def test_logs_are_expected_only_from_hosts_of_the_logging_roles():
    host = Host("mon", "10.0.0.9", ("monitoring",))
    inv = inventory(host)
    report = run(inv, {host.name: planned_all(host, inv)}, fresh_results(host, inv), metrics={host.name: NOW})
    (h,) = report.hosts
    assert not h.logs_expected and dict(h.gaps)["logs"] == 0 and h.level == GREEN


def test_a_host_that_stops_reporting_is_silent():
    host = compute()
    inv = inventory(host)
    report = run(inv, {host.name: planned_all(host, inv)}, fresh_results(host, inv, age=700),
                 logs={host.name: NOW - 650}, metrics={host.name: NOW - 601})
    (h,) = report.hosts
    assert h.silent and h.level == RED and h.reason.startswith("silent for 10m")
    assert {r.verdict for r in h.rows} == {"host silent"}
    gauges = {(s.key.name, s.key.label("kind")): s.value for s in samples(report)}
    assert gauges[("stackwatch_host_silent", "")] == 1.0


def test_one_signal_is_enough_to_not_be_silent():
    host = compute()
    inv = inventory(host)
    report = run(inv, {host.name: planned_all(host, inv)}, fresh_results(host, inv, age=3600),
                 logs={host.name: NOW - 30})
    (h,) = report.hosts
    assert not h.silent and dict(h.gaps)["stale"] == 4 and dict(h.gaps)["metrics"] == 1


def test_a_host_never_heard_of_is_silent_and_uncovered():
    remote = compute("compute-9", "10.0.0.29")
    inv = inventory(remote)
    report = run(inv, {}, [])
    (h,) = report.hosts
    assert h.silent and h.reason == "silent: no check result, log record or metric within 10m"
    assert dict(h.gaps) == {"check": 4, "stale": 0, "logs": 1, "metrics": 1}


def test_nrpe_served_checks_are_covered_without_a_result_here():
    host = compute()
    inv = inventory(host)
    report = run(inv, {host.name: planned_all(host, inv, source=NRPE)}, [], logs={host.name: NOW},
                 metrics={host.name: NOW})
    (h,) = report.hosts
    assert {(r.verdict, r.level, r.source) for r in h.rows} == {("via NRPE", GREEN, NRPE)}


def test_a_host_with_nothing_expected_is_shown():
    host = Host("bare", "10.0.0.5", ())
    inv = inventory(host)
    report = assess(inv, (), {}, [], {}, {"bare": NOW}, POLICY, NOW)
    (row,) = report.hosts[0].rows
    assert (row.verdict, row.level) == ("nothing expected", AMBER)


def test_hosts_and_rows_gaps_first():
    good, bad = compute("a-good"), compute("z-bad")
    inv = inventory(good, bad)
    planned = {good.name: planned_all(good, inv), bad.name: {}}
    report = run(inv, planned, fresh_results(good, inv) + fresh_results(bad, inv),
                 logs={good.name: NOW, bad.name: NOW}, metrics={good.name: NOW, bad.name: NOW})
    assert [h.host for h in report.hosts] == ["z-bad", "a-good"]
    assert [r.level for r in report.rows] == [RED] * 4 + [GREEN] * 4


def test_gauges_every_host_and_kind_with_zeros():
    host = compute()
    inv = inventory(host)
    report = run(inv, {host.name: planned_all(host, inv)}, fresh_results(host, inv),
                 logs={host.name: NOW}, metrics={host.name: NOW})
    gauges = {(s.key.name, tuple(s.key.labels)): s.value for s in samples(report)}
    assert gauges == {
        ("stackwatch_coverage_gaps", (("host", "compute-1"), ("kind", "check"))): 0.0,
        ("stackwatch_coverage_gaps", (("host", "compute-1"), ("kind", "stale"))): 0.0,
        ("stackwatch_coverage_gaps", (("host", "compute-1"), ("kind", "logs"))): 0.0,
        ("stackwatch_coverage_gaps", (("host", "compute-1"), ("kind", "metrics"))): 0.0,
        ("stackwatch_host_silent", (("host", "compute-1"),)): 0.0,
    }
    assert all(s.timestamp == NOW for s in samples(report))


def test_json_form():
    host = compute()
    inv = inventory(host)
    report = run(inv, {host.name: planned_all(host, inv)}, fresh_results(host, inv), metrics={host.name: NOW})
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["level"] == AMBER and doc["counts"] == {RED: 0, AMBER: 4, GREEN: 0}
    (h,) = doc["hosts"]
    assert h["host"] == "compute-1" and h["gaps"]["logs"] == 1 and h["logs_age"] is None
    assert h["services"][0]["state"] == "OK" and h["services"][0]["age"] == 30.0


def test_the_core_is_pure():
    root = pathlib.Path(__file__).parents[2] / "src" / "stackwatch" / "coverage"
    for name in ("assess.py", "config.py"):
        tree = ast.parse((root / name).read_text())
        names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert all(n in ("__future__", "dataclasses", "typing") or n.startswith("stackwatch.") for n in names), names
        assert not {n for n in names if n.startswith("stackwatch.")} - {
            "stackwatch.inventory", "stackwatch.model", "stackwatch.states", "stackwatch.config_reader",
            "stackwatch.coverage.assess"}
        assert "stdlib only" in ast.get_docstring(tree)
