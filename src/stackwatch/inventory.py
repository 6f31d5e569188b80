"""The cloud's inventory: hosts, their roles, and the processes each role must run.

Pure: stdlib only. The defaults follow the OpenStack operations guide; config.yaml may override a role's
process list or add roles of its own.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

STANDARD_ROLES = ("controller", "compute", "block-storage", "object-storage", "network")

DEFAULT_ROLE_PROCESSES: dict[str, tuple[str, ...]] = {
    "controller": (
        "nova-api", "nova-scheduler", "nova-conductor", "nova-novncproxy",
        "glance-api", "keystone", "cinder-api", "cinder-scheduler",
        "neutron-server", "placement-api", "rabbitmq-server", "mysqld",
    ),
    "compute": ("nova-compute", "libvirtd"),
    "block-storage": ("cinder-volume",),
    "object-storage": ("swift-proxy-server", "swift-object-server", "swift-container-server",
                       "swift-account-server"),
    "network": ("neutron-dhcp-agent", "neutron-l3-agent", "neutron-metadata-agent",
                "neutron-openvswitch-agent"),
}


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    processes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Host:
    name: str
    address: str
    roles: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def is_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.address).is_loopback
        except ValueError:
            return self.address == "localhost"


@dataclass(frozen=True, slots=True)
class Inventory:
    hosts: tuple[Host, ...]
    roles: dict[str, Role] = field(default_factory=dict)

    def host(self, name: str) -> Host:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(f"unknown host {name!r}; inventory: {', '.join(h.name for h in self.hosts)}")

    def local_hosts(self, hostname: str) -> tuple[Host, ...]:
        """The members that are this machine: named as it is, or at a loopback address."""
        return tuple(h for h in self.hosts if h.name == hostname or h.is_loopback)

    def processes_for(self, host: Host) -> tuple[str, ...]:
        """The processes `host` must run, from all its roles, in role order, without repeats."""
        seen: dict[str, None] = {}
        for role in host.roles:
            for proc in self.roles[role].processes:
                seen.setdefault(proc, None)
        return tuple(seen)

    def hosts_with_role(self, role: str) -> tuple[Host, ...]:
        return tuple(h for h in self.hosts if role in h.roles)
