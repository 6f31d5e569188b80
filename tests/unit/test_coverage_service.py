"""Coverage from a real SQLite store (check results, metric samples, log records written through the stores'
public methods), the coverage:evaluate job's gauges, the shipped CoverageGap / HostSilent rules firing on
them, NRPE-served checks when a nagios: section exists, and the `coverage` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from stackwatch.cli import cli
from stackwatch.config import ConfigError, build_config
from stackwatch.coverage.service import CoverageService, host_check_names
from stackwatch.model import CheckResult, Sample, SeriesKey, State
from stackwatch.runtime import Runtime
from stackwatch.store.interfaces import Event
from tests.conftest import ROOT

NOW = 1_700_000_000.0


def raw_config(tmp_path: Path, **extra) -> dict:
    """h1 is this machine (role monitoring: no logs expected of it), compute-1 a remote compute node."""
    raw = {
        "data_dir": str(tmp_path / "data"),
        "hostname": "h1",
        "inventory": {"roles": {"monitoring": {"processes": ["stackwatch"]}},
                      "hosts": [{"name": "h1", "address": "127.0.0.1", "roles": ["monitoring"]},
                                {"name": "compute-1", "address": "10.0.0.21", "roles": ["compute"]}]},
        "checks": {"host": [{"type": "disk", "name": "disk-root", "options": {"path": "/"}}]},
        "collectors": [],
    }
    raw.update(extra)
    return raw


def make(tmp_path, **extra):
    return build_config(raw_config(tmp_path, **extra), tmp_path / "config.yaml", environ={})


def feed_h1(store, now=NOW):
    """h1's checks ran 20 s ago and its host metrics arrived 10 s ago."""
    for check in ("disk-root", "proc-stackwatch"):
        store.checks.record(CheckResult("h1", check, State.OK, "fine", now - 20))
    store.metrics.write([Sample(SeriesKey.of("stackwatch_host_load1", {"host": "h1"}), now - 10, 0.5)])


def test_a_local_host_fed_is_covered_and_a_remote_one_is_not(tmp_path, store):
    config = make(tmp_path)
    feed_h1(store)
    store.events.add([Event(NOW - 60, "log", "nova-compute started", host="compute-1", service="nova")])
    report = CoverageService(config, store).report(NOW)
    by_host = {h.host: h for h in report.hosts}
    h1, c1 = by_host["h1"], by_host["compute-1"]
    assert h1.level == "green" and [r.service for r in h1.rows] == ["disk-root", "stackwatch"]
    assert h1.rows[0].source == "in-process" and h1.rows[0].age == 20 and h1.metrics_age == 10
    assert c1.level == "red" and not c1.silent                     # its logs arrive, nothing checks it
    assert c1.logs_age == 60 and dict(c1.gaps) == {"check": 3, "stale": 0, "logs": 0, "metrics": 1}
    assert {r.verdict for r in c1.rows} == {"no check"}
    assert report.hosts[0].host == "compute-1" and report.exit_code == 2


def test_derived_series_are_not_the_hosts_metrics(tmp_path, store):
    config = make(tmp_path)
    for check in ("disk-root", "proc-stackwatch"):
        store.checks.record(CheckResult("h1", check, State.OK, "fine", NOW - 20))
    store.metrics.write([
        Sample(SeriesKey.of("stackwatch_check_status", {"host": "h1", "check": "disk-root"}), NOW - 5, 0.0),
        Sample(SeriesKey.of("stackwatch_coverage_gaps", {"host": "h1", "kind": "check"}), NOW - 5, 0.0),
        Sample(SeriesKey.of("stackwatch_log_records_total", {"host": "h1", "service": "nova"}), NOW - 5, 3.0),
    ])
    h1 = next(h for h in CoverageService(config, store).report(NOW).hosts if h.host == "h1")
    assert h1.metrics_age is None and dict(h1.gaps)["metrics"] == 1 and h1.level == "amber"


def test_old_logs_and_other_hosts_logs_do_not_count(tmp_path, store):
    config = make(tmp_path)
    store.events.add([Event(NOW - 3600, "log", "long ago", host="compute-1"),
                      Event(NOW - 5, "log", "someone else", host="compute-2"),
                      Event(NOW - 5, "notification", "compute.instance.create.end", host="compute-1")])
    c1 = next(h for h in CoverageService(config, store).report(NOW).hosts if h.host == "compute-1")
    assert c1.logs_age is None and dict(c1.gaps)["logs"] == 1 and c1.silent


