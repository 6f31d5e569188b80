"""One check cycle of a 100-host inventory (about 3,000 checks) run in-process, as `stackwatch serve` runs
it: the real Runtime (its scheduler, `_check_job`, `record_check` into the SQLite store), and the CPU it
costs per 60 s interval as a share of one core (issue 5: within 10% of one core).

The inventory: 100 all-in-one hosts (every standard role: the 23 processes of the operations guide's
controller, compute, block-storage, object-storage and network lists) at loopback addresses 127.0.1.x,
so every check runs in-process against this machine; 7 host checks each (disk / and /tmp, load, cpu,
memory, swap, interfaces): 30 checks per host. The CPU is the process's own (user + system, all threads,
children included) from the end of the first cycle to the end of the second (the steady state: series
exist, the cpu checks have their previous reading): every check runs exactly once in between, so that is
one cycle's CPU, set against the 60 s interval.

Baselines in the same run: the same number of trivial jobs through the same scheduler (what dispatching
costs), and the same checks run as Nagios runs them, one process per check (Debian's check_procs /
check_disk / check_load ..., sampled and scaled to the cycle), when monitoring-plugins is installed.
BENCH_SCALE scales the number of hosts.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stackwatch.config import build_config
from stackwatch.inventory import DEFAULT_ROLE_PROCESSES, STANDARD_ROLES
from stackwatch.runtime import Runtime
from stackwatch.scheduler import Scheduler

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
HOSTS = max(2, int(100 * SCALE))
INTERVAL = 60.0
PLUGINS = "/usr/lib/nagios/plugins"
HOST_CHECKS = [
    {"type": "disk", "name": "disk-root", "options": {"path": "/", "warning": "20%", "critical": "10%"}},
    {"type": "disk", "name": "disk-tmp", "options": {"path": "/tmp", "warning": "20%", "critical": "10%"}},
    {"type": "load", "options": {"warning": "15,10,5", "critical": "30,25,20"}},
    {"type": "cpu", "options": {"warning": "90", "critical": "98"}},
    {"type": "memory", "options": {"warning": "90", "critical": "95"}},
    {"type": "swap", "options": {"warning": "50%", "critical": "20%"}},
    {"type": "interface", "name": "interfaces"},
]


def cpu_seconds() -> float:
    """User + system CPU of this process (all threads) and its waited-for children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def bench_config(data_dir: Path):
    """The inventory above. config.py builds one `proc-NAME` check per (local host, process) and then
    refuses two local hosts that share a process as a duplicate check name, so the hosts are built
    without roles and the roles and their process checks (one spec per process, run for every host:
    the same jobs the scheduler would get) are put in afterwards."""
    from dataclasses import replace

    from stackwatch.checks import get_check
    from stackwatch.checks.options import options_from_mapping
    from stackwatch.config import CheckSpec
    from stackwatch.inventory import Host, Inventory

    raw = {
        "data_dir": str(data_dir),
        "hostname": "bench-monitor",
        "inventory": {"hosts": [{"name": f"node-{i:03d}", "address": f"127.0.1.{i + 1}", "roles": []}
                                for i in range(HOSTS)]},
        "checks": {"defaults": {"interval": f"{INTERVAL:g}s", "jitter": "5s"}, "host": HOST_CHECKS},
        "collectors": [],
    }
    config = build_config(raw, data_dir / "config.yaml", environ={})
    hosts = tuple(replace(h, roles=STANDARD_ROLES) for h in config.inventory.hosts)
    inventory = Inventory(hosts, config.inventory.roles)
    procs = get_check("procs")
    specs = []
    for proc in inventory.processes_for(hosts[0]):
        options, problems = options_from_mapping(procs.Options, {"process": proc, "critical": "1:"})
        assert not problems, problems
        specs.append(CheckSpec(f"proc-{proc}", "procs", options, INTERVAL, 5.0, tuple(h.name for h in hosts)))
    return replace(config, inventory=inventory, checks=config.checks + tuple(specs))


