"""The notification side of a report: instance lifecycles rebuilt from the archive, the usage audit for the
period, usage per tenant and flavor for the period and the one before, and tenants deleted in the period.

Adapter over the notification archive (`store.notifications`); the arithmetic is stacktach.audit's (pure).
A tenant deleted mid-period is reported up to its deletion: its instances stop accruing hours when they are
deleted, and keystone's identity.project.deleted notification dates the tenant's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from stackwatch.reports.period import Period
from stackwatch.stacktach.audit import EXISTS, AuditReport, Usage, alive_seconds, audit, usage
from stackwatch.stacktach.ingest import notifications_of
from stackwatch.stacktach.lifecycle import InstanceLifecycle, lifecycles

PROJECT_DELETED = ("identity.project.deleted",)
IMAGE_EVENTS = ("image.create", "image.upload", "image.activate", "image.update", "image.prepare")
LOAD_LIMIT = 50_000_000
# nova sends an audit period's compute.instance.exists after the period ends (at the next periodic task run)
EXISTS_GRACE = 2 * 86400.0


@dataclass(frozen=True, slots=True)
class UsageData:
    lifecycles: Mapping[str, InstanceLifecycle]
    audit: AuditReport                 # the period's audit and usage
    previous: tuple[Usage, ...]        # usage in the previous period
    tenants_deleted: Mapping[str, float]
    notifications: int                 # how many archived notifications were read
    images: Mapping[str, tuple[int, float]] = None   # owner -> (images at the period's end, GB)

    def alive_in(self, start: float, end: float) -> list[InstanceLifecycle]:
        return [lc for lc in self.lifecycles.values() if alive_seconds(lc, start, end) > 0]


def load_usage(notifications, period: Period, previous: Period) -> UsageData:
    """Read every archived notification up to the period's end and rebuild what the report needs."""
    rows = notifications.query(end=period.end + EXISTS_GRACE, limit=LOAD_LIMIT)
    notes = notifications_of(rows)
    lcs = lifecycles(notes, now=period.end)
    exists = [n for n in notes if n.name == EXISTS]
    report = audit(lcs, exists, period.start, period.end)
    before = tuple(usage(lcs.values(), previous.start, previous.end))
    deleted = {}
    for n in notes:
        if n.name in PROJECT_DELETED and n.timestamp is not None:
            project = n.payload.get("resource_info") or n.payload.get("project_id") or n.tenant_id
            if project:
                deleted[str(project)] = n.timestamp
    return UsageData(lcs, report, before, deleted, len(rows), images_by_owner(notes, period.end))


def totals(rows) -> dict[str, float]:
    """Instance-, vCPU- and RAM GB-hours summed over usage rows."""
    return {"instance_hours": sum(u.instance_hours for u in rows), "vcpu_hours": sum(u.vcpu_hours for u in rows),
            "ram_gb_hours": sum(u.ram_gb_hours for u in rows)}


def per_tenant(rows) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for u in rows:
        t = out.setdefault(u.tenant_id or "unknown", {"instances": 0, "instance_hours": 0.0, "vcpu_hours": 0.0,
                                                     "ram_gb_hours": 0.0})
        t["instances"] += u.instances
        t["instance_hours"] += u.instance_hours
        t["vcpu_hours"] += u.vcpu_hours
        t["ram_gb_hours"] += u.ram_gb_hours
    return out


def images_by_owner(notes, end: float) -> dict[str, tuple[int, float]]:
    """Images alive at `end` per owner (tenant) from glance's notifications: (count, GB)."""
    latest: dict[str, tuple[str, float, bool]] = {}
    for n in notes:
        if n.service != "glance" or n.timestamp is None or n.timestamp >= end:
            continue
        image_id = n.payload.get("id")
        if not image_id:
            continue
        owner = str(n.payload.get("owner") or n.tenant_id or "unknown")
        size = float(n.payload.get("size") or 0)
        if n.name == "image.delete":
            latest[image_id] = (owner, size, False)
        elif n.name in IMAGE_EVENTS:
            latest[image_id] = (owner, size or latest.get(image_id, ("", 0.0, True))[1], True)
    out: dict[str, list] = {}
    for owner, size, alive in latest.values():
        if alive:
            row = out.setdefault(owner, [0, 0.0])
            row[0] += 1
            row[1] += size / 1e9
    return {k: (v[0], v[1]) for k, v in out.items()}
