"""`stackwatch-check` as Nagios runs it: the real console script in a subprocess, one status line,
exit 0/1/2/3, and UNKNOWN (3), never 2, for anything that is not a verdict on the system."""

from __future__ import annotations


import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stackwatch.checks import BUILTIN

SCRIPT = Path(sys.executable).with_name("stackwatch-check")
PERF = r"/=\d+MB;\d+;\d+;0;\d+"


def run(*args: str, timeout: float = 30):
    assert SCRIPT.exists(), f"{SCRIPT} missing: pip install -e ."
    proc = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("warning, critical, code, word", [
    ("0%", "0%", 0, "OK"),
    ("100%", "0%", 1, "WARNING"),
    ("100%", "100%", 2, "CRITICAL"),
])
def test_disk_states(warning, critical, code, word):
    rc, out, _ = run("disk", "--path", "/", "--warning", warning, "--critical", critical)
    assert rc == code
    assert re.fullmatch(rf"DISK {word} - free space: / \d+ MB \(\d+%( inode=\d+%)?\) \| {PERF}\n", out), out


def test_disk_defaults_read_like_check_disk():
    rc, out, _ = run("disk", "--path", "/", "--warning", "20%", "--critical", "10%")
    assert rc in (0, 1, 2) and out.startswith("DISK ") and out.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (("disk", "--bogus"), "UNKNOWN - unrecognized arguments: --bogus"),
    (("disk", "-w", "lots"), "UNKNOWN - argument -w/--warning: not a free-space threshold: 'lots'"),
    (("disk", "-w"), "UNKNOWN - argument -w/--warning: expected one argument"),
    (("procs", "--critical", "5:1"), "UNKNOWN - argument -c/--critical: not a Nagios range: '5:1'"),
    (("nosuchcheck",), "UNKNOWN - unknown check 'nosuchcheck'; known: " + ", ".join(sorted(BUILTIN))),
    (("--warning", "5"), "UNKNOWN - expected a check name before options, got '--warning'"),
    (("disk", "-t", "0"), "UNKNOWN - argument -t/--timeout: not a timeout in seconds: '0'"),
])
def test_usage_errors_are_unknown_never_critical(args, message):
    rc, out, _ = run(*args)
    assert rc == 3
    assert out.startswith(message) and out.count("\n") == 1, out


def _running(pattern: str) -> int:
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if pattern in fh.read().replace(b"\0", b" ").decode(errors="replace"):
                    count += 1
        except OSError:
            continue
    return count


def test_procs_missing_is_critical():
    rc, out, _ = run("procs", "--process", "nova-compute-absent-7c1e", "--critical", "1:")
    assert rc == 2
    assert out == "PROCS CRITICAL: 0 processes with args 'nova-compute-absent-7c1e' | procs=0;;1:;0\n"


def test_procs_nova_compute_as_the_issue_runs_it():
    """`--process nova-compute --critical 1:` is CRITICAL where none runs, OK where the lab's does."""
    rc, out, _ = run("procs", "--process", "nova-compute", "--critical", "1:")
    if _running("nova-compute"):
        assert rc == 0 and out.startswith("PROCS OK: ")
    else:
        assert rc == 2
        assert out == "PROCS CRITICAL: 0 processes with args 'nova-compute' | procs=0;;1:;0\n"


def test_procs_does_not_count_itself():
    # the runner's own command line contains the pattern; it must not count
    rc, out, _ = run("procs", "-a", "procs -a unique-pattern-7f3a", "-c", "@1:")
    assert (rc, out) == (0, "PROCS OK: 0 processes with args 'procs -a unique-pattern-7f3a' | procs=0;;@1:;0\n")


def test_list():
    rc, out, _ = run("--list")
    assert rc == 0
    assert out.split() == sorted(BUILTIN)
    assert {"cpu", "disk", "interface", "load", "memory", "procs", "swap", "rabbitmq"} <= set(out.split())


def test_help_is_unknown_not_ok():
    rc, out, _ = run("disk", "--help")
    assert rc == 3 and "--warning" in out
    rc, out, _ = run()
    assert rc == 3 and out.startswith("usage: stackwatch-check NAME")


def test_timeout_is_unknown():
    rc, out, _ = run("cpu", "--sample", "5s", "-t", "0.3", timeout=10)
    assert (rc, out) == (3, "UNKNOWN - cpu check timed out after 0.3s\n")


