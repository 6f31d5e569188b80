"""The interface check: UP/DOWN as `ip a` shows it, on the real host and on fake /sys trees."""

from __future__ import annotations

import os

import pytest

from stackwatch.checks import linux
from stackwatch.checks.interface import InterfaceCheck, InterfaceOptions
from stackwatch.model import State


def fake_sys(tmp_path, links):
    """A /sys tree: name -> (flags, operstate, type)."""
    net = tmp_path / "sys" / "class" / "net"
    net.mkdir(parents=True)
    for name, (flags, operstate, arptype) in links.items():
        d = net / name
        d.mkdir()
        (d / "flags").write_text(f"{flags:#x}\n")
        (d / "operstate").write_text(operstate + "\n")
        (d / "type").write_text(f"{arptype}\n")
    return str(tmp_path / "sys")


LINKS = {
    "lo": (0x9, "unknown", 772),          # UP,LOOPBACK; state UNKNOWN: ip a shows it UP
    "eth0": (0x1003, "up", 1),            # UP, carrier
    "eth1": (0x1003, "down", 1),          # admin up, NO-CARRIER
    "eth2": (0x1002, "down", 1),          # admin down
    "tun0": (0x1091, "unknown", 65534),   # UP, no operstate reported
    "br0": (0x1003, "dormant", 1),
}


@pytest.mark.parametrize("name, up", [("lo", True), ("eth0", True), ("eth1", False), ("eth2", False),
                                      ("tun0", True), ("br0", False), ("eth9", None)])
def test_link_up(tmp_path, name, up):
    assert linux.link_up(name, fake_sys(tmp_path, LINKS)) is up


@pytest.mark.parametrize("interface, expect, state, summary", [
    ("eth0", "up", State.OK, "eth0 is UP"),
    ("eth1", "up", State.CRITICAL, "eth1 is DOWN (expected UP)"),
    ("eth9", "up", State.CRITICAL, "eth9 is missing (expected UP)"),
    ("eth0,eth2,eth9", "up", State.CRITICAL, "eth2 is DOWN (expected UP), eth9 is missing (expected UP), eth0 is UP"),
    ("eth2", "down", State.OK, "eth2 is DOWN"),
    ("eth0", "down", State.CRITICAL, "eth0 is UP (expected DOWN)"),
])
def test_expectations(tmp_path, interface, expect, state, summary):
    outcome = InterfaceCheck(InterfaceOptions(interface, expect), sysfs=fake_sys(tmp_path, LINKS)).run()
    assert (outcome.state, outcome.summary) == (state, summary)


def test_administratively_up_non_loopback_by_default(tmp_path):
    check = InterfaceCheck(InterfaceOptions(), sysfs=fake_sys(tmp_path, LINKS))
    assert check.wanted() == ["br0", "eth0", "eth1", "tun0"]  # eth2 was set down on purpose
    outcome = check.run()
    assert outcome.state is State.CRITICAL  # eth1 is up but has no carrier
    assert [str(p) for p in outcome.perfdata] == ["br0=0;;1:;0;1", "eth0=1;;1:;0;1", "eth1=0;;1:;0;1",
                                                  "tun0=1;;1:;0;1"]


def test_no_interfaces_is_unknown(tmp_path):
    outcome = InterfaceCheck(InterfaceOptions(), sysfs=fake_sys(tmp_path, {"lo": LINKS["lo"]})).run()
    assert outcome.state is State.UNKNOWN


def test_real_loopback_is_up():
    assert os.path.isdir("/sys/class/net/lo")
    outcome = InterfaceCheck(InterfaceOptions(interface="lo")).run()
    assert (outcome.state, outcome.summary) == (State.OK, "lo is UP")
    assert InterfaceCheck(InterfaceOptions(interface="no-such-if0")).run().state is State.CRITICAL
