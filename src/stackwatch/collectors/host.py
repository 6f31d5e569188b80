"""The host collector: CPU, load, memory, swap, filesystems and network interfaces of the machine
it runs on, read with psutil (in-process only; `stackwatch-check` stays psutil-free).

Every sample carries host=<the host name given to the constructor>. Series follow node_exporter's
shapes under the stackwatch_host_ prefix; counters (CPU seconds, network totals) are Kind.COUNTER.
"""

from __future__ import annotations

import logging
import os

import psutil

from stackwatch.checks import linux
from stackwatch.collectors import COLLECTORS
from stackwatch.collectors.base import Collector, SampleList, up_sample
from stackwatch.model import Kind, Sample

log = logging.getLogger(__name__)

P = "stackwatch_host_"

# Mounted filesystems that hold no data of their own; psutil's all=False already leaves out most.
PSEUDO_FS = frozenset({
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs",
    "efivarfs", "fusectl", "hugetlbfs", "mqueue", "nsfs", "overlay", "proc", "pstore", "ramfs",
    "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs", "tmpfs", "tracefs",
})

NETWORK_COUNTERS = (
    ("bytes_recv", "receive_bytes_total", "Bytes received"),
    ("bytes_sent", "transmit_bytes_total", "Bytes transmitted"),
    ("packets_recv", "receive_packets_total", "Packets received"),
    ("packets_sent", "transmit_packets_total", "Packets transmitted"),
    ("errin", "receive_errors_total", "Receive errors"),
    ("errout", "transmit_errors_total", "Transmit errors"),
    ("dropin", "receive_drops_total", "Received packets dropped"),
    ("dropout", "transmit_drops_total", "Transmitted packets dropped"),
)


def real_mounts() -> list:
    """psutil partitions that hold data: physical devices (all=False), plus an overlay root
    (containers), one entry per mount point, pseudo filesystems left out."""
    parts = list(psutil.disk_partitions(all=False))
    parts += [p for p in psutil.disk_partitions(all=True) if p.mountpoint == "/" and p.fstype == "overlay"]
    seen, out = set(), []
    for p in parts:
        if p.mountpoint in seen or (p.fstype in PSEUDO_FS and not (p.fstype == "overlay" and p.mountpoint == "/")):
            continue
        seen.add(p.mountpoint)
        out.append(p)
    return out


@COLLECTORS.register("host")
class HostCollector(Collector):
    """The machine's CPU, load, memory, swap, filesystems and network interfaces."""

    name = "host"

    def __init__(self, host: str, sysfs: str = "/sys"):
        self.host, self.sysfs = host, sysfs

    def collect(self, now: float) -> list[Sample]:
        out = SampleList(now, {"host": self.host})
        ok = True
        for part in (self._cpu, self._load, self._memory, self._filesystems, self._network):
            try:
                ok = part(out) and ok
            except Exception:  # one unreadable part must not lose the others
                log.warning("host collector: %s failed", part.__name__, exc_info=True)
                ok = False
        out.append(up_sample(self.name, now, ok, {"host": self.host}))
        return list(out)

    def _cpu(self, out: SampleList) -> bool:
        for mode, seconds in psutil.cpu_times()._asdict().items():
            out.add(P + "cpu_seconds_total", seconds, "Seconds the CPUs spent in each mode", Kind.COUNTER, mode=mode)
        out.add(P + "cpu_count", psutil.cpu_count() or 0, "Number of logical CPUs")
        return True

    def _load(self, out: SampleList) -> bool:
        for minutes, value in zip((1, 5, 15), os.getloadavg()):
            out.add(f"{P}load{minutes}", value, f"{minutes}-minute load average")
        return True

    def _memory(self, out: SampleList) -> bool:
        mem, swap = psutil.virtual_memory(), psutil.swap_memory()
        out.add(P + "memory_total_bytes", mem.total, "Physical memory")
        out.add(P + "memory_available_bytes", mem.available, "Memory available to start new programs without swapping")
        out.add(P + "memory_used_ratio", (mem.total - mem.available) / mem.total if mem.total else 0.0,
                "Share of memory in use: (total - available) / total")
        out.add(P + "swap_total_bytes", swap.total, "Swap space")
        out.add(P + "swap_used_bytes", swap.used, "Swap space in use")
        return True

    def _filesystems(self, out: SampleList) -> bool:
        ok = True
        for part in real_mounts():
            try:
                st = os.statvfs(part.mountpoint)
            except OSError as exc:  # e.g. a stale NFS mount: report the others
                log.warning("host collector: cannot stat %s: %s", part.mountpoint, exc)
                ok = False
                continue
            labels = {"mountpoint": part.mountpoint, "device": part.device, "fstype": part.fstype}
            size, free, avail = (st.f_blocks * st.f_frsize, st.f_bfree * st.f_frsize, st.f_bavail * st.f_frsize)
            used = size - free
            out.add(P + "filesystem_size_bytes", size, "Filesystem size", **labels)
            out.add(P + "filesystem_free_bytes", free, "Free space, including space reserved for root", **labels)
            out.add(P + "filesystem_avail_bytes", avail, "Space available to non-root users", **labels)
            out.add(P + "filesystem_used_ratio", used / (used + avail) if used + avail else 0.0,
                    "Share in use as df shows it: used / (used + available)", **labels)
            out.add(P + "filesystem_files", st.f_files, "Inodes", **labels)
            out.add(P + "filesystem_files_free", st.f_ffree, "Free inodes", **labels)
        return ok

    def _network(self, out: SampleList) -> bool:
        for nic, counters in psutil.net_io_counters(pernic=True).items():
            for attr, suffix, help_text in NETWORK_COUNTERS:
                out.add(f"{P}network_{suffix}", getattr(counters, attr), help_text, Kind.COUNTER, interface=nic)
            up = linux.link_up(nic, self.sysfs)
            if up is not None:
                out.add(P + "network_up", int(up), "1 when the interface is UP as `ip a` shows it, else 0",
                        interface=nic)
        return True