class BrokenEvents:
    def search(self, *args, **kwargs):
        raise ConnectionError("elasticsearch at 127.0.0.1:9 refused the connection")


def test_an_unreadable_log_store_is_said_not_hidden(tmp_path, store):
    config = make(tmp_path)
    feed_h1(store)
    report = CoverageService(config, store, BrokenEvents()).report(NOW)
    assert report.problems == ("cannot read the log store: ConnectionError: elasticsearch at 127.0.0.1:9 "
                               "refused the connection",)
    c1 = next(h for h in report.hosts if h.host == "compute-1")
    assert dict(c1.gaps)["logs"] == 1                              # never a wrong OK


def test_nrpe_served_checks_cover_remote_hosts_with_a_nagios_section(tmp_path, store):
    config = make(tmp_path, nagios={"server": "10.0.0.5"})
    feed_h1(store)
    store.events.add([Event(NOW - 60, "log", "x", host="compute-1")])
    store.metrics.write([Sample(SeriesKey.of("stackwatch_host_load1", {"host": "compute-1"}), NOW - 10, 0.5)])
    report = CoverageService(config, store).report(NOW)
    c1 = next(h for h in report.hosts if h.host == "compute-1")
    assert {(r.service, r.source, r.verdict) for r in c1.rows} == {
        ("nova-compute", "nrpe", "via NRPE"), ("libvirtd", "nrpe", "via NRPE"), ("disk-root", "nrpe", "via NRPE")}
    h1 = next(h for h in report.hosts if h.host == "h1")
    assert {r.source for r in h1.rows} == {"in-process"}           # run here: results visible here


def test_host_checks_are_the_per_host_ones(tmp_path):
    config = make(tmp_path, checks={"host": [{"type": "disk", "name": "disk-root", "options": {"path": "/"}},
                                             {"type": "load"},
                                             {"type": "procs", "name": "proc-ntpd", "options": {"process": "ntpd"}},
                                             {"type": "backup", "options": {"directory": str(tmp_path)}}],
                                    "cloud": [{"type": "os-compute-services"}]})
    # the cloud's own checks (checks.cloud) judge no one host: no host is expected to have them
    assert host_check_names(config) == ["disk-root", "load", "proc-ntpd", "backup"]
    assert [s.name for s in config.cloud_checks] == ["os-compute-services"]


def test_config_section_is_validated(tmp_path):
    config = make(tmp_path, coverage={"interval": "30s", "stale_after": 2, "silent_after": "5m",
                                      "logs_from": ["compute"]})
    assert config.coverage.interval == 30 and config.coverage.policy.stale_intervals == 2
    assert config.coverage.policy.silent_after == 300 and config.coverage.policy.logs_from == ("compute",)
    with pytest.raises(ConfigError) as err:
        make(tmp_path, coverage={"logs_from": ["nope"], "silent_after": "soon", "stale_after": 0, "x": 1})
    text = str(err.value)
    for expected in ("coverage.logs_from: unknown role 'nope'", "coverage.silent_after: bad duration 'soon'",
                     "coverage.stale_after: must be at least 1", "coverage.x"):
        assert expected in text


def shipped_rules(*names: str) -> list[dict]:
    rules = yaml.safe_load((ROOT / "config.yaml").read_text())["alerting"]["rules"]
    chosen = [r for r in rules if r["name"] in names]
    assert [r["name"] for r in chosen] == list(names)
    return chosen


