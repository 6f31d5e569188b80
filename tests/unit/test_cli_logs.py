"""The logs commands through click's runner, on real fixture files and a real SQLite store."""

import json

import pytest
import yaml
from click.testing import CliRunner

from stackwatch.cli import cli
from tests.conftest import ROOT, minimal_raw

FIXTURES = ROOT / "tests" / "fixtures" / "logs"
COMPUTE = FIXTURES / "hotsos-yoga" / "nova-compute.log.1.head"
SCHEDULER = FIXTURES / "os-log-merger-2015" / "hp-ms-01-c29-2015-10" / "nova" / "nova-scheduler.log"
REQ = "req-9d84e8ef-0d1d-4190-aec0-4dec0cfdb2bc"  # 40 lines of nova-compute.log.1.head name it (grep -c)


@pytest.fixture
def config_file(tmp_path):
    raw = minimal_raw(tmp_path, inventory={"hosts": [
        {"name": "h1", "address": "127.0.0.1", "roles": []},
        {"name": "ctl1", "address": "10.0.0.11", "roles": ["controller"]},
        {"name": "cmp1", "address": "10.0.0.21", "roles": ["compute"]}]},
        logs={"forward": {"target": "10.0.0.5:2514", "protocol": "relp"}, "receive": {"relp": "0.0.0.0:2514"}})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_parse_prints_json_lines():
    res = CliRunner().invoke(cli, ["logs", "parse", str(SCHEDULER)])
    assert res.exit_code == 0, res.output
    records = [json.loads(line) for line in res.output.splitlines()]
    assert len(records) == 35  # 84 lines, TRACE blocks folded (counted independently in tests/rsyslog)
    assert sum(1 for r in records if r["traceback"]) == 3
    assert {r["program"] for r in records} == {"nova-scheduler"}


def test_ingest_search_and_trace(config_file, tmp_path):
    runner = CliRunner()
    common = ["--config", str(config_file), "--data-dir", str(tmp_path / "d")]
    res = runner.invoke(cli, ["logs", "ingest", str(COMPUTE), str(SCHEDULER), "--host", "cmp1", *common])
    assert res.exit_code == 0, res.output
    assert "stored 277 record(s) from 2 file(s)" in res.output  # 242 + 35

    res = runner.invoke(cli, ["trace", REQ, "--json", *common])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["count"] == 40 and doc["hosts"] == ["cmp1"]
    times = [e["ts"] for e in doc["events"]]
    assert times == sorted(times)

    res = runner.invoke(cli, ["trace", REQ, *common])
    assert res.output.startswith(f"trace {REQ}: 40 record(s)")

    res = runner.invoke(cli, ["logs", "search", "AMQP", "--level", "ERROR", "--since", "30000d", "--json", *common])
    assert res.exit_code == 0, res.output
    hits = [json.loads(line) for line in res.output.splitlines()]
    assert hits and all(h["level"] == "ERROR" and "amqp" in (h["message"] + (h["traceback"] or "")).lower() for h in hits)

    res = runner.invoke(cli, ["trace", "req-00000000-0000-0000-0000-000000000000", *common])
    assert res.exit_code == 1 and "no records name" in res.output


def test_rsyslog_config_client_and_server(config_file, tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["rsyslog-config", "client", "--host", "ctl1", "--config", str(config_file),
                              "--output", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    forward = (tmp_path / "out" / "etc/rsyslog.d/60-stackwatch-forward.conf").read_text()
    assert 'type="omrelp"' in forward and 'target="10.0.0.5"' in forward and 'port="2514"' in forward
    nova = (tmp_path / "out" / "etc/nova/nova.conf").read_text()
    assert "use_syslog = True" in nova and "syslog_log_facility = LOG_LOCAL0" in nova
    assert (tmp_path / "out" / "etc/keystone/keystone.conf").read_text().count("LOG_LOCAL3") == 1
    res = runner.invoke(cli, ["rsyslog-config", "client", "--host", "nosuch", "--config", str(config_file)])
    assert res.exit_code == 1 and "unknown host 'nosuch'" in res.output
    res = runner.invoke(cli, ["rsyslog-config", "server", "--config", str(config_file)])
    assert res.exit_code == 0, res.output
    assert "/var/log/rsyslog/" in res.output and 'target="127.0.0.1"' in res.output
    assert "10.0.0.11" in res.output and "10.0.0.21" in res.output  # the allowed senders
