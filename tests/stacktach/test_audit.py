"""The usage audit: exists verified / failed / missing against lifecycles, and usage clipped to
the period."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from stackwatch.stacktach.audit import audit, check_exists, usage
from stackwatch.stacktach.lifecycle import lifecycles
from stackwatch.stacktach.notification import decode

from .notification_support import FIXTURES, bare, note, render_template

DAY = datetime(2024, 3, 5, tzinfo=timezone.utc)
START, END = DAY.timestamp(), (DAY + timedelta(days=1)).timestamp()
H = 3600.0


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def boot(uuid, launched, tenant="t1", flavor="m1.small", vcpus=2, memory_mb=4096, deleted=None):
    kw = dict(uuid_=uuid, instance_type=flavor, vcpus=vcpus, memory_mb=memory_mb, tenant_id=tenant)
    notes = [note("compute.instance.create.start", launched - 30, **kw),
             note("compute.instance.create.end", launched + 0.2, launched_at=iso(launched), **kw)]
    if deleted is not None:
        notes += [note("compute.instance.delete.start", deleted - 5, launched_at=iso(launched), **kw),
                  note("compute.instance.delete.end", deleted + 1, launched_at=iso(launched),
                       deleted_at=iso(deleted), terminated_at=iso(deleted), state="deleted", **kw)]
    return notes


def exists(uuid, launched, deleted=None, begin=START, end=END, tenant="t1"):
    return note("compute.instance.exists", end + 60, uuid_=uuid, tenant_id=tenant,
                launched_at=iso(launched), deleted_at=iso(deleted) if deleted else "",
                audit_period_beginning=iso(begin), audit_period_ending=iso(end))


A, B, C, D, E = (f"{c * 8}-0000-0000-0000-000000000000" for c in "abcde")


@pytest.fixture
def world():
    stream = (boot(A, START - 10 * H)                                   # alive all day
              + boot(B, START - 2 * H, tenant="t2", flavor="m1.large", vcpus=8, memory_mb=16384)
              + boot(C, START + 6 * H, deleted=START + 18 * H)          # launched and deleted mid-period
              + boot(D, START - 5 * H, deleted=START - 1 * H)           # gone before the period
              + boot(E, END + 1 * H))                                   # launched after the period
    lcs = lifecycles(stream, now=END + 2 * H)
    xs = [exists(A, START - 10 * H),
          exists(B, START - 2 * H + 120),                               # launched_at disagrees by 2 min
          exists(A, START - 10 * H, begin=START - 86400, end=START)]    # yesterday's: not this period
    return lcs, xs


def test_verified_failed_missing(world):
    lcs, xs = world
    report = audit(lcs, xs, START, END)
    status = {a.instance_uuid: a.status for a in report.instances}
    assert status == {A: "verified", B: "failed", C: "missing"}         # D and E were not alive
    (b,) = report.with_status("failed")
    assert b.reasons == ("launched_at mismatch: exists 2024-03-04T22:02:00+00:00, lifecycle 2024-03-04T22:00:00+00:00",)
    assert report.with_status("verified")[0].exists == 1                # yesterday's exists not counted


def test_deleted_at_checks():
    lcs = lifecycles(boot(C, START + 6 * H, deleted=START + 18 * H), now=END)
    lc = lcs[C]
    assert check_exists(exists(C, START + 6 * H, deleted=START + 18 * H), lc) == []
    assert check_exists(exists(C, START + 6 * H), lc) == [
        "deleted_at missing in exists; lifecycle deleted 2024-03-05T18:00:00+00:00"]
    early = exists(C, START + 6 * H, end=START + 12 * H)                # audit ended before the delete
    assert check_exists(early, lc) == []
    assert check_exists(exists(C, START + 6 * H, deleted=START + 19 * H), lc) == [
        "deleted_at mismatch: exists 2024-03-05T19:00:00+00:00, lifecycle 2024-03-05T18:00:00+00:00"]
    assert check_exists(exists(C, START + 6 * H), None) == ["exists for an instance with no lifecycle notifications"]


def test_usage_clipped_to_the_period(world):
    lcs, _xs = world
    rows = {(u.tenant_id, u.flavor): u for u in usage(lcs.values(), START, END)}
    t1 = rows[("t1", "m1.small")]                   # A: 24 h, C: 12 h (06:00-18:00), D: none, E: none
    assert (t1.instances, t1.instance_hours) == (2, pytest.approx(36.0))
    assert t1.vcpu_hours == pytest.approx(72.0) and t1.ram_gb_hours == pytest.approx(144.0)
    t2 = rows[("t2", "m1.large")]
    assert (t2.instances, t2.instance_hours, t2.vcpu_hours, t2.ram_gb_hours) == (
        1, pytest.approx(24.0), pytest.approx(192.0), pytest.approx(384.0))
    assert set(rows) == {("t1", "m1.small"), ("t2", "m1.large")}
    half = {(u.tenant_id, u.flavor): u.instance_hours for u in usage(lcs.values(), START + 12 * H, END)}
    assert half[("t1", "m1.small")] == pytest.approx(12.0 + 6.0)


def test_eod_exists_template_against_its_own_lifecycle():
    _meta, (doc,) = render_template(FIXTURES / "stacktach-notigen-templates" / "eod_exists.json")
    x = decode(bare(doc))
    lcs = lifecycles([x], now=x.timestamp)
    report = audit(lcs, [x], x.audit_period_beginning, x.audit_period_ending)
    assert [(a.status, a.flavor) for a in report.instances] == [("verified", "15GB Standard Instance")]
    (u,) = report.usage
    assert u.instance_hours == pytest.approx(24.0) and u.vcpu_hours == pytest.approx(144.0)