def test_the_job_writes_gauges_and_the_shipped_rules_fire(tmp_path):
    rules = [dict(r, **{"for": "0s"}) for r in shipped_rules("CoverageGap", "HostSilent")]
    config = make(tmp_path, alerting={"rules": rules})
    rt = Runtime.build(config)
    try:
        assert "coverage:evaluate" in rt.scheduler.stats
        feed_h1(rt.store)
        rt.coverage.evaluate_once(NOW)
        gaps = {(i.key.label("host"), i.key.label("kind")): v
                for i, _, v in rt.store.metrics.latest("stackwatch_coverage_gaps")}
        assert gaps[("compute-1", "check")] == 3 and gaps[("h1", "check")] == 0
        silent = {i.key.label("host"): v for i, _, v in rt.store.metrics.latest("stackwatch_host_silent")}
        assert silent == {"h1": 0.0, "compute-1": 1.0}
        rt.alerts.evaluate_once(NOW)
        firing = {(a.rule, a.label("host"), a.label("kind")) for a in rt.store.alerts.active()}
        assert ("HostSilent", "compute-1", "") in firing
        assert ("CoverageGap", "compute-1", "check") in firing and ("CoverageGap", "compute-1", "metrics") in firing
        assert not {f for f in firing if f[1] == "h1"}
        # compute-1 starts reporting: its logs arrive, HostSilent resolves
        rt.store.events.add([Event(NOW + 50, "log", "back", host="compute-1")])
        rt.coverage.evaluate_once(NOW + 60)
        rt.alerts.evaluate_once(NOW + 60)
        firing = {(a.rule, a.label("host")) for a in rt.store.alerts.active() if a.state.value == "firing"}
        assert ("HostSilent", "compute-1") not in firing and ("CoverageGap", "compute-1") in firing
    finally:
        rt.stop()


def write_config(tmp_path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw_config(tmp_path)))
    return path


def test_cli_table_json_host_and_exit_codes(tmp_path):
    path = write_config(tmp_path)
    config = build_config(raw_config(tmp_path), path, environ={})
    runner = CliRunner()
    missing = runner.invoke(cli, ["coverage", "--config", str(path)])
    assert missing.exit_code == 1 and "no database" in missing.output
    rt = Runtime.build(config)          # creates the database; the checks are not started
    try:
        import time
        feed_h1(rt.store, time.time())
    finally:
        rt.stop()
    table = runner.invoke(cli, ["coverage", "--config", str(path)])
    assert table.exit_code == 2, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["VERDICT", "HOST", "ROLE", "SERVICE", "CHECK", "RESULT", "LOGS", "METRICS", "WHY"]
    assert lines[1].split()[:9] == ["HOST", "SILENT", "compute-1", "host", "disk-root", "disk-root", "-", "none",
                                    "none"]
    assert lines[1].endswith("silent: no check result, log record or metric within 10m; no check is scheduled "
                             "for it (in-process or through NRPE)")
    h1_row = next(line for line in lines if " proc-stackwatch " in line).split()
    assert h1_row[:5] == ["ok", "h1", "monitoring", "stackwatch", "proc-stackwatch"] and h1_row[5] == "OK"
    assert h1_row[7:] == ["-", h1_row[8]] and h1_row[8].endswith("s")    # no logs expected; metrics seconds old
    assert "2 host(s), 5 service(s): 3 red, 0 amber, 2 green; silent: compute-1" in table.output
    only = runner.invoke(cli, ["coverage", "--config", str(path), "--host", "h1", "--json"])
    assert only.exit_code == 0, only.output
    doc = json.loads(only.output)
    assert [h["host"] for h in doc["hosts"]] == ["h1"] and doc["level"] == "green"
    unknown = runner.invoke(cli, ["coverage", "--config", str(path), "--host", "nope"])
    assert unknown.exit_code == 1 and "unknown host 'nope'" in unknown.output


def test_a_host_going_silent_is_logged_once(tmp_path, store, caplog):
    config = make(tmp_path)
    feed_h1(store)
    service = CoverageService(config, store)
    with caplog.at_level("INFO", logger="stackwatch.coverage.service"):
        service.evaluate_once(NOW)
        service.evaluate_once(NOW + 60)
        store.events.add([Event(NOW + 100, "log", "back", host="compute-1")])
        service.evaluate_once(NOW + 120)
    assert [r.getMessage() for r in caplog.records] == [
        "coverage: host compute-1 is silent: silent: no check result, log record or metric within 10m",
        "coverage: host compute-1 reports again"]


def test_a_log_seen_earlier_still_dates_the_silence_beyond_the_search_window(tmp_path, store):
    config = make(tmp_path)
    store.events.add([Event(NOW - 60, "log", "last words", host="compute-1")])
    service = CoverageService(config, store)
    assert next(h for h in service.report(NOW).hosts if h.host == "compute-1").logs_age == 60
    later = next(h for h in service.report(NOW + 3600).hosts if h.host == "compute-1")
    assert later.silent and later.logs_age == 3660 and later.reason.startswith("silent for 61m:")
    fresh = CoverageService(config, store)            # a new process (the CLI) knows only the window
    assert next(h for h in fresh.report(NOW + 3600).hosts if h.host == "compute-1").logs_age is None