def wait_runs(stats: dict, names: list[str], runs: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(stats[n].runs < runs for n in names):
        if time.monotonic() > deadline:
            left = sum(stats[n].runs < runs for n in names)
            raise SystemExit(f"{left} check jobs did not finish cycle {runs} within {timeout:.0f}s")
        time.sleep(0.05)


def check_cycle() -> tuple[int, float, float, float, float]:
    """(checks, CPU s of the first cycle, CPU s between the first and second cycle's ends, that wall time,
    failures)."""
    with tempfile.TemporaryDirectory(prefix="bench-cycle-") as tmp:
        config = bench_config(Path(tmp))
        rt = Runtime.build(config)
        names = [n for n in rt.scheduler.stats if n.startswith("check:")]
        try:
            c0 = cpu_seconds()
            rt.start()
            wait_runs(rt.scheduler.stats, names, 1, 120)
            c1, w1 = cpu_seconds(), time.monotonic()
            wait_runs(rt.scheduler.stats, names, 2, INTERVAL + 60)
            c2, w2 = cpu_seconds(), time.monotonic()
            failures = sum(rt.scheduler.stats[n].failures for n in names)
            stored = len(rt.store.checks.current())
            c3 = cpu_seconds()
            report = rt.coverage.evaluate_once(time.time())
            coverage = cpu_seconds() - c3
        finally:
            rt.stop()
        if stored != len(names):
            raise SystemExit(f"{len(names)} checks ran but {stored} current results are stored")
        green = report.counts()["green"]
        print(f"coverage:evaluate over the {HOSTS} hosts: {coverage * 1e3:.0f} ms CPU "
              f"({green} of {sum(report.counts().values())} services green: the host collector is off here)")
        return len(names), c1 - c0, c2 - c1, w2 - w1, failures


def trivial_cycle(jobs: int) -> float:
    """CPU seconds for one cycle of `jobs` jobs that do nothing, through the same scheduler."""
    scheduler = Scheduler()
    for i in range(jobs):
        scheduler.add(f"trivial:{i}", lambda now: None, INTERVAL, 5)
    c0 = cpu_seconds()
    scheduler.start()
    wait_runs(scheduler.stats, list(scheduler.stats), 1, 120)
    c1 = cpu_seconds()
    scheduler.shutdown()
    return c1 - c0


def nagios_style(checks: int, sample: int) -> float | None:
    """CPU seconds (children included) for `checks` plugin processes, from `sample` real runs of Debian's
    plugins in the inventory's proportions (23 check_procs, 2 check_disk, check_load, check_swap and 2
    check_dummy for cpu/memory/interfaces, which monitoring-plugins lacks: the process cost alone)."""
    if not os.path.exists(f"{PLUGINS}/check_procs"):
        return None
    per_host = [[f"{PLUGINS}/check_procs", "-c", "1:", "-a", p]
                for role in STANDARD_ROLES for p in DEFAULT_ROLE_PROCESSES[role]]
    per_host += [[f"{PLUGINS}/check_disk", "-w", "20%", "-c", "10%", "-p", "/"],
                 [f"{PLUGINS}/check_disk", "-w", "20%", "-c", "10%", "-p", "/tmp"],
                 [f"{PLUGINS}/check_load", "-w", "15,10,5", "-c", "30,25,20"],
                 [f"{PLUGINS}/check_swap", "-w", "50%", "-c", "20%"],
                 [f"{PLUGINS}/check_dummy", "0", "cpu"], [f"{PLUGINS}/check_dummy", "0", "memory"],
                 [f"{PLUGINS}/check_dummy", "0", "interfaces"]]
    c0 = cpu_seconds()
    for i in range(sample):
        subprocess.run(per_host[i % len(per_host)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (cpu_seconds() - c0) * checks / sample


def main() -> int:
    checks, first, steady, wall, failures = check_cycle()
    per_interval = steady  # every check ran exactly once between the two cycles' ends
    share = per_interval / INTERVAL * 100
    print(f"{HOSTS} hosts, {checks} checks every {INTERVAL:g}s, run in-process through Runtime "
          f"({failures} job failures)")
    print(f"first cycle (creates {checks} series): {first:.2f} CPU s")
    print(f"steady state: one cycle = {per_interval:.2f} CPU s (measured over {wall:.1f} s wall) = {share:.1f}% "
          f"of one core per {INTERVAL:g}s interval, {per_interval / checks * 1e3:.2f} ms per check  "
          f"[target: <= 10%]")
    trivial = trivial_cycle(checks)
    print(f"baseline: {checks} trivial jobs through the scheduler: {trivial:.2f} CPU s per cycle "
          f"({trivial / INTERVAL * 100:.1f}% of one core); the checks cost {per_interval / trivial:.1f}x that")
    sample = max(60, int(300 * SCALE))
    nagios = nagios_style(checks, sample)
    if nagios is None:
        print(f"{PLUGINS}/check_procs not installed (apt-get install monitoring-plugins-basic): no plugin baseline")
    else:
        print(f"baseline: the same {checks} checks as plugin processes (Nagios-style, {sample} run and scaled): "
              f"{nagios:.2f} CPU s per cycle ({nagios / INTERVAL * 100:.1f}% of one core); in-process is "
              f"{per_interval / nagios:.3f}x that")
    return 0


if __name__ == "__main__":
    sys.exit(main())
