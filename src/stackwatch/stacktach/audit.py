"""Usage audit for a period [start, end): nova's `compute.instance.exists` checked against the
lifecycles we built ourselves (StackTach's verifier), and usage per tenant and flavor.

Pure: stdlib only. Times are epoch seconds (or datetimes, naive = UTC).

Per instance, over the exists notifications whose audit period overlaps [start, end):
- verified: every such exists agrees with the lifecycle (launched_at matches one of the
  instance's launches within `tolerance` seconds; deleted_at agrees, or the instance was deleted
  after that exists' audit period ended);
- failed: an exists disagrees (each reason says which field and both values), or there is an exists
  for an instance with no lifecycle at all (StackTach: "exists without a launch");
- missing: the lifecycle shows the instance alive in the period (launched before `end`, not deleted
  before `start`) and no exists covers it.
Usage is computed from lifecycles only: each instance's time alive [launched_at, deleted_at or
+inf) clipped to [start, end), in instance-hours, vCPU-hours and RAM GB-hours (memory_mb / 1024),
summed per (tenant, flavor). A resized instance is counted with its latest flavor.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping

from stackwatch.stacktach.lifecycle import InstanceLifecycle
from stackwatch.stacktach.notification import Notification
from stackwatch.stacktach.times import to_epoch

EXISTS = "instance.exists"           # normalized name of compute.instance.exists / instance.exists


@dataclass(frozen=True, slots=True)
class InstanceAudit:
    instance_uuid: str
    status: str                      # verified | failed | missing
    reasons: tuple[str, ...]
    tenant_id: str | None
    flavor: str | None
    exists: int                      # exists notifications covering the period


@dataclass(frozen=True, slots=True)
class Usage:
    tenant_id: str | None
    flavor: str | None
    instances: int
    instance_hours: float
    vcpu_hours: float
    ram_gb_hours: float


@dataclass(frozen=True, slots=True)
class AuditReport:
    start: float
    end: float
    instances: tuple[InstanceAudit, ...]
    usage: tuple[Usage, ...]

    def with_status(self, status: str) -> list[InstanceAudit]:
        return [a for a in self.instances if a.status == status]


def _iso(t: float | None) -> str:
    return "none" if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat()


def alive_seconds(lc: InstanceLifecycle, start: float, end: float) -> float:
    """Seconds of [start, end) during which the instance existed (launched, not yet deleted)."""
    if lc.launched_at is None:
        return 0.0
    stop = end if lc.deleted_at is None else min(end, lc.deleted_at)
    return max(0.0, stop - max(start, lc.launched_at))


def in_period(n: Notification, start: float, end: float) -> bool:
    """Does this exists' audit period overlap [start, end)? (Its time, if it names no period.)"""
    b, e = n.audit_period_beginning, n.audit_period_ending
    if b is None or e is None:
        return n.timestamp is not None and start <= n.timestamp < end
    return b < end and e > start


def check_exists(x: Notification, lc: InstanceLifecycle | None, tolerance: float = 1.0) -> list[str]:
    """Reasons this exists disagrees with the lifecycle; [] when it agrees."""
    if lc is None:
        return ["exists for an instance with no lifecycle notifications"]
    reasons = []
    if x.launched_at is None:
        if lc.launched_at is not None and (x.audit_period_ending is None
                                           or lc.launched_at < x.audit_period_ending):
            reasons.append(f"launched_at missing in exists; lifecycle launched {_iso(lc.launched_at)}")
    elif not lc.launches:
        reasons.append(f"launched_at {_iso(x.launched_at)} not seen in the lifecycle")
    elif all(abs(x.launched_at - t) > tolerance for t in lc.launches):
        seen = ", ".join(_iso(t) for t in lc.launches)
        reasons.append(f"launched_at mismatch: exists {_iso(x.launched_at)}, lifecycle {seen}")
    if x.deleted_at is None:
        ending = x.audit_period_ending
        if lc.deleted_at is not None and ending is not None and lc.deleted_at < ending - tolerance:
            reasons.append(f"deleted_at missing in exists; lifecycle deleted {_iso(lc.deleted_at)}")
    elif lc.deleted_at is None:
        reasons.append(f"deleted_at {_iso(x.deleted_at)} not seen in the lifecycle")
    elif abs(x.deleted_at - lc.deleted_at) > tolerance:
        reasons.append(f"deleted_at mismatch: exists {_iso(x.deleted_at)}, lifecycle {_iso(lc.deleted_at)}")
    return reasons


def usage(lifecycles: Iterable[InstanceLifecycle], start: float | datetime,
          end: float | datetime) -> list[Usage]:
    """Instance-, vCPU- and RAM GB-hours per (tenant, flavor), clipped to [start, end)."""
    s, e = to_epoch(start), to_epoch(end)
    sums: dict[tuple[str | None, str | None], list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for lc in lifecycles:
        hours = alive_seconds(lc, s, e) / 3600.0
        if hours <= 0.0:
            continue
        row = sums[(lc.tenant_id, lc.flavor)]
        row[0] += 1
        row[1] += hours
        row[2] += hours * (lc.vcpus or 0)
        row[3] += hours * (lc.memory_mb or 0) / 1024.0
    return [Usage(t, f, int(r[0]), r[1], r[2], r[3])
            for (t, f), r in sorted(sums.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or ""))]


def audit(lifecycles: Mapping[str, InstanceLifecycle] | Iterable[InstanceLifecycle],
          exists: Iterable[Notification], start: float | datetime, end: float | datetime,
          tolerance: float = 1.0) -> AuditReport:
    """Verify the period's exists notifications against the lifecycles; report usage."""
    s, e = to_epoch(start), to_epoch(end)
    by_uuid = dict(lifecycles) if isinstance(lifecycles, Mapping) else {lc.instance_uuid: lc for lc in lifecycles}
    covering: dict[str, list[Notification]] = defaultdict(list)
    for x in exists:
        if x.name == EXISTS and x.instance_uuid and in_period(x, s, e):
            covering[x.instance_uuid].append(x)
    results = []
    for uuid in sorted(set(covering) | {u for u, lc in by_uuid.items() if alive_seconds(lc, s, e) > 0}):
        lc = by_uuid.get(uuid)
        xs = covering.get(uuid, [])
        tenant = lc.tenant_id if lc else xs[0].tenant_id
        flavor = lc.flavor if lc else xs[0].flavor
        if not xs:
            results.append(InstanceAudit(uuid, "missing", ("alive in the period, no exists",),
                                         tenant, flavor, 0))
            continue
        reasons = tuple(dict.fromkeys(r for x in xs for r in check_exists(x, lc, tolerance)))
        results.append(InstanceAudit(uuid, "failed" if reasons else "verified", reasons, tenant,
                                     flavor, len(xs)))
    return AuditReport(s, e, tuple(results), tuple(usage(by_uuid.values(), s, e)))
