"""The load check: the 1, 5 and 15 minute load averages against check_load's -w/-c triples.

"--warning 15,10,5" gives load1, load5 and load15 their own threshold (a single value applies to
all three); each is a Nagios range, so "15" alerts above 15. With --per-cpu the averages are
divided by the number of CPUs before they are judged, as `check_load -r` does.
"""

from __future__ import annotations

import os

from stackwatch.checks import CHECKS
from stackwatch.checks.base import CheckPlugin
from stackwatch.checks.core import CheckOutcome, Metric, Range, ScalarContext, Summary, evaluate
from stackwatch.checks.options import Options, option

PERIODS = ("load1", "load5", "load15")


def parse_triple(text: str) -> tuple[Range, Range, Range]:
    """Three ranges from "15,10,5" (one value applies to all three)."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) == 1:
        parts *= 3
    if len(parts) != 3:
        raise ValueError(f"not a load threshold: {text!r} (use three values such as 15,10,5, or one value)")
    try:
        return tuple(Range.parse(p) for p in parts)  # type: ignore[return-value]
    except ValueError as exc:
        raise ValueError(f"not a load threshold: {text!r} ({exc})") from None


class LoadOptions(Options):
    """Options of the load check."""

    warning: str = option(
        "15,10,5", flags=("-w", "--warning"), parse=parse_triple,
        help="WARNING thresholds for load1,load5,load15 (Nagios ranges; one value for all three)")
    critical: str = option(
        "30,25,20", flags=("-c", "--critical"), parse=parse_triple,
        help="CRITICAL thresholds for load1,load5,load15")
    per_cpu: bool = option(False, flags=("-r", "--per-cpu"), help="divide the load averages by the number of CPUs")


class LoadSummary(Summary):
    """check_load's line: "total load average: 0.26, 0.19, 0.08" (scaled first with -r)."""

    def ok(self, results) -> str:
        by_name = {r.metric.name: r.metric.value for r in results}
        text = "total load average: " + ", ".join(f"{by_name[p]:.2f}" for p in PERIODS)
        if "scaled_load1" in by_name:
            text = ("scaled load average: " + ", ".join(f"{by_name['scaled_' + p]:.2f}" for p in PERIODS)
                    + " - " + text)
        return text

    def problem(self, results) -> str:
        bad = [str(r) for r in results if r.state.severity > 0]
        return self.ok(results) + " - " + ", ".join(bad)


@CHECKS.register("load")
class LoadCheck(CheckPlugin):
    """Load averages (check_load)."""

    name = "load"
    Options = LoadOptions

    def __init__(self, options: LoadOptions | None = None):
        super().__init__(options)
        self.warning = parse_triple(self.options.warning)
        self.critical = parse_triple(self.options.critical)

    def probe(self) -> list[Metric]:
        loads = os.getloadavg()
        metrics = [Metric(p, v, min=0) for p, v in zip(PERIODS, loads)]
        if self.options.per_cpu:
            cpus = os.cpu_count() or 1
            metrics += [Metric("scaled_" + p, v / cpus, min=0) for p, v in zip(PERIODS, loads)]
        return metrics

    def evaluate(self, metrics: list[Metric]) -> CheckOutcome:
        judged = "scaled_" if any(m.name.startswith("scaled_") for m in metrics) else ""
        contexts = [ScalarContext(judged + p, w, c) for p, w, c in zip(PERIODS, self.warning, self.critical)]
        if judged:  # the raw averages are reported without thresholds
            contexts += [ScalarContext(p) for p in PERIODS]
        return evaluate(metrics, contexts, LoadSummary())

