"""Build a Report from the stores: the notification archive (usage, audit), the trend store's rollups
(volumes, images, floating IPs, hypervisors, load, API requests, probes, quotas) and the alert store.

Adapter: reads `store` (stackwatch.store.sqlite.Store) and calls the pure section builders. `progress(step, i, n)`
is told of each step, for the terminal's progress bar.
"""

from __future__ import annotations

from typing import Callable

from stackwatch.reports import capacity, operations, tenants
from stackwatch.reports.model import Report
from stackwatch.reports.period import Period, previous as previous_of
from stackwatch.reports.rollups import RollupReader, daily, integral_hours, last, mean
from stackwatch.reports.usage import load_usage

Progress = Callable[[str, int, int], None]
STEPS = ("notifications", "cloud totals", "tenants", "largest instances", "compute nodes", "API requests",
         "probes", "alerts", "usage audit", "capacity")


def build_report(store, kind: str, period: Period, now: float, *, cloud: str = "",
                 progress: Progress | None = None, slo: float = 99.0) -> Report:
    tick = progress or (lambda step, i, n: None)
    prev = previous_of(period)
    reader = RollupReader(store.metrics, now)
    n = len(STEPS)
    tick(STEPS[0], 0, n)
    data = load_usage(store.notifications, period, prev)
    tick(STEPS[1], 1, n)
    step = reader.step_for(period.start) or 3600.0
    prev_step = reader.step_for(prev.start) or step
    extra_now, extra_before = _resource_totals(reader, period, step), _resource_totals(reader, prev, prev_step)
    vcpus = daily(reader.total("stackwatch_openstack_hypervisor_vcpus_used", period.start, period.end))
    sections = [tenants.cloud_section(data, period, prev, extra_now, extra_before, vcpus)]
    tick(STEPS[2], 2, n)
    volume_gbh = {p: integral_hours(pts, step) for p, pts in
                  reader.by("stackwatch_openstack_volume_gb", "project", period.start, period.end).items()}
    fips = {p: mean(pts) for p, pts in reader.by("stackwatch_openstack_quota_used", "project", period.start,
                                                  period.end, {"service": "network", "resource": "floatingip"}).items()}
    sections.append(tenants.tenant_section(data, period, volume_gbh, capacity.quota_peaks(reader, period), fips))
    tick(STEPS[3], 3, n)
    sections.append(tenants.largest_section(data, period))
    tick(STEPS[4], 4, n)
    sections.append(operations.nodes_section(reader, data, period))
    tick(STEPS[5], 5, n)
    sections.append(operations.api_section(reader, period))
    tick(STEPS[6], 6, n)
    sections.append(operations.probes_section(reader, period, slo))
    tick(STEPS[7], 7, n)
    sections.append(operations.alerts_section(alert_rows(store, period), period))
    tick(STEPS[8], 8, n)
    sections.append(tenants.audit_section(data))
    tick(STEPS[9], 9, n)
    sections.append(capacity.capacity_section(reader, data, period))
    tick("done", n, n)
    sources = tuple(sorted(reader.sources | {f"notifications ({data.notifications} read)"}))
    return Report(kind, period, prev, now, cloud, tuple(sections), sources)


def _resource_totals(reader: RollupReader, period: Period, step: float) -> dict[str, float | None]:
    s, e = period.start, period.end
    volumes_gb = reader.total("stackwatch_openstack_volume_gb", s, e)
    return {
        "Volume GB-hours": integral_hours(volumes_gb, step) if volumes_gb else None,
        "Volumes GB at the end": last(volumes_gb),
        "Images at the end": last(reader.total("stackwatch_openstack_images", s, e)),
        "Image GB at the end": _gb(last(reader.total("stackwatch_openstack_image_bytes", s, e))),
        "Floating IPs used (mean)": mean(reader.total("stackwatch_openstack_floating_ips", s, e, {"status": "used"})),
    }


def _gb(v: float | None) -> float | None:
    return None if v is None else v / 1e9


def alert_rows(store, period: Period) -> list[tuple]:
    """(severity, fired_at, acknowledged_at, resolved_at) of alerts that fired in the period, from the alert
    store's history and its acknowledgements (the first ack after the firing)."""
    conn = store.db.read()
    rows = conn.execute(
        "SELECT a.severity, h.fingerprint, h.ts FROM alert_history h JOIN alerts a USING (fingerprint) "
        "WHERE h.to_state = 'firing' AND h.ts >= ? AND h.ts < ? ORDER BY h.ts", (period.start, period.end)).fetchall()
    has_acks = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'acks'").fetchone()
    out = []
    for severity, fp, fired in rows:
        resolved = conn.execute("SELECT min(ts) FROM alert_history WHERE fingerprint = ? AND to_state = 'resolved' "
                                "AND ts >= ?", (fp, fired)).fetchone()[0]
        acked = conn.execute("SELECT min(created_at) FROM acks WHERE fingerprint = ? AND created_at >= ?",
                             (fp, fired)).fetchone()[0] if has_acks else None
        out.append((severity, fired, acked, resolved))
    return out
