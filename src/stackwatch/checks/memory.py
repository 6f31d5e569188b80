"""The memory check: the share of RAM in use, MemTotal - MemAvailable, as a percentage.

--warning/--critical are Nagios ranges on the used percentage ("90" alerts above 90%); the
perfdata is in bytes, with the thresholds converted to bytes.
"""

from __future__ import annotations

from stackwatch.checks import CHECKS, linux
from stackwatch.checks.base import CheckPlugin
from stackwatch.checks.core import CheckOutcome, Context, Metric, Range, Result, ScalarContext, evaluate
from stackwatch.checks.options import Options, option
from stackwatch.states import Perfdata

GIB = 1024 ** 3


class MemoryOptions(Options):
    """Options of the memory check."""

    warning: str = option(
        "90", flags=("-w", "--warning"), parse=Range.parse,
        help="WARNING range for the percentage of RAM in use")
    critical: str = option(
        "95", flags=("-c", "--critical"), parse=Range.parse,
        help="CRITICAL range for the percentage of RAM in use")


class UsedPercentContext(Context):
    """Judges bytes used (value) out of a total (max) as a percentage; perfdata stays in bytes."""

    def __init__(self, name: str, warning: str | Range | None, critical: str | Range | None):
        super().__init__(name)
        self.percent = ScalarContext(name, warning, critical)

    def describe(self, metric: Metric) -> str:
        return f"{_pct(metric):.1f}% used ({metric.value / GIB:.1f} GiB of {metric.max / GIB:.1f} GiB)"

    def evaluate(self, metric: Metric) -> Result:
        judged = self.percent.evaluate(Metric(metric.name, _pct(metric), "%", 0, 100))
        return Result(judged.state, metric, judged.hint, self.describe(metric))

    def performance(self, metric: Metric) -> Perfdata:
        factor = (metric.max or 0) / 100
        warning, critical = self.percent.warning, self.percent.critical
        return Perfdata(metric.name, metric.value, "B",
                        "" if warning is None else str(warning.scaled(factor)),
                        "" if critical is None else str(critical.scaled(factor)),
                        0, metric.max)


def _pct(metric: Metric) -> float:
    return metric.value * 100 / metric.max if metric.max else 0.0


@CHECKS.register("memory")
class MemoryCheck(CheckPlugin):
    """RAM in use (MemTotal - MemAvailable)."""

    name = "memory"
    Options = MemoryOptions

    def __init__(self, options: MemoryOptions | None = None, proc: str = "/proc"):
        super().__init__(options)
        self.warning = Range.parse(self.options.warning)
        self.critical = Range.parse(self.options.critical)
        self.proc = proc

    def probe(self) -> list[Metric]:
        info = linux.meminfo(self.proc)
        total, available = info["MemTotal"], info["MemAvailable"]
        return [Metric("used", total - available, "B", 0, total),
                Metric("available", available, "B", 0, total)]

    def evaluate(self, metrics: list[Metric]) -> CheckOutcome:
        contexts = [UsedPercentContext("used", self.warning, self.critical), ScalarContext("available")]
        return evaluate(metrics, contexts, _FirstResult())


class _FirstResult:
    """The status line is the verdict on RAM used; the available bytes are perfdata only."""

    def ok(self, results):
        return str(next(r for r in results if r.metric.name == "used"))

    problem = ok

    def empty(self):
        return "no memory figures"
