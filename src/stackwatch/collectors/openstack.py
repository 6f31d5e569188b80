"""The OpenStack inventory collectors: compute services, hypervisors and placement, instances, images, volumes,
floating IPs, network agents and quotas, each a part read by an `InventorySource` (openstack/source.py).

Each part writes its own stackwatch_openstack_collector_duration_seconds{collector} and counts its failures in
stackwatch_openstack_collector_errors_total{collector}; a failing part keeps the others (collect() never
raises). Between polls (`min_age`) a part serves its cached rows instead of asking the cloud again.
`InventoryCycle` reads every part at once on a bounded pool: one full inventory cycle.

Configured under `openstack:` in config.yaml (not the host `collectors:` list): they need a cloud, not a host.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from stackwatch.collectors import COLLECTORS
from stackwatch.collectors.base import Collector, up_sample
from stackwatch.model import Kind, Sample, SeriesKey
from stackwatch.openstack.api import ApiError
from stackwatch.openstack.connection import ConnectionProblem

log = logging.getLogger(__name__)

P = "stackwatch_openstack_"
HELP = {
    "compute_services": "Nova services (1 per service), by status and state",
    "hypervisor_vcpus": "vCPUs of the hypervisor", "hypervisor_vcpus_used": "vCPUs in use on the hypervisor",
    "hypervisor_memory_mb": "Memory of the hypervisor (MB)", "hypervisor_memory_mb_used": "Memory in use (MB)",
    "hypervisor_disk_gb": "Local disk of the hypervisor (GB)", "hypervisor_disk_gb_used": "Local disk in use (GB)",
    "allocation_ratio": "Placement allocation ratio of a resource class on a provider",
    "instances": "Instances per host, state, flavor and project",
    "images": "Images by status and visibility", "image_bytes": "Bytes of images by status and visibility",
    "snapshots": "Instance snapshots (images with image_type=snapshot)",
    "volumes": "Volumes by status and project", "volume_gb": "GB of volumes by status and project",
    "floating_ips": "Floating IPs used (bound to a port) and free, per external network",
    "network_agents": "Neutron agents (1 per agent), alive or not",
    "quota_used": "Quota in use", "quota_limit": "Quota limit (-1: unlimited)", "quota_percent": "Quota used, %",
}


@COLLECTORS.register("openstack")
class OpenStackCollector(Collector):
    """One part of the inventory, e.g. `instances`: `source.<part>()` timed, its rows as samples."""

    def __init__(self, source, part: str, min_age: float = 0.0):
        self.source, self.part, self.min_age = source, part, min_age
        self.name = f"openstack_{part}"
        self.errors = 0
        self._cached: list | None = None
        self._polled_at: float | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = None

    def collect(self, now: float) -> list[Sample]:
        with self._lock:  # never two polls of one part at once
            if self._cached is not None and self._polled_at is not None and now - self._polled_at < self.min_age:
                return self._samples(self._cached, now, None, True)
            started = time.perf_counter()
            ok = True
            try:
                rows = getattr(self.source, self.part)()
                self._cached, self._polled_at, self.last_error = rows, now, None
            except (ApiError, ConnectionProblem, LookupError, ValueError) as exc:
                ok, rows = False, []
                self._fail(exc)
            except Exception as exc:  # a bug or an unexpected answer: logged with its traceback, counted
                ok, rows = False, []
                log.warning("openstack collector %s failed", self.part, exc_info=True)
                self._fail(exc)
            return self._samples(rows, now, time.perf_counter() - started, ok)

    def _fail(self, exc: Exception) -> None:
        self.errors += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.warning("openstack collector %s: %s", self.part, self.last_error)
        if isinstance(exc, ApiError) and exc.unauthorized:
            self.source.forget_connection()  # a token that expired: authenticate again next time

    def _samples(self, rows, now: float, duration: float | None, ok: bool) -> list[Sample]:
        out = [Sample(SeriesKey(r.name, r.labels), now, r.value, Kind.GAUGE, HELP.get(r.name[len(P):], ""))
               for r in rows]
        labels = {"collector": self.part}
        if duration is not None:
            out.append(Sample(SeriesKey.of(P + "collector_duration_seconds", labels), now, duration, Kind.GAUGE,
                              "Seconds one OpenStack collector took to read its part of the inventory"))
        out.append(Sample(SeriesKey.of(P + "collector_errors_total", labels), now, float(self.errors), Kind.COUNTER,
                          "Failed reads of one OpenStack collector"))
        out.append(up_sample(self.name, now, ok, {}))
        return out


class InventoryCycle:
    """Every enabled part read at once, on a pool as wide as there are parts (their fan-out requests go through
    the source's own bounded pool): one full inventory cycle."""

    def __init__(self, source, parts: tuple[str, ...], min_age: float = 0.0):
        self.collectors = [OpenStackCollector(source, part, min_age) for part in parts]
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(parts)), thread_name_prefix="openstack-collect")

    def collect(self, now: float) -> list[Sample]:
        out: list[Sample] = []
        for samples in self._pool.map(lambda c: c.collect(now), self.collectors):
            out.extend(samples)
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
