"""The procs check: check_procs' -a/-C matching on fake /proc trees and on real processes."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid

import pytest

from stackwatch.checks.core import Metric
from stackwatch.checks.procs import ProcsCheck, ProcsOptions
from stackwatch.model import State


def fake_proc(tmp_path, processes):
    """A /proc tree with pid -> (comm, argv); argv None is a kernel thread (empty cmdline)."""
    root = tmp_path / "proc"
    root.mkdir()
    for pid, (comm, argv) in processes.items():
        d = root / str(pid)
        d.mkdir()
        (d / "comm").write_text(comm + "\n")
        (d / "cmdline").write_bytes(b"" if argv is None else b"\0".join(a.encode() for a in argv) + b"\0")
    (root / "meminfo").write_text("")  # not a process
    (root / "self").mkdir()
    return str(root)


PROCS = {
    1: ("systemd", ["/sbin/init", "splash"]),
    2: ("kthreadd", None),
    101: ("nova-compute", ["/usr/bin/python3", "/usr/bin/nova-compute", "--config-file", "/etc/nova/nova.conf"]),
    102: ("nova-compute", ["/usr/bin/python3", "/usr/bin/nova-compute", "--config-file", "/etc/nova/nova.conf"]),
    103: ("neutron-openvsw", ["/usr/bin/python3", "/usr/bin/neutron-openvswitch-agent"]),
    104: ("bash", ["bash", "-c", "grep nova-compute /var/log/x"]),
}


@pytest.mark.parametrize("options, count", [
    ({}, 6),
    ({"process": "nova-compute"}, 3),                     # -a is a substring of the whole argument string
    ({"process": "nova-compute --config-file"}, 2),       # ...joined by spaces
    ({"process": "[kthreadd]"}, 1),                        # kernel threads read as ps shows them
    ({"command": "nova-compute"}, 2),                      # -C is the exact command name
    ({"command": "nova"}, 0),
    ({"command": "neutron-openvswitch-agent"}, 1),         # longer than comm's 15 characters
    ({"command": "bash", "process": "nova-compute"}, 1),   # both must match
])
def test_matching(tmp_path, options, count):
    check = ProcsCheck(ProcsOptions(**options), proc=fake_proc(tmp_path, PROCS))
    assert check.probe() == [Metric("procs", count, min=0)]


def test_vanished_process_is_skipped(tmp_path):
    proc = fake_proc(tmp_path, PROCS)
    os.remove(os.path.join(proc, "101", "cmdline"))      # exited between listdir and open
    assert ProcsCheck(ProcsOptions(process="nova-compute"), proc=proc).probe()[0].value == 2


@pytest.mark.parametrize("count, warning, critical, state", [
    (0, None, "1:", State.CRITICAL), (1, None, "1:", State.OK), (3, "1:2", "1:", State.WARNING),
    (2, "1:2", "1:", State.OK), (5, "", "@5:", State.CRITICAL), (0, "", "", State.OK),
])
def test_thresholds(count, warning, critical, state):
    check = ProcsCheck(ProcsOptions(process="x", warning=warning, critical=critical))
    assert check.evaluate([Metric("procs", count, min=0)]).state is state


def test_status_line_like_check_procs():
    check = ProcsCheck(ProcsOptions(process="nova-compute", critical="1:"))
    assert check.status_line(check.evaluate([Metric("procs", 0, min=0)])) == \
        "PROCS CRITICAL: 0 processes with args 'nova-compute' | procs=0;;1:;0"
    check = ProcsCheck(ProcsOptions(command="sshd", process="-D", warning="1:1"))
    assert check.status_line(check.evaluate([Metric("procs", 1, min=0)])) == \
        "PROCS OK: 1 process with command name 'sshd', args '-D' | procs=1;1:1;;0"


def eventually(count, expected_min=1, seconds=5.0):
    """The count once the children have finished exec'ing (their comm and cmdline change then)."""
    deadline = time.monotonic() + seconds
    while (value := count()) < expected_min and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


def test_real_processes_and_not_itself(tmp_path):
    marker = f"stackwatch-test-{uuid.uuid4().hex[:8]}"
    link = tmp_path / "swt-sleeper"
    link.symlink_to(subprocess.run(["sh", "-c", "command -v sleep"], capture_output=True, text=True).stdout.strip())
    children = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker]) for _ in range(2)]
    children.append(subprocess.Popen([str(link), "60"]))
    try:
        assert eventually(lambda: ProcsCheck(ProcsOptions(process=marker)).probe()[0].value, 2) == 2
        assert eventually(lambda: ProcsCheck(ProcsOptions(command="swt-sleeper")).probe()[0].value) == 1
        # in-process (the platform checking itself) the process counts; standalone (stackwatch-check,
        # whose command line holds the pattern) it does not
        probe = (f"from stackwatch.checks.procs import ProcsCheck, ProcsOptions; "
                 f"c = ProcsCheck(ProcsOptions(process='{marker}-self')); a = c.probe()[0].value; "
                 f"c.standalone = True; print(a, c.probe()[0].value)")
        assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "1 0\n"
    finally:
        for child in children:
            child.kill()
            child.wait()


def test_standalone_does_not_count_the_shell_that_runs_it():
    """NRPE runs commands through `sh -c "..."`: that shell's command line holds the pattern too. Like
    check_procs, the standalone check leaves out its parent, so a dead daemon is CRITICAL, not a wrong OK."""
    pattern = f"swt-dead-daemon-{uuid.uuid4().hex[:8]}"
    script = (f"from stackwatch.checks.procs import ProcsCheck, ProcsOptions; "
              f"c = ProcsCheck(ProcsOptions(process='{pattern}')); c.standalone = True; print(c.probe()[0].value)")
    wrapped = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}; true"   # `; true`: sh stays the parent
    out = subprocess.run(["sh", "-c", wrapped], capture_output=True, text=True, check=True).stdout
    assert out == "0\n"
