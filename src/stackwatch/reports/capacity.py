"""Report section: capacity forecast. For vCPUs, RAM, disk and floating IPs across the cloud, and each tenant's
quotas, a linear trend over the period's daily means and the date each runs out at that growth; and how many
more instances of each flavor fit now (placement-style packing per hypervisor, allocation ratios applied).

Reads the trend store through rollups.RollupReader; the forecasting is forecast.py's (pure).
"""

from __future__ import annotations

from stackwatch.reports.forecast import Flavor, Free, flavor_fit, free_of, runout
from stackwatch.reports.model import Chart, Section, Table, day
from stackwatch.reports.period import Period
from stackwatch.reports.rollups import RollupReader, daily, last
from stackwatch.reports.usage import UsageData

HV = "stackwatch_openstack_hypervisor_"
RESOURCES = (  # label, used series, total series, placement resource class
    ("vCPUs", HV + "vcpus_used", HV + "vcpus", "VCPU"),
    ("RAM MB", HV + "memory_mb_used", HV + "memory_mb", "MEMORY_MB"),
    ("Disk GB", HV + "disk_gb_used", HV + "disk_gb", "DISK_GB"),
)


def _ratios(reader: RollupReader, period: Period) -> dict[tuple[str, str], float]:
    out = {}
    for labels, pts in reader.read("stackwatch_openstack_allocation_ratio", period.start, period.end):
        out[(labels.get("hypervisor", ""), labels.get("resource", ""))] = pts[-1][1]
    return out


def capacity_section(reader: RollupReader, data: UsageData, period: Period, horizon_days: float = 365.0) -> Section:
    s, e = period.start, period.end
    ratios = _ratios(reader, period)
    rows, charts = [], []
    free_by_host: dict[str, dict[str, float]] = {}
    for label, used_name, total_name, rc in RESOURCES:
        used = reader.by(used_name, "hypervisor", s, e)
        total = reader.by(total_name, "hypervisor", s, e)
        if not used:
            continue
        cap_now = 0.0
        for hv, pts in total.items():
            ratio = ratios.get((hv, rc), 1.0)
            cap_now += (last(pts) or 0.0) * ratio
            free_by_host.setdefault(hv, {})[rc] = free_of(last(pts) or 0.0, last(used.get(hv, [])) or 0.0, ratio)
        summed: dict[float, float] = {}
        for pts in used.values():
            for ts, v in pts:
                summed[ts] = summed.get(ts, 0.0) + v
        rows.append(runout(label, daily(sorted(summed.items())), cap_now, e))
        if rc == "VCPU":
            caps: dict[float, float] = {}
            for hv, pts in total.items():
                for ts, v in pts:
                    caps[ts] = caps.get(ts, 0.0) + v * ratios.get((hv, rc), 1.0)
            charts.append(Chart("vcpu_capacity", "vCPUs used against capacity (daily mean)",
                                (("used", tuple(daily(sorted(summed.items())))),
                                 ("capacity (x allocation ratio)", tuple(daily(sorted(caps.items())))))))
    fip_used = reader.total("stackwatch_openstack_floating_ips", s, e, {"status": "used"})
    fip_free = reader.total("stackwatch_openstack_floating_ips", s, e, {"status": "free"})
    if fip_used:
        rows.append(runout("Floating IPs", daily(fip_used), (last(fip_used) or 0) + (last(fip_free) or 0), e))
    cloud = Table("capacity_forecast", "Cloud capacity forecast",
                  ("Resource", "Used", "Capacity", "Used %", "Growth per day", "Runs out", "Status"),
                  tuple((r.resource, _r(r.used), _r(r.capacity), _r(r.percent), _r(r.growth_per_day),
                         day(r.runs_out_at), r.status) for r in rows),
                  note="Capacity = total x allocation ratio; trend: least squares over the period's daily means.",
                  highlight=tuple(i for i, r in enumerate(rows) if r.status == "full" or (
                      r.runs_out_at is not None and r.runs_out_at - e < horizon_days * 86400 / 4)))
    quota_rows = _quota_runouts(reader, period, horizon_days)
    quotas = Table("quota_forecast", f"Tenant quotas running out within {int(horizon_days)} days",
                   ("Tenant", "Service", "Resource", "Used", "Limit", "Used %", "Growth per day", "Runs out"),
                   tuple(quota_rows), highlight=tuple(i for i, r in enumerate(quota_rows) if (r[5] or 0) > 80))
    flavors = _flavors(data)
    free = [Free(h, f.get("VCPU", 0.0), f.get("MEMORY_MB", 0.0), f.get("DISK_GB", 0.0)) for h, f in free_by_host.items()]
    fits = flavor_fit(free, flavors) if free else {}
    fit_table = Table("flavor_fit", "How many more of each flavor fit now",
                      ("Flavor", "vCPUs", "RAM MB", "Disk GB", "Fit now"),
                      tuple((f.name, f.vcpus, f.memory_mb, f.disk_gb, fits.get(f.name)) for f in flavors),
                      note="Per hypervisor the smallest of free vCPUs, RAM and disk (after allocation ratios) over the "
                           "flavor's needs, summed over hypervisors; flavors as seen in the notifications.")
    empty = "" if rows or quota_rows else "No capacity data (hypervisor or quota collectors) in this period."
    return Section("capacity", "Capacity forecast", (cloud, quotas, fit_table), tuple(charts), empty)


def _quota_runouts(reader: RollupReader, period: Period, horizon_days: float) -> list[tuple]:
    s, e = period.start, period.end
    limits = {(l.get("project"), l.get("service"), l.get("resource")): last(p)
              for l, p in reader.read("stackwatch_openstack_quota_limit", s, e)}
    out = []
    for labels, pts in reader.read("stackwatch_openstack_quota_used", s, e):
        key = (labels.get("project"), labels.get("service"), labels.get("resource"))
        limit = limits.get(key)
        if limit is None or limit < 0:       # -1: unlimited
            continue
        r = runout(key[2] or "", daily(pts), limit, e)
        if r.status == "full" or (r.runs_out_at is not None and r.runs_out_at - e <= horizon_days * 86400):
            out.append((key[0], key[1], key[2], _r(r.used), _r(limit), _r(r.percent), _r(r.growth_per_day),
                        day(r.runs_out_at)))
    out.sort(key=lambda row: row[7] or "")
    return out


def quota_peaks(reader: RollupReader, period: Period) -> dict[str, tuple[float, str]]:
    """Per tenant, the highest quota use in the period (percent) and which resource."""
    out: dict[str, tuple[float, str]] = {}
    for labels, pts in reader.read("stackwatch_openstack_quota_percent", period.start, period.end, stat="max"):
        project = labels.get("project", "")
        value = max(v for _, v in pts)
        if project not in out or value > out[project][0]:
            out[project] = (value, f"{labels.get('service', '')}/{labels.get('resource', '')}")
    return out


def _flavors(data: UsageData) -> list[Flavor]:
    seen: dict[str, Flavor] = {}
    for lc in data.lifecycles.values():
        if lc.flavor and lc.vcpus and lc.memory_mb is not None:
            seen.setdefault(lc.flavor, Flavor(lc.flavor, lc.vcpus, lc.memory_mb, lc.root_gb or 0))
    return sorted(seen.values(), key=lambda f: (f.vcpus, f.memory_mb, f.name))


def _r(v):
    return None if v is None else round(float(v), 2)