def test_the_timeout_is_disarmed_when_the_check_is_done():
    """Called in-process (as the tests and a caller in a thread may), the runner leaves no timer behind."""
    code = ("import sys, threading, time; from stackwatch.checks.runner import main\n"
            "codes = [main(['disk', '-w', '0%', '-c', '0%', '-t', '0.2']), main(['disk', '--bogus', '-t', '0.2'])]\n"
            "t = threading.Thread(target=lambda: codes.append(main(['load', '-t', '0.2']))); t.start(); t.join()\n"
            "time.sleep(0.6); print('alive', *codes)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out
    word, disk, bogus, load = out.stdout.splitlines()[-1].split()
    assert (word, disk, bogus) == ("alive", "0", "3") and load in ("0", "1", "2")
    assert "timed out" not in out.stdout


def test_a_huge_timeout_is_no_error():
    rc, out, _ = run("disk", "-w", "0%", "-c", "0%", "-t", "1e30")
    assert rc == 0 and out.startswith("DISK OK")


def test_failing_probe_is_unknown():
    rc, out, _ = run("disk", "--path", "/no/such/dir")
    assert rc == 3
    assert out == "DISK UNKNOWN - FileNotFoundError: [Errno 2] No such file or directory: '/no/such/dir'\n"


def test_verbose_adds_one_line_per_problem():
    rc, out, _ = run("disk", "-w", "100%", "-c", "0%", "-v")
    lines = out.splitlines()
    assert rc == 1 and lines[0].startswith("DISK WARNING - ")
    assert re.fullmatch(r"WARNING: free space \d+% \(at or below 100%\)", lines[1])
    rc, out, _ = run("load", "-vv")
    assert rc == 0 and len(out.splitlines()) == 4    # status line + load1, load5, load15


@pytest.mark.parametrize("args, pattern", [
    (("load",), r"LOAD (OK|WARNING|CRITICAL) - total load average: [\d.]+, [\d.]+, [\d.]+.* \| load1=.*"),
    (("memory", "-w", "100", "-c", "100"), r"MEMORY OK - [\d.]+% used .* \| used=\d+B;\d+;\d+;0;\d+ available=.*"),
    (("swap",), r"SWAP (OK|WARNING|CRITICAL) - .*"),
    (("interface", "-i", "lo"), r"INTERFACE OK - lo is UP \| lo=1;;1:;0;1"),
    (("cpu", "-s", "0.1", "-w", "100", "-c", "100"), r"CPU OK - [\d.]+% busy \(user .*\) \| busy=.*"),
])
def test_every_check_runs(args, pattern):
    rc, out, _ = run(*args)
    assert rc in (0, 1, 2), out
    assert re.fullmatch(pattern + "\n", out), out


def test_only_the_needed_check_is_imported():
    code = ("import sys; from stackwatch.checks.runner import main; rc = main(['disk', '-w', '0%', '-c', '0%']); "
            "mods = sorted(m for m in sys.modules if m.startswith('stackwatch') or m in "
            "('psutil', 'json', 'logging', 'nagiosplugin')); print(rc, mods)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    status, loaded = out.splitlines()
    assert status.startswith("DISK OK")
    assert "stackwatch.checks.disk" in loaded
    for absent in ("stackwatch.checks.procs", "stackwatch.checks.cpu", "psutil", "nagiosplugin", "stackwatch.config"):
        assert f"'{absent}'" not in loaded


HOST_CHECKS = [("disk", "-w", "0%", "-c", "0%"), ("load",), ("cpu", "-s", "0.05"), ("memory",), ("swap",),
               ("procs", "-a", "nova-compute"), ("interface", "-i", "lo")]


@pytest.mark.parametrize("argv", HOST_CHECKS, ids=lambda a: a[0])
def test_the_runner_path_stays_import_light(argv):
    # each of these cost stackwatch-check milliseconds per run (dataclasses pulls in inspect, model
    # builds dataclasses, argparse pulls in re, gettext and locale); keep them off the path of a host check.
    # -S: without site, as a launcher runs it, so that nothing a .pth file imports hides what the runner does
    code = (f"import sys; from stackwatch.checks.runner import main; rc = main({list(argv)!r}); "
            "print(sorted(sys.modules))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True,
                         env=env).stdout
    *status, loaded = out.splitlines()
    assert status[0].startswith(argv[0].upper() + " ") or status[0].startswith("PROCS "), status
    heavy = {"dataclasses", "inspect", "typing", "logging", "json", "stackwatch.model", "importlib.metadata",
             "argparse", "re", "gettext", "locale", "textwrap"}
    assert heavy & set(ast.literal_eval(loaded)) == set()
