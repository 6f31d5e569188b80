"""Report sections about usage: cloud totals against the previous period, usage per tenant (with volume
GB-hours and quota headroom), instance-hours by flavor, top consumers, largest instances, the usage audit.

Pure: stdlib only; fed by usage.UsageData and rollups already read.
"""

from __future__ import annotations

from typing import Mapping

from stackwatch.reports.model import Chart, Section, Table, change, day
from stackwatch.reports.period import Period
from stackwatch.reports.usage import UsageData, per_tenant, totals
from stackwatch.stacktach.audit import alive_seconds


def alive_per_day(data: UsageData, period: Period) -> tuple[tuple[float, float], ...]:
    """Instances alive at each day's start (and at any time that day, for days with launches)."""
    out = []
    for d in period.day_starts():
        out.append((d, float(sum(1 for lc in data.lifecycles.values() if alive_seconds(lc, d, d + 86400) > 0))))
    return tuple(out)


def cloud_section(data: UsageData, period: Period, previous: Period, extra_now: Mapping[str, float | None],
                  extra_before: Mapping[str, float | None], vcpus_daily) -> Section:
    now_t, before_t = totals(data.audit.usage), totals(data.previous)
    rows = [
        ("Instance-hours", now_t["instance_hours"], before_t["instance_hours"]),
        ("vCPU-hours", now_t["vcpu_hours"], before_t["vcpu_hours"]),
        ("RAM GB-hours", now_t["ram_gb_hours"], before_t["ram_gb_hours"]),
        ("Instances alive at the end", float(len([lc for lc in data.lifecycles.values()
                                                  if alive_seconds(lc, period.end - 1, period.end) > 0])),
         float(len([lc for lc in data.lifecycles.values() if alive_seconds(lc, previous.end - 1, previous.end) > 0]))),
    ]
    for label, value in extra_now.items():
        rows.append((label, value, extra_before.get(label)))
    table = Table("cloud_totals", "Cloud totals", ("Measure", period.label, previous.label, "Change %"),
                  tuple((m, _r(a), _r(b), _r(change(a, b))) for m, a, b in rows),
                  note="Usage from the notification archive (instance lifecycles); volumes, images and floating "
                       "IPs from the trend store's rollups.")
    charts = [Chart("instances_alive", "Instances alive per day", (("instances", alive_per_day(data, period)),))]
    if vcpus_daily:
        charts.append(Chart("vcpus_used", "vCPUs in use (daily mean, all hypervisors)", (("vCPUs", tuple(vcpus_daily)),)))
    empty = "" if data.lifecycles or any(v for v in extra_now.values()) else "No usage data for this period."
    return Section("cloud", "Cloud totals and trend", (table,), tuple(charts), empty)


def tenant_section(data: UsageData, period: Period, volume_gbh: Mapping[str, float],
                   quota_peak: Mapping[str, tuple[float, str]], floating_ips: Mapping[str, float]) -> Section:
    tenants = per_tenant(data.audit.usage)
    images = data.images or {}
    names = sorted(set(tenants) | set(volume_gbh) | set(images),
                   key=lambda t: (-tenants.get(t, {}).get("vcpu_hours", 0.0), t))
    rows, highlight = [], []
    for i, t in enumerate(names):
        u = tenants.get(t, {})
        peak = quota_peak.get(t)
        deleted = data.tenants_deleted.get(t)
        rows.append((t, int(u.get("instances", 0)), _r(u.get("instance_hours", 0.0)), _r(u.get("vcpu_hours", 0.0)),
                     _r(u.get("ram_gb_hours", 0.0)), _r(volume_gbh.get(t)), images.get(t, (None,))[0],
                     _r(floating_ips.get(t)), _r(peak[0]) if peak else None,
                     peak[1] if peak else None, day(deleted) if deleted and deleted < period.end else None))
        if peak and peak[0] > 80:
            highlight.append(i)
    usage_table = Table("tenant_usage", "Usage per tenant",
                        ("Tenant", "Instances", "Instance-hours", "vCPU-hours", "RAM GB-hours", "Volume GB-hours",
                         "Images", "Floating IPs", "Quota peak %", "Quota resource", "Deleted"), tuple(rows),
                        note="A tenant deleted in the period is counted up to its deletion. Images: alive at the end "
                             "(glance notifications); floating IPs: mean in use (network quota usage). Quota peak: "
                             "the highest use of any quota in the period (rows above 80% are marked).",
                        highlight=tuple(highlight))
    flavor_rows = tuple((u.tenant_id or "unknown", u.flavor or "unknown", u.instances, _r(u.instance_hours),
                         _r(u.vcpu_hours), _r(u.ram_gb_hours)) for u in data.audit.usage)
    flavor_table = Table("tenant_flavor_usage", "Instance-hours by tenant and flavor",
                         ("Tenant", "Flavor", "Instances", "Instance-hours", "vCPU-hours", "RAM GB-hours"), flavor_rows)
    total_vcpu = sum(u.get("vcpu_hours", 0.0) for u in tenants.values()) or 1.0
    top = sorted(tenants.items(), key=lambda kv: -kv[1]["vcpu_hours"])[:10]
    top_table = Table("top_consumers", "Top consumers (vCPU-hours)",
                      ("Tenant", "vCPU-hours", "Share %", "Instances"),
                      tuple((t, _r(u["vcpu_hours"]), _r(100.0 * u["vcpu_hours"] / total_vcpu), int(u["instances"]))
                            for t, u in top))
    empty = "" if rows else "No tenant used anything in this period."
    return Section("tenants", "Usage per tenant", (usage_table, top_table, flavor_table), (), empty)


def largest_section(data: UsageData, period: Period, limit: int = 20) -> Section:
    alive = data.alive_in(period.start, period.end)
    alive.sort(key=lambda lc: (-(lc.vcpus or 0), -(lc.memory_mb or 0), -(lc.root_gb or 0), lc.instance_uuid))
    rows = tuple((lc.instance_uuid, lc.tenant_id, lc.flavor, lc.vcpus, lc.memory_mb, lc.root_gb, lc.host,
                  _r(alive_seconds(lc, period.start, period.end) / 3600.0)) for lc in alive[:limit])
    table = Table("largest_instances", f"Largest instances (top {limit} by vCPUs, then RAM)",
                  ("Instance", "Tenant", "Flavor", "vCPUs", "RAM MB", "Disk GB", "Host", "Hours in period"), rows)
    return Section("largest", "Largest instances", (table,), (), "" if rows else "No instance was alive in this period.")


def audit_section(data: UsageData, limit: int = 50) -> Section:
    counts = {k: len(data.audit.with_status(k)) for k in ("verified", "failed", "missing")}
    summary = Table("audit_summary", "Usage audit (compute.instance.exists against the lifecycles)",
                    ("Verified", "Failed", "Missing"), ((counts["verified"], counts["failed"], counts["missing"]),),
                    note="verified: nova's exists agrees with the lifecycle; failed: it disagrees; missing: an "
                         "instance alive in the period without an exists covering it.")
    problems = [a for a in data.audit.instances if a.status != "verified"][:limit]
    detail = Table("audit_problems", f"Audit problems (first {limit})", ("Instance", "Status", "Tenant", "Reasons"),
                   tuple((a.instance_uuid, a.status, a.tenant_id, "; ".join(a.reasons)) for a in problems))
    empty = "" if data.audit.instances else "No instance to audit in this period."
    return Section("audit", "Usage audit", (summary, detail), (), empty)


def _r(v):
    return None if v is None else round(float(v), 2)
