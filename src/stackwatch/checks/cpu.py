"""The cpu check: the share of CPU time spent busy (not idle, not waiting for I/O), from
/proc/stat, against Nagios ranges in percent.

The first run samples /proc/stat twice, --sample apart. A check object run repeatedly in-process
(by the scheduler) keeps its last reading and judges the time since then instead, without
sleeping. Perfdata gives busy and the user, system, iowait and steal shares.
"""

from __future__ import annotations

import time

from stackwatch.checks import CHECKS, linux
from stackwatch.checks.base import CheckPlugin
from stackwatch.checks.core import CheckOutcome, Metric, Range, ScalarContext, Summary, evaluate
from stackwatch.checks.options import Options, option

MODES = ("user", "system", "iowait", "steal")


def parse_sample(text: str | float) -> float:
    """Seconds in "0.5s", "2s", "500ms" or a bare number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        from stackwatch.timespec import parse_duration

        seconds = parse_duration(text)
    if not 0 < seconds <= 60:
        raise ValueError(f"sample time out of range: {text!r} (use more than 0s and at most 60s)")
    return seconds


class CpuOptions(Options):
    """Options of the cpu check."""

    warning: str = option(
        "80", flags=("-w", "--warning"), parse=Range.parse, help="WARNING range for the busy percentage")
    critical: str = option(
        "90", flags=("-c", "--critical"), parse=Range.parse, help="CRITICAL range for the busy percentage")
    sample: str = option(
        "0.5s", flags=("-s", "--sample"), parse=parse_sample, metavar="DURATION",
        help="how long to measure on the first run (e.g. 0.5s, 2s)")


def shares(before: dict[str, int], after: dict[str, int]) -> dict[str, float]:
    """Percent of the elapsed CPU time per mode between two /proc/stat readings: busy, user (with
    nice), system (with irq and softirq), iowait, steal, idle."""
    delta = {k: max(0, after[k] - before[k]) for k in linux.CPU_FIELDS}
    total = sum(delta.values())
    if total == 0:
        return {"busy": 0.0, "user": 0.0, "system": 0.0, "iowait": 0.0, "steal": 0.0, "idle": 100.0}

    def pct(*keys: str) -> float:
        return sum(delta[k] for k in keys) * 100 / total

    idle, iowait = pct("idle"), pct("iowait")
    return {"busy": 100 - idle - iowait, "user": pct("user", "nice"), "system": pct("system", "irq", "softirq"),
            "iowait": iowait, "steal": pct("steal"), "idle": idle}


class CpuSummary(Summary):
    def ok(self, results) -> str:
        by = {r.metric.name: r.metric.value for r in results}
        text = f"{by['busy']:.1f}% busy (" + ", ".join(f"{m} {by[m]:.1f}%" for m in MODES) + ")"
        hints = [r.hint for r in results if r.hint]
        return text + (" - busy " + hints[0] if hints else "")

    problem = ok


@CHECKS.register("cpu")
class CpuCheck(CheckPlugin):
    """CPU busy percentage from /proc/stat."""

    name = "cpu"
    Options = CpuOptions

    def __init__(self, options: CpuOptions | None = None, proc: str = "/proc"):
        super().__init__(options)
        self.warning = Range.parse(self.options.warning)
        self.critical = Range.parse(self.options.critical)
        self.sample = parse_sample(self.options.sample)
        self.proc = proc
        self.previous: dict[str, int] | None = None

    def probe(self) -> list[Metric]:
        before = self.previous
        if before is None:
            before = linux.cpu_times(self.proc)
            time.sleep(self.sample)
        after = linux.cpu_times(self.proc)
        self.previous = after
        pct = shares(before, after)
        return [Metric(name, pct[name], "%", 0, 100) for name in ("busy",) + MODES]

    def evaluate(self, metrics: list[Metric]) -> CheckOutcome:
        contexts = [ScalarContext("busy", self.warning, self.critical)] + [ScalarContext(m) for m in MODES]
        return evaluate(metrics, contexts, CpuSummary())
