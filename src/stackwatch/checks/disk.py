"""The disk check: free space (and optionally free inodes) of the filesystem holding a path, read
the way check_disk reads -w/-c.

Thresholds are FREE space: "20%" of the capacity or an amount ("500MB", "2G"; a bare number is
MB). The capacity is what non-root users can fill (used + available, as check_disk's percentage);
the alert is raised at or below the limit. Perfdata is used MB with the warning and critical
limits expressed as used MB, max the filesystem size, like check_disk.
"""

from __future__ import annotations

import os

from stackwatch.checks import CHECKS
from stackwatch.checks.base import CheckPlugin
from stackwatch.checks.core import CheckOutcome, Context, Metric, Result, Summary, evaluate
from stackwatch.checks.options import Options, option
from stackwatch.checks.units import MIB, FreeThreshold, format_mib
from stackwatch.states import Perfdata, State


def _inode_threshold(text: str) -> FreeThreshold:
    """Free inodes are always a percentage: "10" and "10%" both mean 10%."""
    spec = str(text).strip()
    return FreeThreshold.parse(spec if spec.endswith("%") else spec + "%")


class DiskOptions(Options):
    """Options of the disk check."""

    path: str = option("/", flags=("-p", "--path"), help="a path on the filesystem to check")
    warning: str = option(
        "20%", flags=("-w", "--warning"), parse=FreeThreshold.parse,
        help="WARNING when free space is at or below this: a percentage (20%) or an amount (500MB, 2G; MB if no unit)")
    critical: str = option(
        "10%", flags=("-c", "--critical"), parse=FreeThreshold.parse,
        help="CRITICAL when free space is at or below this: a percentage (10%) or an amount (200MB, 1G)")
    inode_warning: str | None = option(
        None, flags=("-W", "--inode-warning"), parse=_inode_threshold,
        help="WARNING when free inodes are at or below this percentage")
    inode_critical: str | None = option(
        None, flags=("-K", "--inode-critical"), parse=_inode_threshold,
        help="CRITICAL when free inodes are at or below this percentage")


class FreeContext(Context):
    """Judges a free amount (value) out of a capacity (max) against FreeThresholds."""

    def __init__(self, name: str, warning: FreeThreshold | None, critical: FreeThreshold | None, what: str):
        super().__init__(name)
        self.warning, self.critical, self.what = warning, critical, what

    def evaluate(self, metric: Metric) -> Result:
        for state, threshold in ((State.CRITICAL, self.critical), (State.WARNING, self.warning)):
            if threshold is not None and threshold.exceeded(metric.value, metric.max):
                return Result(state, metric, f"at or below {threshold}", self.describe(metric))
        return Result(State.OK, metric, None, self.describe(metric))

    def describe(self, metric: Metric) -> str:
        return f"{self.what} {_pct(metric):.0f}%"


class UsedContext(Context):
    """Gives the perfdata: used MB, the warning/critical limits as used MB, max the size."""

    def __init__(self, name: str, label: str, warning: FreeThreshold, critical: FreeThreshold, capacity: float):
        super().__init__(name)
        self.label, self.warning, self.critical, self.capacity = label, warning, critical, capacity

    def describe(self, metric: Metric) -> str:
        return f"used {format_mib(metric.value)} MB of {format_mib(metric.max)} MB"

    def performance(self, metric: Metric) -> Perfdata:
        return Perfdata(self.label, metric.value // MIB, "MB", self._limit(self.warning), self._limit(self.critical),
                        0, metric.max // MIB)

    def _limit(self, threshold: FreeThreshold) -> str:
        """Used MB at which free space reaches `threshold` (used + available is the capacity)."""
        return str(int(max(0.0, self.capacity - threshold.limit(self.capacity)) // MIB))


class DiskSummary(Summary):
    """check_disk's line in every state: "free space: / 45123 MB (52% inode=91%)"."""

    def __init__(self, path: str):
        self.path = path

    def ok(self, results: list[Result]) -> str:
        by_name = {r.metric.name: r.metric for r in results if r.metric is not None}
        avail, inodes = by_name["available"], by_name.get("inodes_free")
        text = f"free space: {self.path} {format_mib(avail.value)} MB ({_pct(avail):.0f}%"
        if inodes is not None:
            text += f" inode={_pct(inodes):.0f}%"
        return text + ")"

    problem = ok


def _pct(metric: Metric) -> float:
    return metric.value * 100 / metric.max if metric.max else 0.0


@CHECKS.register("disk")
class DiskCheck(CheckPlugin):
    """Free space on the filesystem holding --path (check_disk)."""

    name = "disk"
    Options = DiskOptions

    def __init__(self, options: DiskOptions | None = None):
        super().__init__(options)
        opts = self.options
        self.warning = FreeThreshold.parse(opts.warning)
        self.critical = FreeThreshold.parse(opts.critical)
        self.inode_warning = None if opts.inode_warning is None else _inode_threshold(opts.inode_warning)
        self.inode_critical = None if opts.inode_critical is None else _inode_threshold(opts.inode_critical)

    def probe(self) -> list[Metric]:
        """used (max: size) and available (max: capacity, i.e. used + available) in bytes, and free
        inodes (max: inodes) when the filesystem counts inodes."""
        st = os.statvfs(self.options.path)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        avail = st.f_bavail * st.f_frsize
        metrics = [Metric("used", used, "B", 0, st.f_blocks * st.f_frsize),
                   Metric("available", avail, "B", 0, used + avail)]
        if st.f_files:
            metrics.append(Metric("inodes_free", st.f_ffree, "", 0, st.f_files))
        return metrics

    def evaluate(self, metrics: list[Metric]) -> CheckOutcome:
        capacity = next(m.max for m in metrics if m.name == "available")
        contexts = [
            UsedContext("used", self.options.path, self.warning, self.critical, capacity),
            FreeContext("available", self.warning, self.critical, "free space"),
            FreeContext("inodes_free", self.inode_warning, self.inode_critical, "free inodes"),
        ]
        return evaluate(metrics, contexts, DiskSummary(self.options.path))
