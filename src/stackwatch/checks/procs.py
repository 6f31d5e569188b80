"""The procs check: how many processes match, against Nagios ranges (check_procs).

--process (-a) matches as `check_procs -a`: a substring of the argument string, /proc/PID/cmdline
joined by spaces. --command (-C) matches the command name exactly (the 15-character comm, or the
executable's or argv[0]'s base name). Both given: both must match. Run by `stackwatch-check`, the
check does not count its own process (whose arguments hold the pattern), as check_procs does; run
in-process by the platform, the platform's process counts like any other.
"""

from __future__ import annotations

import os

from stackwatch.checks import CHECKS, linux
from stackwatch.checks.base import CheckPlugin
from stackwatch.checks.core import CheckOutcome, Metric, Range, ScalarContext, evaluate, threshold
from stackwatch.checks.options import Options, option
from stackwatch.states import Perfdata

COMM_LEN = 15  # the kernel truncates /proc/PID/comm to 15 characters
# In-process, procs checks run within this many seconds of each other count from one scan of /proc: a
# 100-host inventory's ~2,300 procs checks then cost a few scans per cycle instead of 2,300 (issue 5's
# "3,000 checks within 10% of one core"). A second is nothing against a 60 s check interval.
SHARED_SCAN_AGE = 1.0


class ProcsOptions(Options):
    """Options of the procs check."""

    process: str | None = option(
        None, flags=("-a", "--process", "--argument-array"), metavar="STRING",
        help="count only processes whose argument string contains STRING")
    command: str | None = option(
        None, flags=("-C", "--command"), metavar="NAME",
        help="count only processes whose command name is exactly NAME")
    warning: str | None = option(
        None, flags=("-w", "--warning"), parse=Range.parse, metavar="RANGE",
        help="WARNING range for the process count (e.g. 1:1); empty: none")
    critical: str | None = option(
        None, flags=("-c", "--critical"), parse=Range.parse, metavar="RANGE",
        help="CRITICAL range for the process count (e.g. 1: when at least one must run)")


def matches(process: linux.Process, args: str | None, command: str | None) -> bool:
    if args is not None and args not in process.args:
        return False
    if command is not None:
        names = {process.comm, os.path.basename(process.exe),
                 os.path.basename(process.args.split(" ", 1)[0])}
        if command not in names and not (len(command) > COMM_LEN and process.comm == command[:COMM_LEN]):
            return False
    return True


class ProcsContext(ScalarContext):
    """check_procs words: "0 processes with args 'nova-compute'"; perfdata procs=N;w;c;0."""

    def __init__(self, name, warning, critical, filters: str):
        super().__init__(name, warning, critical)
        self.filters = filters

    def describe(self, metric: Metric) -> str:
        n = int(metric.value)
        return f"{n} process{'' if n == 1 else 'es'}" + (f" with {self.filters}" if self.filters else "")

    def performance(self, metric: Metric) -> Perfdata:
        datum = super().performance(metric)
        return Perfdata("procs", datum.value, "", datum.warning, datum.critical, 0)


class _Plain:
    """The status line is the count alone, without the threshold hint (as check_procs prints it)."""

    def ok(self, results):
        return results[0].description

    problem = ok

    def empty(self):
        return "no processes counted"


@CHECKS.register("procs")
class ProcsCheck(CheckPlugin):
    """Number of processes matching --process/--command (check_procs)."""

    name = "procs"
    template = "{label} {state}: {summary}"
    Options = ProcsOptions

    def __init__(self, options: ProcsOptions | None = None, proc: str = "/proc"):
        super().__init__(options)
        self.warning = threshold(self.options.warning)
        self.critical = threshold(self.options.critical)
        self.proc = proc

    def probe(self) -> list[Metric]:
        opts = self.options
        if self.standalone:  # one scan, now, without this process and its parent (check_procs excludes both:
            # a shell wrapper, e.g. NRPE's `sh -c`, holds the pattern in its command line too)
            found = linux.processes(self.proc, exclude=frozenset({os.getpid(), os.getppid()}),
                                    with_exe=opts.command is not None)
        else:  # in-process: the scan is shared by the procs checks run within SHARED_SCAN_AGE of it
            found = linux.processes(self.proc, with_exe=opts.command is not None, max_age=SHARED_SCAN_AGE)
        count = sum(1 for p in found if matches(p, opts.process, opts.command))
        return [Metric("procs", count, min=0)]

    def evaluate(self, metrics: list[Metric]) -> CheckOutcome:
        opts, filters = self.options, []
        if opts.command is not None:
            filters.append(f"command name '{opts.command}'")
        if opts.process is not None:
            filters.append(f"args '{opts.process}'")
        context = ProcsContext("procs", self.warning, self.critical, ", ".join(filters))
        return evaluate(metrics, [context], _Plain())
