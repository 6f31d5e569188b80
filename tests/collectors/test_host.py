"""The host collector on the real machine: every series present, labelled, and sane."""

from __future__ import annotations

import os
import time

import psutil
import pytest

from stackwatch.collectors import COLLECTORS, get_collector, load_builtins, names
from stackwatch.collectors.base import Collector
from stackwatch.collectors.host import HostCollector, real_mounts
from stackwatch.model import Kind


@pytest.fixture(scope="module")
def samples():
    now = time.time()
    return now, HostCollector("node-1").collect(now)


def series(samples, name):
    return {s.key: s for s in samples[1] if s.key.name == name}


def one(samples, name):
    (sample,) = series(samples, name).values()
    return sample.value


def test_registered_as_host():
    assert "host" in names()
    assert get_collector("host") is HostCollector
    load_builtins()
    assert COLLECTORS.get("host") is HostCollector and issubclass(HostCollector, Collector)


def test_every_sample_is_stamped_labelled_and_explained(samples):
    now, got = samples
    assert got
    for s in got:
        assert s.timestamp == now
        assert s.key.label("host") == "node-1"
        assert s.help, s.key
        assert s.key.name.startswith(("stackwatch_host_", "stackwatch_collector_up"))
    assert len({s.key for s in got}) == len(got)   # no series twice


def test_collector_up(samples):
    assert one(samples, "stackwatch_collector_up") == 1.0


def test_cpu(samples):
    cpu = series(samples, "stackwatch_host_cpu_seconds_total")
    modes = {k.label("mode"): s for k, s in cpu.items()}
    assert {"user", "system", "idle", "iowait", "steal"} <= set(modes)
    assert all(s.kind is Kind.COUNTER and s.value >= 0 for s in modes.values())
    assert modes["idle"].value > 0
    assert one(samples, "stackwatch_host_cpu_count") == os.cpu_count()


def test_load(samples):
    for name, value in zip(("load1", "load5", "load15"), os.getloadavg()):
        assert one(samples, f"stackwatch_host_{name}") == pytest.approx(value, abs=1.0)


def test_memory_and_swap(samples):
    total = one(samples, "stackwatch_host_memory_total_bytes")
    assert total == psutil.virtual_memory().total
    assert 0 < one(samples, "stackwatch_host_memory_available_bytes") <= total
    assert 0 < one(samples, "stackwatch_host_memory_used_ratio") < 1
    swap_total = one(samples, "stackwatch_host_swap_total_bytes")
    assert 0 <= one(samples, "stackwatch_host_swap_used_bytes") <= swap_total


def test_root_filesystem(samples):
    sizes = series(samples, "stackwatch_host_filesystem_size_bytes")
    by_mount = {k.label("mountpoint"): k for k in sizes}
    assert "/" in by_mount
    root = dict(by_mount["/"].labels)
    assert root["device"] and root["fstype"]
    st = os.statvfs("/")
    assert sizes[by_mount["/"]].value == st.f_blocks * st.f_frsize

    def value(name):
        return next(s.value for s in samples[1] if s.key.name == name and s.key.label("mountpoint") == "/")

    assert 0 <= value("stackwatch_host_filesystem_avail_bytes") <= value("stackwatch_host_filesystem_free_bytes") \
        <= value("stackwatch_host_filesystem_size_bytes")
    assert 0 <= value("stackwatch_host_filesystem_used_ratio") <= 1
    assert 0 <= value("stackwatch_host_filesystem_files_free") <= value("stackwatch_host_filesystem_files")


def test_no_pseudo_filesystems(samples):
    fstypes = {s.key.label("fstype") for s in samples[1] if s.key.name == "stackwatch_host_filesystem_size_bytes"}
    assert not fstypes & {"proc", "sysfs", "tmpfs", "devtmpfs", "devpts", "cgroup", "cgroup2"}
    mounts = [p.mountpoint for p in real_mounts()]
    assert len(mounts) == len(set(mounts))


def test_network(samples):
    up = {k.label("interface"): s.value for k, s in series(samples, "stackwatch_host_network_up").items()}
    assert up["lo"] == 1.0                                   # ip a: lo is UP (state UNKNOWN)
    for nic in os.listdir("/sys/class/net"):
        flags = int(open(f"/sys/class/net/{nic}/flags").read(), 16)
        operstate = open(f"/sys/class/net/{nic}/operstate").read().strip()
        assert up[nic] == float(bool(flags & 1) and operstate in ("up", "unknown")), nic
    received = series(samples, "stackwatch_host_network_receive_bytes_total")
    assert {k.label("interface") for k in received} == set(up)
    assert all(s.kind is Kind.COUNTER for s in received.values())
    for name in ("transmit_bytes", "receive_packets", "transmit_packets", "receive_errors", "transmit_errors",
                 "receive_drops", "transmit_drops"):
        assert len(series(samples, f"stackwatch_host_network_{name}_total")) == len(up)


def test_counters_do_not_go_backwards():
    collector = HostCollector("node-1")
    first = {s.key: s.value for s in collector.collect(1000.0) if s.kind is Kind.COUNTER}
    second = {s.key: s.value for s in collector.collect(1001.0) if s.kind is Kind.COUNTER}
    assert first.keys() == second.keys()
    assert all(second[k] >= first[k] for k in first)
