"""The OpenStack inventory as series: API list items (JSON dicts) in, (metric, labels, value) rows out.

Pure: stdlib only, no I/O, no clock. The collectors (collectors/openstack*.py) fetch the lists and write the
rows; this module decides what is counted and how it is labelled, and keeps the server cache that
changes-since polling updates.

Metric names are a contract (a report reads them): stackwatch_openstack_compute_services{host,binary,zone,status,
state}, _hypervisor_*{hypervisor}, _allocation_ratio{hypervisor,resource}, _instances{host,state,flavor,project},
_images{status,visibility}, _image_bytes{status,visibility}, _snapshots, _volumes{status,project},
_volume_gb{status,project}, _floating_ips{status,network}, _network_agents{host,type,alive,admin_state}.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, NamedTuple

P = "stackwatch_openstack_"


class Row(NamedTuple):
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    @classmethod
    def of(cls, name: str, value: float, **labels: str) -> "Row":
        return cls(P + name, tuple(sorted((k, "" if v is None else str(v)) for k, v in labels.items())), float(value))


def compute_services(services: Iterable[dict]) -> list[Row]:
    """One row per nova service (value 1), its status (enabled/disabled) and state (up/down) as labels."""
    return [Row.of("compute_services", 1, host=s.get("host"), binary=s.get("binary"), zone=s.get("zone"),
                   status=s.get("status"), state=s.get("state")) for s in services]


HYPERVISOR_FIELDS = (("vcpus", "vcpus"), ("vcpus_used", "vcpus_used"), ("memory_mb", "memory_mb"),
                     ("memory_mb_used", "memory_mb_used"), ("disk_gb", "local_gb"), ("disk_gb_used", "local_gb_used"))
PLACEMENT_CLASSES = {"VCPU": "vcpus", "MEMORY_MB": "memory_mb", "DISK_GB": "disk_gb"}


def hypervisors(items: Iterable[dict], inventories: dict[str, dict] | None = None) -> list[Row]:
    """Totals and usage per hypervisor (os-hypervisors/detail), allocation ratios from placement's
    inventories ({provider name: {resource class: {allocation_ratio...}}})."""
    rows = []
    for h in items:
        name = h.get("hypervisor_hostname") or str(h.get("id"))
        for metric, field in HYPERVISOR_FIELDS:
            value = h.get(field)
            if isinstance(value, (int, float)):
                rows.append(Row.of(f"hypervisor_{metric}", value, hypervisor=name))
    for name, inventory in sorted((inventories or {}).items()):
        for rc, spec in sorted(inventory.items()):
            ratio = spec.get("allocation_ratio") if isinstance(spec, dict) else None
            if isinstance(ratio, (int, float)):
                rows.append(Row.of("allocation_ratio", ratio, hypervisor=name,
                                   resource=PLACEMENT_CLASSES.get(rc, rc.lower())))
    return rows


class ServerView(NamedTuple):
    """The part of a server the inventory counts."""

    host: str
    state: str
    flavor: str
    project: str


GONE = frozenset({"DELETED", "SOFT_DELETED"})


def server_view(server: dict, flavor_names: dict[str, str] | None = None) -> ServerView:
    flavor = server.get("flavor") or {}
    name = flavor.get("original_name")  # microversion >= 2.47 embeds the flavor
    if not name:
        fid = str(flavor.get("id", ""))
        name = (flavor_names or {}).get(fid, fid)
    return ServerView(server.get("OS-EXT-SRV-ATTR:host") or "", str(server.get("status", "")).upper(), name or "",
                      server.get("tenant_id") or server.get("project_id") or "")


class ServerCache:
    """Servers by id, kept between polls: a full list replaces it, a changes-since list updates it (deleted
    servers come back with status DELETED and leave). `marker` is the newest `updated` seen, for the next
    changes-since (the cloud's clock, never ours)."""

    def __init__(self):
        self.servers: dict[str, ServerView] = {}
        self.marker: str | None = None

    def replace(self, servers: Iterable[dict], flavor_names: dict[str, str] | None = None) -> None:
        self.servers, self.marker = {}, None
        self.update(servers, flavor_names)

    def update(self, servers: Iterable[dict], flavor_names: dict[str, str] | None = None) -> int:
        changed = 0
        for s in servers:
            sid = s.get("id")
            if not sid:
                continue
            changed += 1
            updated = s.get("updated")
            if updated and (self.marker is None or updated > self.marker):
                self.marker = updated
            view = server_view(s, flavor_names)
            if view.state in GONE:
                self.servers.pop(sid, None)
            else:
                self.servers[sid] = view
        return changed

    def rows(self) -> list[Row]:
        counts = Counter(self.servers.values())
        return [Row.of("instances", n, host=v.host, state=v.state, flavor=v.flavor, project=v.project)
                for v, n in sorted(counts.items())]


def images(items: Iterable[dict]) -> list[Row]:
    """Image count and bytes by status and visibility; snapshots (nova's image_type=snapshot) counted apart."""
    count, size, snapshots = Counter(), Counter(), 0
    for img in items:
        key = (img.get("status") or "", img.get("visibility") or "")
        count[key] += 1
        size[key] += img.get("size") or 0
        if img.get("image_type") == "snapshot":
            snapshots += 1
    rows = []
    for (status, visibility), n in sorted(count.items()):
        rows.append(Row.of("images", n, status=status, visibility=visibility))
        rows.append(Row.of("image_bytes", size[(status, visibility)], status=status, visibility=visibility))
    rows.append(Row.of("snapshots", snapshots))
    return rows


def volumes(items: Iterable[dict]) -> list[Row]:
    count, gb = Counter(), Counter()
    for v in items:
        key = (v.get("status") or "", v.get("os-vol-tenant-attr:tenant_id") or v.get("project_id") or "")
        count[key] += 1
        gb[key] += v.get("size") or 0
    rows = []
    for (status, project), n in sorted(count.items()):
        rows.append(Row.of("volumes", n, status=status, project=project))
        rows.append(Row.of("volume_gb", gb[(status, project)], status=status, project=project))
    return rows


def floating_ips(items: Iterable[dict], network_names: dict[str, str] | None = None) -> list[Row]:
    """Used (bound to a port) and free floating IPs per external network; both rows for every network seen."""
    count = Counter()
    for ip in items:
        net = ip.get("floating_network_id") or ""
        count[((network_names or {}).get(net, net), "used" if ip.get("port_id") else "free")] += 1
    nets = sorted({net for net, _ in count})
    return [Row.of("floating_ips", count[(net, status)], status=status, network=net)
            for net in nets for status in ("used", "free")]


def network_agents(items: Iterable[dict]) -> list[Row]:
    return [Row.of("network_agents", 1, host=a.get("host"), type=a.get("agent_type"),
                   alive=str(bool(a.get("alive"))).lower(), admin_state="up" if a.get("admin_state_up") else "down")
            for a in items]
