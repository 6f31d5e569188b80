"""The os-capacity judgement (pure): placement's capacity (total - reserved) x allocation ratio, minus usage."""

from __future__ import annotations

import pytest

from stackwatch.checks.capacity import CapacityCheck, CapacityOptions, judge, room
from stackwatch.checks.openstack_api import ProviderRow
from stackwatch.states import State

# The lab's fake driver, as placement reports it (1000 vCPU x 16, 800000 MB - 512 reserved x 1.5, 600000 GB x 1)
LAB = ProviderRow("vm", {"VCPU": {"total": 1000, "reserved": 0, "allocation_ratio": 16.0},
                         "MEMORY_MB": {"total": 800000, "reserved": 512, "allocation_ratio": 1.5},
                         "DISK_GB": {"total": 600000, "reserved": 0, "allocation_ratio": 1.0}},
                  {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0})


def host(name, vcpus=32, used_vcpus=0, ram_mb=262144, used_ram=0, disk_gb=2000, used_disk=0, ratio=4.0):
    return ProviderRow(name, {"VCPU": {"total": vcpus, "reserved": 0, "allocation_ratio": ratio},
                              "MEMORY_MB": {"total": ram_mb, "reserved": 0, "allocation_ratio": 1.0},
                              "DISK_GB": {"total": disk_gb, "reserved": 0, "allocation_ratio": 1.0}},
                       {"VCPU": used_vcpus, "MEMORY_MB": used_ram, "DISK_GB": used_disk})


def test_room_applies_reserved_and_allocation_ratio():
    assert room(LAB) == {"VCPU": (16000.0, 0.0), "MEMORY_MB": ((800000 - 512) * 1.5, 0.0), "DISK_GB": (600000.0, 0.0)}


def test_lab_status_line():
    check = CapacityCheck(CapacityOptions())
    line = check.status_line(judge([LAB], check.options))
    assert line.startswith("CAPACITY OK - disk 585.9 TiB of 585.9 TiB free (100%), ram 1.1 TiB of 1.1 TiB free (100%), "
                           "vcpus 16000 of 16000 free (100%) (1 resource providers) | ")
    assert "ram_free=1199232MB;119923:;59962:;0;1199232" in line and "vcpus_free=16000;;;0;16000" in line


@pytest.mark.parametrize("options, state", [
    (CapacityOptions(vcpus_warning="64", vcpus_critical="16"), State.OK),           # 2 x 128 - 180 = 76 free
    (CapacityOptions(vcpus_warning="80", vcpus_critical="16"), State.WARNING),
    (CapacityOptions(vcpus_warning="80", vcpus_critical="76"), State.CRITICAL),     # at the limit alerts
    (CapacityOptions(vcpus_warning="30%"), State.WARNING),                          # 76 / 256 = 29.7 %
    (CapacityOptions(ram_warning="100G", ram_critical="64"), State.OK),             # 512 - 300 GiB free; bare = GB
    (CapacityOptions(ram_warning="250G"), State.WARNING),
    (CapacityOptions(disk_critical="50%"), State.CRITICAL),                         # 1000 of 4000 GB free
])
def test_free_amounts_by_thresholds(options, state):
    hosts = [host("c1", vcpus=32, used_vcpus=100, used_ram=150 * 1024, used_disk=1500),
             host("c2", vcpus=32, used_vcpus=80, used_ram=150 * 1024, used_disk=1500)]
    assert judge(hosts, options).state is state


def test_per_provider_finds_the_full_host():
    hosts = [host("c1", used_vcpus=128), host("c2")]
    opts = dict(vcpus_critical="0", ram_warning=None, ram_critical=None, disk_warning=None, disk_critical=None)
    assert judge(hosts, CapacityOptions(**opts)).state is State.OK                  # the sum has room
    outcome = judge(hosts, CapacityOptions(per_provider=True, **opts))
    assert outcome.state is State.CRITICAL and outcome.summary.startswith("c1 vcpus 0 of 128 free (0%) (at or below 0)")


def test_no_inventory_is_unknown():
    outcome = judge([], CapacityOptions())
    assert outcome.state is State.UNKNOWN and "0 resource providers" in outcome.summary
