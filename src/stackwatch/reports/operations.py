"""Report sections about operations: compute nodes (load, vCPUs, instances), API requests and error rates per
service, probe success and latency against an SLO, alerts by severity with time to acknowledge and resolve.

Reads the trend store through rollups.RollupReader and the alert store; the arithmetic is plain and local.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import median

from stackwatch.reports.model import Chart, Section, Table
from stackwatch.reports.period import Period
from stackwatch.reports.rollups import RollupReader, daily, mean, peak
from stackwatch.reports.usage import UsageData
from stackwatch.stacktach.audit import alive_seconds
from stackwatch.stacktach.lifecycle import percentile


def nodes_section(reader: RollupReader, data: UsageData, period: Period) -> Section:
    s, e = period.start, period.end
    used = reader.by("stackwatch_openstack_hypervisor_vcpus_used", "hypervisor", s, e)
    total = reader.by("stackwatch_openstack_hypervisor_vcpus", "hypervisor", s, e)
    mem_used = reader.by("stackwatch_openstack_hypervisor_memory_mb_used", "hypervisor", s, e)
    mem = reader.by("stackwatch_openstack_hypervisor_memory_mb", "hypervisor", s, e)
    load = reader.by("stackwatch_host_load15", "host", s, e)
    load_max = reader.by("stackwatch_host_load15", "host", s, e, stat="max")
    instances_at_end: dict[str, int] = defaultdict(int)
    hours: dict[str, float] = defaultdict(float)
    for lc in data.lifecycles.values():
        h = alive_seconds(lc, s, e)
        if h > 0:
            hours[lc.host or "unknown"] += h / 3600.0
            if alive_seconds(lc, e - 1, e) > 0:
                instances_at_end[lc.host or "unknown"] += 1
    names = sorted(set(used) | set(load) | set(hours))
    rows = []
    for n in names:
        mem_pct = None
        if mean(mem_used.get(n, [])) is not None and mean(mem.get(n, [])):
            mem_pct = 100.0 * mean(mem_used[n]) / mean(mem[n])
        rows.append((n, _r(mean(used.get(n, []))), _r(peak(used.get(n, []))), _r(mean(total.get(n, []))), _r(mem_pct),
                     _r(mean(load.get(n, []))), _r(peak(load_max.get(n, []))), instances_at_end.get(n, 0),
                     _r(hours.get(n, 0.0))))
    table = Table("compute_nodes", "Compute nodes",
                  ("Node", "vCPUs used (mean)", "vCPUs used (peak)", "vCPUs", "RAM used % (mean)", "Load15 (mean)",
                   "Load15 (peak)", "Instances at end", "Instance-hours"), tuple(rows))
    charts = []
    if load:
        top = sorted(load, key=lambda n: -(mean(load[n]) or 0))[:8]
        charts.append(Chart("node_load", "Load15 per node (daily mean, busiest 8)",
                            tuple((n, tuple(daily(load[n]))) for n in top)))
    return Section("nodes", "Compute nodes", (table,), tuple(charts), "" if rows else "No compute node data.")


def api_section(reader: RollupReader, period: Period) -> Section:
    s, e = period.start, period.end
    per_class: dict[tuple[str, str], list] = {}
    for labels, pts in reader.read("stackwatch_api_requests_total", s, e):
        key = (labels.get("service", ""), labels.get("status_class", ""))
        per_class.setdefault(key, []).extend(pts)
    services = sorted({svc for svc, _ in per_class})
    rows, series = [], []
    hours = max(period.days * 24.0, 1.0)
    for svc in services:
        hourly: dict[float, float] = defaultdict(float)
        total = errors5 = errors4 = 0.0
        for (sv, cls), pts in per_class.items():
            if sv != svc:
                continue
            for ts, v in pts:
                hourly[ts - ts % 3600] += v
                total += v
                errors5 += v if cls == "5xx" else 0.0
                errors4 += v if cls == "4xx" else 0.0
        latency = reader.total("stackwatch_api_request_duration_seconds", s, e, {"service": svc, "quantile": "0.95"})
        rows.append((svc, round(total), _r(total / hours), _r(max(hourly.values(), default=0.0)),
                     _r(100.0 * errors5 / total) if total else None, _r(100.0 * errors4 / total) if total else None,
                     _r(mean(latency))))
        series.append((svc, tuple(daily(sorted(hourly.items()), "sum"))))
    table = Table("api_requests", "API requests and error rates per service",
                  ("Service", "Requests", "Per hour (mean)", "Per hour (peak)", "5xx %", "4xx %", "Latency p95 s"),
                  tuple(rows), note="From the API services' request log lines (logs' metrics).")
    charts = (Chart("api_per_day", "API requests per day", tuple(series)),) if series else ()
    return Section("api", "API requests", (table,), charts, "" if rows else "No API request data (logs) in this period.")


def probes_section(reader: RollupReader, period: Period, slo: float = 99.0) -> Section:
    s, e = period.start, period.end
    success = reader.by("stackwatch_probe_success", "probe", s, e)
    duration = reader.by("stackwatch_probe_duration_seconds", "probe", s, e)
    rows = []
    for probe in sorted(set(success) | set(duration)):
        rate = mean(success.get(probe, []))
        values = [v for _, v in duration.get(probe, [])]
        pct = None if rate is None else 100.0 * rate
        rows.append((probe, _r(pct), slo, None if pct is None else ("met" if pct >= slo else "MISSED"),
                     _r(percentile(values, 50)), _r(percentile(values, 95)), _r(max(values, default=None))))
    table = Table("probe_slo", "Probes: success and latency (SLO)",
                  ("Probe", "Success %", "SLO %", "SLO", "Latency p50 s", "Latency p95 s", "Latency max s"),
                  tuple(rows), note="Success: the share of the period's probe runs that passed (mean of the hourly "
                                    "rollups); latency percentiles over the hourly means.")
    charts = ((Chart("probe_latency", "Probe duration (daily mean, seconds)",
                     tuple((p, tuple(daily(pts))) for p, pts in sorted(duration.items())), "s"),) if duration else ())
    return Section("probes", "Probes (SLO)", (table,), charts, "" if rows else "No probe ran in this period.")


def alerts_section(alert_rows: list[tuple], period: Period) -> Section:
    """alert_rows: (severity, fired_at, acknowledged_at or None, resolved_at or None) of alerts that fired in
    the period."""
    by: dict[str, dict[str, list]] = defaultdict(lambda: {"fired": [], "ack": [], "resolve": []})
    for severity, fired, acked, resolved in alert_rows:
        if fired is None or not period.start <= fired < period.end:
            continue
        b = by[severity or "none"]
        b["fired"].append(fired)
        if acked is not None and acked >= fired:
            b["ack"].append(acked - fired)
        if resolved is not None and resolved >= fired:
            b["resolve"].append(resolved - fired)
    order = {"critical": 0, "error": 1, "warning": 2, "info": 3}
    rows = []
    for sev in sorted(by, key=lambda x: order.get(x, 9)):
        b = by[sev]
        rows.append((sev, len(b["fired"]), len(b["ack"]), _minutes(b["ack"], 50), len(b["resolve"]),
                     _minutes(b["resolve"], 50), _minutes(b["resolve"], 95)))
    table = Table("alerts_by_severity", "Alerts by severity",
                  ("Severity", "Fired", "Acknowledged", "Time to ack (median, min)", "Resolved",
                   "Time to resolve (median, min)", "Time to resolve (p95, min)"), tuple(rows))
    return Section("alerts", "Alerts", (table,), (), "" if rows else "No alert fired in this period.")


def _minutes(values: list[float], q: float):
    if not values:
        return None
    return _r((median(values) if q == 50 else percentile(values, q)) / 60.0)


def _r(v):
    return None if v is None else round(float(v), 2)
