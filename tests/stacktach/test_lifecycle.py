"""Lifecycles and operation timings from synthetic streams and the copied notigen templates."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from stackwatch.stacktach import lifecycle
from stackwatch.stacktach.lifecycle import build_lifecycle, percentile, timing_stats, timings
from stackwatch.stacktach.notification import decode

from .notification_support import FIXTURES, bare, note, render_template, resolved_samples, template_time

T0 = 1_700_000_000.0
U = "11111111-2222-3333-4444-555555555555"


def boot_and_delete(uuid: str = U, t0: float = T0, host: str = "c1", flavor: str = "m1.small"):
    kw = dict(uuid_=uuid, host=host, instance_type=flavor, vcpus=2, memory_mb=2048)
    return [
        note("compute.instance.create.start", t0, state="building", state_description="spawning", **kw),
        note("compute.instance.update", t0 + 5, state="building", old_state="building",
             new_task_state="spawning", **kw),
        note("compute.instance.create.end", t0 + 42.5, state="active", launched_at="2023-11-14 22:14:00", **kw),
        note("compute.instance.delete.start", t0 + 3600, state="active", state_description="deleting", **kw),
        note("compute.instance.delete.end", t0 + 3607, state="deleted", deleted_at="2023-11-14 23:13:26", **kw),
    ]


def test_boot_and_delete_times_and_state_history():
    lc = build_lifecycle(boot_and_delete(), now=T0 + 7200)
    ops = {o.operation: o for o in lc.operations}
    assert set(ops) == {"create", "delete"}
    assert (ops["create"].outcome, ops["create"].duration) == ("ok", 42.5)
    assert (ops["delete"].outcome, ops["delete"].duration) == ("ok", 7.0)
    assert (ops["create"].host, ops["create"].flavor, ops["create"].tenant_id) == ("c1", "m1.small", "t1")
    assert [(s.name, s.state, s.task_state) for s in lc.states] == [
        ("instance.create.start", "building", "spawning"),
        ("instance.update", "building", "spawning"),
        ("instance.create.end", "active", None),
        ("instance.delete.start", "active", "deleting"),
        ("instance.delete.end", "deleted", None),
    ]
    assert lc.states[1].old_state == "building"
    assert lc.launched_at == datetime(2023, 11, 14, 22, 14, tzinfo=timezone.utc).timestamp()
    assert lc.deleted_at == datetime(2023, 11, 14, 23, 13, 26, tzinfo=timezone.utc).timestamp()
    assert (lc.vcpus, lc.memory_mb, lc.flavor, lc.tenant_id) == (2, 2048, "m1.small", "t1")


def test_versioned_stream_gives_the_same_operations():
    s = resolved_samples()

    def at(sample: str, ts: float):
        doc = dict(s[sample], timestamp=datetime.fromtimestamp(ts, timezone.utc).isoformat())
        return decode(bare(doc))

    notes = [at("instance-create-start.json", T0), at("instance-create-end.json", T0 + 30),
             at("instance-delete-start.json", T0 + 100), at("instance-delete-end.json", T0 + 104)]
    ops = [(o.operation, o.outcome, o.duration) for o in timings(notes, now=T0 + 200)]
    assert ops == [("create", "ok", 30.0), ("delete", "ok", 4.0)]


def test_soft_delete_then_restore_clears_deleted_at():
    notes = boot_and_delete()[:3] + [
        note("compute.instance.soft_delete.start", T0 + 100),
        note("compute.instance.soft_delete.end", T0 + 101, state="soft-delete", deleted_at="2023-11-14 22:15:00")]
    assert build_lifecycle(notes, now=T0 + 200).deleted_at is not None
    restored = build_lifecycle(notes + [note("compute.instance.restore.end", T0 + 150, state="active")], now=T0 + 200)
    assert restored.deleted_at is None
    assert [o.operation for o in restored.operations] == ["create", "soft_delete"]


def test_start_without_end_is_stuck_only_after_the_timeout():
    notes = [note("compute.instance.snapshot.start", T0)]
    assert [o.outcome for o in build_lifecycle(notes, now=T0 + 599, timeout=600).operations] == ["running"]
    assert [o.outcome for o in build_lifecycle(notes, now=T0 + 600, timeout=600).operations] == ["running"]
    (stuck,) = build_lifecycle(notes, now=T0 + 601, timeout=600).operations
    assert (stuck.outcome, stuck.end, stuck.duration) == ("stuck", None, None)
    per_op = build_lifecycle(notes, now=T0 + 601, timeout=600, timeouts={"snapshot": 7200}).operations
    assert per_op[0].outcome == "running"
    now_dt = datetime.fromtimestamp(T0 + 601, timezone.utc)
    assert build_lifecycle(notes, now=now_dt, timeout=600).operations[0].outcome == "stuck"


def test_error_ends_the_operation_as_failed():
    notes = [note("compute.instance.create.start", T0),
             note("compute.instance.create.error", T0 + 12, priority="ERROR",
                  message="Build of instance was re-scheduled: boom", exception={"kwargs": {"code": 500}}),
             note("compute.instance.create.start", T0 + 20),          # nova re-schedules the build
             note("compute.instance.create.end", T0 + 50)]
    ops = build_lifecycle(notes, now=T0 + 60).operations
    assert [(o.operation, o.outcome, o.duration) for o in ops] == [("create", "failed", 12.0), ("create", "ok", 30.0)]
    assert ops[0].error == "Build of instance was re-scheduled: boom"


def test_wrap_exception_error_fails_the_named_operation_not_the_latest():
    notes = [note("compute.instance.delete.start", T0),
             note("compute.instance.shutdown.start", T0 + 1),
             decode(bare({"event_type": "terminate_instance", "priority": "ERROR", "publisher_id": "compute.c1",
                          "timestamp": "2023-11-14 22:13:25",
                          "payload": {"exception": {}, "args": {"instance": {"uuid": U}}}}))]
    ops = {o.operation: o for o in build_lifecycle(notes, now=T0 + 10, timeout=3600).operations}
    assert ops["delete"].outcome == "failed" and ops["delete"].error == "terminate_instance"
    assert ops["shutdown"].outcome == "running"


def test_a_second_start_abandons_the_first_and_replays_are_dropped():
    notes = [note("compute.instance.reboot.start", T0, message_id="m1"),
             note("compute.instance.reboot.start", T0, message_id="m1"),        # replayed delivery
             note("compute.instance.reboot.start", T0 + 5, message_id="m2"),
             note("compute.instance.reboot.end", T0 + 9, message_id="m3")]
    ops = timings(notes, now=T0 + 10)
    assert [(o.outcome, o.duration) for o in ops] == [("abandoned", None), ("ok", 4.0)]


def test_resize_spans_prep_to_finish_and_live_migration_rollback_fails():
    notes = [note("compute.instance.resize.prep.start", T0, host="src"),
             note("compute.instance.resize.prep.end", T0 + 1, host="dst"),
             note("compute.instance.resize.start", T0 + 2, host="src"),
             note("compute.instance.resize.end", T0 + 30, host="src"),
             note("compute.instance.finish_resize.start", T0 + 31, host="dst"),
             note("compute.instance.finish_resize.end", T0 + 40, host="dst", instance_type="m1.large"),
             note("compute.instance.live_migration.pre.start", T0 + 100, host="dst"),
             note("compute.instance.live_migration.pre.end", T0 + 101, host="dst"),
             note("compute.instance.live_migration._rollback.start", T0 + 130, host="dst")]
    ops = timings(notes, now=T0 + 200)
    assert [(o.operation, o.outcome, o.duration, o.host) for o in ops] == [
        ("resize", "ok", 40.0, "dst"), ("live_migration", "failed", 30.0, "dst")]
    assert ops[0].flavor == "m1.large"


def test_stream_of_many_instances_out_of_order():
    a = boot_and_delete("aaaaaaaa-0000-0000-0000-000000000001", T0, host="c1")
    b = boot_and_delete("bbbbbbbb-0000-0000-0000-000000000002", T0 + 10, host="c2")
    stream = list(reversed(a + b))
    lcs = lifecycle.lifecycles(stream, now=T0 + 9999)
    assert set(lcs) == {a[0].instance_uuid, b[0].instance_uuid}
    ops = timings(stream, now=T0 + 9999)
    assert [(o.instance_uuid[:1], o.operation) for o in ops] == [("a", "create"), ("b", "create"), ("a", "delete"), ("b", "delete")]


def test_copied_templates_boot_and_delete():
    path = FIXTURES / "stacktach-notigen-templates" / "compute.instance.create.start_24.json"
    meta, docs = render_template(path)
    lc = build_lifecycle([decode(bare(d)) for d in docs], now=2e9)
    (create,) = lc.operations
    by_type = {d["event_type"]: d for d in json.loads(path.read_text())[1:]}
    start = template_time(meta["time_map"], by_type["compute.instance.create.start"]["timestamp"])
    end = template_time(meta["time_map"], by_type["compute.instance.create.end"]["timestamp"])
    assert create.duration == pytest.approx((end - start).total_seconds())         # 50.983104 s
    assert create.duration == pytest.approx(50.983104)
    assert (create.flavor, create.host, create.outcome) == ("512MB Standard Instance", "c-0042", "ok")
    assert len(lc.states) == sum(1 for d in docs if d["payload"].get("state")) == 21   # not the scheduler's
    assert lc.states[-1].state == "active"


def test_percentile_linear_interpolation():
    assert percentile([], 50) is None
    assert percentile([7.0], 99) == 7.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    values = list(range(1, 101))                           # 1..100: rank = 99 * q / 100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(list(reversed(values)), 0) == 1 and percentile(values, 100) == 100


def _op(duration, flavor="m1", host="h1", outcome="ok", image="img", cell=None):
    return lifecycle.Operation("create", "u", outcome, T0, T0 + (duration or 0), duration, host, flavor,
                               image, cell, "t", None)


def test_timing_stats_per_operation_and_dimension():
    ops = [_op(d) for d in (10, 20, 30, 40)] + [_op(100, flavor="m2", host="h2")]
    ops += [_op(None, outcome="failed"), _op(None, outcome="stuck", flavor="m2")]
    rows = {(r.dimension, r.key): r for r in timing_stats(ops)}
    m1 = rows[("flavor", "m1")]
    assert (m1.count, m1.failed, m1.stuck, m1.p50, m1.max) == (4, 1, 0, 25.0, 40)
    assert m1.p95 == pytest.approx(38.5) and m1.p99 == pytest.approx(39.7)
    m2 = rows[("flavor", "m2")]
    assert (m2.count, m2.stuck, m2.p50, m2.p99) == (1, 1, 100, 100)
    assert rows[("host", "h1")].count == 4 and rows[("image", "img")].count == 5
    assert rows[("cell", None)].count == 5                 # operations without a cell group under None
    assert {r.operation for r in rows.values()} == {"create"}
    only_host = timing_stats(ops, dimensions=("host",))
    assert {r.dimension for r in only_host} == {"host"}


def test_notification_format_both_counts_each_event_once():
    """nova with notification_format = both sends legacy then versioned, milliseconds apart (seen in the lab)."""
    s = resolved_samples()

    def versioned(sample: str, ts: float):
        doc = dict(s[sample], timestamp=datetime.fromtimestamp(ts, timezone.utc).isoformat())
        return decode(bare(doc))

    vs = [versioned("instance-create-start.json", T0 + 0.008), versioned("instance-create-end.json", T0 + 30.006)]
    uuid, req = vs[0].instance_uuid, vs[0].request_id
    def legacy_note(event_type: str, ts: float, state: str):
        return decode(bare({"event_type": event_type, "priority": "INFO", "publisher_id": "compute.c1",
                            "_context_request_id": req,
                            "timestamp": datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f"),
                            "payload": {"instance_id": uuid, "tenant_id": "t1", "state": state}}))

    legacy = [legacy_note("compute.instance.create.start", T0, vs[0].state),
              legacy_note("compute.instance.create.end", T0 + 30, vs[1].state)]
    both = sorted(legacy + vs, key=lambda n: n.timestamp)
    ops = [(o.operation, o.outcome) for o in build_lifecycle(both, now=T0 + 100).operations]
    assert ops == [("create", "ok")]
