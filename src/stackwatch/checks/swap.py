"""The swap check: free swap against check_swap's -w/-c, "50%" of the swap space or an amount
("500MB"; a bare number is bytes as in check_swap). The alert is raised at or below the limit.

A host without swap is OK by default ("no swap configured"), or the state given by --no-swap.
Perfdata is swap used in bytes, with the limits expressed as used bytes (as the disk check does).
"""

from __future__ import annotations

from stackwatch.checks import CHECKS, linux
from stackwatch.checks.base import CheckPlugin
from stackwatch.checks.core import CheckOutcome, Context, Metric, Result, Summary, evaluate
from stackwatch.checks.options import Options, option
from stackwatch.checks.units import MIB, FreeThreshold
from stackwatch.states import Perfdata, State


def _threshold(text: str) -> FreeThreshold:
    return FreeThreshold.parse(text, default_unit="B")


class SwapOptions(Options):
    """Options of the swap check."""

    warning: str = option(
        "50%", flags=("-w", "--warning"), parse=_threshold,
        help="WARNING when free swap is at or below this: a percentage (50%) or an amount (500MB; bytes if no unit)")
    critical: str = option(
        "20%", flags=("-c", "--critical"), parse=_threshold,
        help="CRITICAL when free swap is at or below this")
    no_swap: str = option(
        "ok", flags=("-n", "--no-swap"), choices=("ok", "warning", "critical", "unknown"),
        help="the state when the host has no swap")


class SwapContext(Context):
    """Judges free swap (value) out of the swap size (max); perfdata is swap used."""

    def __init__(self, name: str, warning: FreeThreshold, critical: FreeThreshold, no_swap: State):
        super().__init__(name)
        self.warning, self.critical, self.no_swap = warning, critical, no_swap

    def describe(self, metric: Metric) -> str:
        if not metric.max:
            return "no swap configured (SwapTotal is 0)"
        return (f"{metric.value * 100 / metric.max:.0f}% free "
                f"({metric.value // MIB} MB out of {metric.max // MIB} MB)")

    def evaluate(self, metric: Metric) -> Result:
        if not metric.max:
            return Result(self.no_swap, metric, None, self.describe(metric))
        for state, threshold in ((State.CRITICAL, self.critical), (State.WARNING, self.warning)):
            if threshold.exceeded(metric.value, metric.max):
                return Result(state, metric, f"free swap at or below {threshold}", self.describe(metric))
        return Result(State.OK, metric, None, self.describe(metric))

    def performance(self, metric: Metric) -> Perfdata:
        total = metric.max or 0
        return Perfdata("swap_used", total - metric.value, "B", self._limit(self.warning, total),
                        self._limit(self.critical, total), 0, total)

    @staticmethod
    def _limit(threshold: FreeThreshold, total: float) -> str:
        return str(int(max(0.0, total - threshold.limit(total))))


@CHECKS.register("swap")
class SwapCheck(CheckPlugin):
    """Free swap space (check_swap)."""

    name = "swap"
    Options = SwapOptions

    def __init__(self, options: SwapOptions | None = None, proc: str = "/proc"):
        super().__init__(options)
        self.warning = _threshold(self.options.warning)
        self.critical = _threshold(self.options.critical)
        self.no_swap = State.parse(self.options.no_swap)
        self.proc = proc

    def probe(self) -> list[Metric]:
        info = linux.meminfo(self.proc)
        return [Metric("swap_free", info.get("SwapFree", 0), "B", 0, info.get("SwapTotal", 0))]

    def evaluate(self, metrics: list[Metric]) -> CheckOutcome:
        return evaluate(metrics, [SwapContext("swap_free", self.warning, self.critical, self.no_swap)], Summary())
