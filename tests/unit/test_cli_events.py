"""The events commands through click's runner over an archive filled by the ingest sink."""

import json

import yaml
from click.testing import CliRunner

from stackwatch.cli import cli
from stackwatch.config import MetricsConfig
from stackwatch.stacktach.ingest import NotificationIngest
from stackwatch.stacktach.message import AmqpMessage
from stackwatch.store.sqlite import open_store
from tests.conftest import ROOT, minimal_raw

UUID = "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b"


def note(event_type, mid, ts, priority="INFO", **payload):
    inner = {"message_id": mid, "event_type": event_type, "publisher_id": "compute.cmp7", "priority": priority,
             "timestamp": ts, "_context_request_id": "req-cli-1",
             "payload": {"instance_id": UUID, "tenant_id": "tenant-a", "instance_type": "m1.small", "vcpus": 2,
                         "memory_mb": 2048, **payload}}
    return AmqpMessage(json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode(), None,
                       "nova", "notifications.info", 0.0, "region-one")


def test_show_request_errors_timings_audit(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(minimal_raw(tmp_path)))
    data = tmp_path / "d"
    store = open_store(data / "stackwatch.db", MetricsConfig())
    NotificationIngest(store.notifications).sink([
        note("compute.instance.create.start", "1", "2026-11-01 10:00:00.000000", state="building"),
        note("compute.instance.create.end", "2", "2026-11-01 10:00:30.000000", state="active",
             launched_at="2026-11-01T10:00:29.000000"),
        note("compute.instance.exists", "3", "2026-11-02 00:00:00.000000", state="active",
             launched_at="2026-11-01T10:00:29.000000", audit_period_beginning="2026-11-01T00:00:00.000000",
             audit_period_ending="2026-11-02T00:00:00.000000"),
        note("compute.instance.delete.start", "4", "2026-11-02 12:00:00.000000", state="active"),
        note("compute.instance.delete.end", "5", "2026-11-02 12:00:05.000000", state="deleted",
             launched_at="2026-11-01T10:00:29.000000", deleted_at="2026-11-02T12:00:04.000000"),
        note("compute.instance.resize.error", "6", "2026-11-02 11:00:00.000000", priority="ERROR",
             exception="ResizeError", message="Resize error: unable to resize"),
    ])
    store.close()
    run = lambda *a: CliRunner().invoke(cli, [*a, "--config", str(cfg), "--data-dir", str(data)])  # noqa: E731

    res = run("events", "show", UUID)
    assert res.exit_code == 0, res.output
    assert "create" in res.output and "30.000s" in res.output and f"stackwatch trace {UUID}" in res.output
    doc = json.loads(run("events", "show", UUID, "--json").output)
    assert {o["operation"]: o["duration"] for o in doc["operations"] if o["outcome"] == "ok"} == {"create": 30.0,
                                                                                                  "delete": 5.0}
    assert run("events", "request", "req-cli-1").output.count(UUID) == 6
    errors = run("events", "errors", "--since", "30000d").output
    assert "instance.resize.error" in errors
    timings = run("events", "timings", "--operation", "create", "--since", "30000d").output
    assert "m1.small" in timings and "30.00s" in timings
    audit = run("events", "audit", "--start", "2026-11-01T00:00:00", "--end", "2026-11-02T00:00:00")
    assert audit.exit_code == 0, audit.output
    assert "1 verified, 0 failed, 0 missing" in audit.output
    assert "tenant-a" in audit.output and "13.99" in audit.output  # alive 10:00:29 -> midnight = 13.99 h
    assert run("events", "show", "00000000-0000-0000-0000-000000000000").exit_code == 1
    parsed = CliRunner().invoke(cli, ["events", "parse", str(ROOT / "tests/fixtures/notifications/lab-2026/"
                                                              "nova-versioned-instance.create.end.json")])
    assert json.loads(parsed.output)["name"] == "instance.create.end"
