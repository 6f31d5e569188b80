"""One /proc scan shared by the in-process procs checks of a cycle (linux.processes' max_age), and never
shared by `stackwatch-check` (standalone), which scans afresh without its own process."""

from __future__ import annotations

import os
import threading

from stackwatch.checks import linux
from stackwatch.checks.procs import ProcsCheck, ProcsOptions
from tests.checks.test_procs import PROCS, fake_proc


def add_process(proc: str, pid: int, comm: str, argv: list[str]) -> None:
    d = os.path.join(proc, str(pid))
    os.mkdir(d)
    with open(os.path.join(d, "comm"), "w") as fh:
        fh.write(comm + "\n")
    with open(os.path.join(d, "cmdline"), "wb") as fh:
        fh.write(b"\0".join(a.encode() for a in argv) + b"\0")


def test_a_recent_scan_is_reused_within_max_age(tmp_path):
    proc = fake_proc(tmp_path, PROCS)
    first = linux.processes(proc, max_age=60)
    add_process(proc, 105, "nova-compute", ["/usr/bin/nova-compute"])
    assert sorted(p.pid for p in linux.processes(proc, max_age=60)) == sorted(p.pid for p in first)
    assert 105 in {p.pid for p in linux.processes(proc)}                  # max_age 0: always a fresh scan
    assert 105 not in {p.pid for p in linux.processes(proc, max_age=60)}  # a fresh scan is not stored


def test_an_old_scan_is_not_reused(tmp_path):
    proc = fake_proc(tmp_path, PROCS)
    linux.processes(proc, max_age=60)
    add_process(proc, 105, "nova-compute", ["/usr/bin/nova-compute"])
    key = (proc, False)
    when, scan = linux._SHARED[key]
    linux._SHARED[key] = (when - 61, scan)                                 # as if a minute had passed
    assert 105 in {p.pid for p in linux.processes(proc, max_age=60)}


def test_exclusion_applies_to_a_shared_scan(tmp_path):
    proc = fake_proc(tmp_path, PROCS)
    linux.processes(proc, max_age=60)
    pids = {p.pid for p in linux.processes(proc, exclude=frozenset({101, 102}), max_age=60)}
    assert pids == set(PROCS) - {101, 102}
    assert {101, 102} <= {p.pid for p in linux.processes(proc, max_age=60)}  # the shared scan is untouched


def test_a_scan_with_executables_serves_one_without(tmp_path):
    proc = fake_proc(tmp_path, PROCS)
    with_exe = linux.processes(proc, with_exe=True, max_age=60)
    add_process(proc, 105, "nova-compute", ["/usr/bin/nova-compute"])
    assert {p.pid for p in linux.processes(proc, max_age=60)} == {p.pid for p in with_exe}


def test_concurrent_callers_share_one_scan(tmp_path, monkeypatch):
    proc = fake_proc(tmp_path, PROCS)
    scans = []
    real_scan = linux._scan
    gate = threading.Event()

    def slow_scan(*args):
        scans.append(args)
        gate.wait(5)
        return real_scan(*args)

    monkeypatch.setattr(linux, "_scan", slow_scan)
    results = []
    threads = [threading.Thread(target=lambda: results.append(len(linux.processes(proc, max_age=60))))
               for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert len(scans) == 1 and results == [len(PROCS)] * 8


def test_in_process_checks_share_and_standalone_does_not(tmp_path):
    proc = fake_proc(tmp_path, PROCS)
    in_process = ProcsCheck(ProcsOptions(process="nova-compute"), proc=proc)
    assert in_process.probe()[0].value == 3
    add_process(proc, 105, "nova-compute", ["/usr/bin/nova-compute"])
    assert ProcsCheck(ProcsOptions(process="nova-compute"), proc=proc).probe()[0].value == 3  # the same scan
    standalone = ProcsCheck(ProcsOptions(process="nova-compute"), proc=proc)
    standalone.standalone = True
    assert standalone.probe()[0].value == 4
