"""Quotas per project as the guide's report reads them: Resource | Used | Limit | %.

Pure: stdlib only. Turns the three quota APIs' answers (nova `os-quota-sets/P/detail`, cinder
`os-quota-sets/P?usage=true`, neutron `quotas/P/details`) into `QuotaRow`s, renders them as a table, CSV or
JSON, and as series (stackwatch_openstack_quota_{used,limit,percent}{project,service,resource}).
A limit of -1 is unlimited: its percent is None (no row in the percent series).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable, NamedTuple

from stackwatch.openstack.inventory import Row

# per service: the resources the report shows (the guide's table), in order; other resources are left out
RESOURCES = {
    "compute": ("instances", "cores", "ram", "key_pairs", "server_groups", "server_group_members",
                "metadata_items"),
    "volume": ("volumes", "gigabytes", "snapshots", "backups", "backup_gigabytes", "groups"),
    "network": ("network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule",
                "rbac_policy", "subnetpool"),
}
HIGH = 80.0  # percent above which a row is highlighted


class QuotaRow(NamedTuple):
    project: str
    service: str
    resource: str
    used: float
    limit: float

    @property
    def percent(self) -> float | None:
        if self.limit < 0:
            return None
        if self.limit == 0:
            return 100.0 if self.used > 0 else 0.0
        return 100.0 * self.used / self.limit

    @property
    def high(self) -> bool:
        p = self.percent
        return p is not None and p > HIGH


def parse(project: str, service: str, doc: dict) -> list[QuotaRow]:
    """The rows of one quota answer; entries that are not {limit, in_use|used} are skipped."""
    body = doc.get("quota_set") if service in ("compute", "volume") else doc.get("quota")
    if not isinstance(body, dict):
        raise ValueError(f"{service} quota answer for {project} has no quota set")
    rows = []
    for resource in RESOURCES[service]:
        entry = body.get(resource)
        if not isinstance(entry, dict) or "limit" not in entry:
            continue
        used = entry.get("in_use", entry.get("used", 0))
        if not isinstance(used, (int, float)) or not isinstance(entry["limit"], (int, float)):
            continue
        rows.append(QuotaRow(project, service, resource, float(used), float(entry["limit"])))
    return rows


def series(rows: Iterable[QuotaRow]) -> list[Row]:
    out = []
    for q in rows:
        labels = {"project": q.project, "service": q.service, "resource": q.resource}
        out.append(Row.of("quota_used", q.used, **labels))
        out.append(Row.of("quota_limit", q.limit, **labels))
        if q.percent is not None:
            out.append(Row.of("quota_percent", q.percent, **labels))
    return out


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _cells(q: QuotaRow) -> tuple[str, str, str, str]:
    limit = "unlimited" if q.limit < 0 else _num(q.limit)
    pct = "" if q.percent is None else f"{q.percent:.0f}%"
    return f"{q.service}.{q.resource}", _num(q.used), limit, pct


def table(rows: list[QuotaRow]) -> str:
    """One table per project, as the guide prints it; rows over 80% marked with '!'."""
    out = []
    for project in sorted({q.project for q in rows}):
        mine = [q for q in rows if q.project == project]
        cells = [("Resource", "Used", "Limit", "%")] + [_cells(q) for q in mine]
        widths = [max(len(c[i]) for c in cells) for i in range(4)]
        line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        out += [f"Project {project}", line]
        for i, c in enumerate(cells):
            mark = " !" if i and mine[i - 1].high else ""
            out.append("| " + " | ".join(c[j].ljust(widths[j]) if j == 0 else c[j].rjust(widths[j])
                                         for j in range(4)) + " |" + mark)
            if i == 0:
                out.append(line)
        out += [line, ""]
    return "\n".join(out)


def to_csv(rows: list[QuotaRow]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["project", "service", "resource", "used", "limit", "percent"])
    for q in rows:
        w.writerow([q.project, q.service, q.resource, _num(q.used), _num(q.limit),
                    "" if q.percent is None else f"{q.percent:.1f}"])
    return buf.getvalue()


def to_json(rows: list[QuotaRow]) -> str:
    return json.dumps([{"project": q.project, "service": q.service, "resource": q.resource, "used": q.used,
                        "limit": q.limit, "percent": None if q.percent is None else round(q.percent, 1)}
                       for q in rows], indent=2)
