"""The console-log check: the size of each instance's console.log under the nova instances directory.

The guide's incident: one instance's 5.5 GB console.log, fed to the dashboard's console tab through
RabbitMQ, flooded the broker. The check stats /var/lib/nova/instances/*/console.log (--directory to
change the instances path) and judges each file's size against -w/-c, sizes with units (500MB, 1G; a bare
number is bytes). The status line names the largest files over a threshold; perfdata gives the largest
size and the total. No instance directory at all is UNKNOWN; an instances directory without console
logs is a fact (a compute node with no instances), reported as such.

`judge` is pure; the probe stats files.
"""

from __future__ import annotations

from collections import namedtuple

from stackwatch.checks import CHECKS
from stackwatch.checks.core import CheckOutcome, Context, Metric, Result, Summary, evaluate
from stackwatch.checks.options import Options, option
from stackwatch.checks.probe import ProbeError, ProbingCheck
from stackwatch.checks.units import parse_size
from stackwatch.states import Perfdata, State

ConsoleLog = namedtuple("ConsoleLog", "instance path size")


def _size(text) -> None:
    parse_size(text, "B")


class ConsoleLogOptions(Options):
    """Options of the console-log check."""

    directory: str = option("/var/lib/nova/instances", flags=("-d", "--directory"),
                            help="nova's instances_path")
    warning: str = option("1GB", flags=("-w", "--warning"), parse=_size, metavar="SIZE",
                          help="WARNING when a console.log is larger (500MB, 1G; bytes if no unit)")
    critical: str = option("4GB", flags=("-c", "--critical"), parse=_size, metavar="SIZE",
                           help="CRITICAL when a console.log is larger")


def human(n: float) -> str:
    for unit, size in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


class _Size(Context):
    def __init__(self, warning: int, critical: int, logs: dict):
        super().__init__("size")
        self.warning, self.critical, self.logs = warning, critical, logs

    def evaluate(self, metric: Metric) -> Result:
        words = f"{self.logs[metric.name].instance} console.log is {human(metric.value)}"
        if metric.value > self.critical:
            return Result(State.CRITICAL, metric, f"over {human(self.critical)}", words)
        if metric.value > self.warning:
            return Result(State.WARNING, metric, f"over {human(self.warning)}", words)
        return Result(State.OK, metric, None, "")


class _ConsoleSummary(Summary):
    def __init__(self, logs: list[ConsoleLog]):
        self.logs = logs

    def _totals(self) -> str:
        if not self.logs:
            return "no console.log files (no instances here)"
        largest = max(self.logs, key=lambda c: c.size)
        return (f"{len(self.logs)} console.log files, largest {human(largest.size)} ({largest.instance}), "
                f"total {human(sum(c.size for c in self.logs))}")

    def ok(self, results) -> str:
        return self._totals()

    def problem(self, results) -> str:
        bad = [str(r) for r in results if r.state is not State.OK]
        shown = bad[:5] + ([f"and {len(bad) - 5} more"] if len(bad) > 5 else [])
        return ", ".join(shown) + " - " + self._totals()

    def empty(self) -> str:
        return self._totals()


def judge(logs: list[ConsoleLog], options: ConsoleLogOptions) -> CheckOutcome:
    """The outcome for the console logs found (pure)."""
    warning, critical = parse_size(options.warning, "B"), parse_size(options.critical, "B")
    by_path = {c.path: c for c in logs}
    metrics = [Metric(c.path, c.size, "B", 0, context="size") for c in sorted(logs, key=lambda c: -c.size)]
    summary = _ConsoleSummary(logs)
    if not logs:
        outcome = CheckOutcome(State.OK, summary.empty())
    else:
        outcome = evaluate(metrics, [_Size(warning, critical, by_path)], summary)
    largest = max((c.size for c in logs), default=0)
    perf = (Perfdata("largest", largest, "B", str(warning), str(critical), 0),
            Perfdata("total", sum(c.size for c in logs), "B", "", "", 0),
            Perfdata("files", len(logs), "", "", "", 0))
    return CheckOutcome(outcome.state, outcome.summary, perf, outcome.details)


@CHECKS.register("console-log")
class ConsoleLogCheck(ProbingCheck):
    """The size of each instance's console.log under the nova instances directory."""

    name = "console-log"
    label = "CONSOLE LOG"
    Options = ConsoleLogOptions

    def probe(self) -> list[ConsoleLog]:
        import os

        directory = self.options.directory
        try:
            entries = os.listdir(directory)
        except OSError as exc:
            raise ProbeError(f"cannot list {directory}: {exc.strerror}") from None
        logs = []
        for entry in entries:
            path = os.path.join(directory, entry, "console.log")
            try:
                size = os.stat(path).st_size
            except (FileNotFoundError, NotADirectoryError):  # _base, locks, compute_nodes, no console log
                continue
            except OSError as exc:
                raise ProbeError(f"cannot stat {path}: {exc.strerror}") from None
            logs.append(ConsoleLog(entry, path, size))
        return logs

    def evaluate(self, logs: list[ConsoleLog]) -> CheckOutcome:
        return judge(logs, self.options)
