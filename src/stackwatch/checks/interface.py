"""The interface check: network interfaces UP or DOWN as `ip a` shows them.

An interface is up when its IFF_UP flag is set and its operational state is "up" (or "unknown",
which loopback and some virtual devices always report). With --expect up (the default) an
interface that is down or missing is CRITICAL; with --expect down one that is up is CRITICAL.
--interface takes a name or a comma-separated list; without it every non-loopback interface that the
administrator brought up is checked (one set down on purpose, such as an unused ifb0, is not an outage;
a link that is down while administratively up -- a pulled cable -- is).
"""

from __future__ import annotations

from stackwatch.checks import CHECKS, linux
from stackwatch.checks.base import CheckPlugin
from stackwatch.checks.core import CheckOutcome, Context, Metric, Result, evaluate
from stackwatch.checks.options import Options, option
from stackwatch.states import Perfdata, State

UP, DOWN, MISSING = 1, 0, -1
_WORDS = {UP: "UP", DOWN: "DOWN", MISSING: "missing"}


class InterfaceOptions(Options):
    """Options of the interface check."""

    interface: str | None = option(
        None, flags=("-i", "--interface"), metavar="NAME[,NAME...]",
        help="the interfaces to check (default: every non-loopback interface that is administratively up)")
    expect: str = option(
        "up", flags=("-e", "--expect"), choices=("up", "down"),
        help="the state each interface must be in")


class LinkContext(Context):
    """Judges a link state metric (1 up, 0 down, -1 missing) against the expected state."""

    def __init__(self, name: str, expect: str):
        super().__init__(name)
        self.expect = expect

    def describe(self, metric: Metric) -> str:
        return f"{metric.name} is {_WORDS[metric.value]}"

    def evaluate(self, metric: Metric) -> Result:
        up = metric.value == UP
        if self.expect == "up" and not up:
            return Result(State.CRITICAL, metric, "expected UP", self.describe(metric))
        if self.expect == "down" and up:
            return Result(State.CRITICAL, metric, "expected DOWN", self.describe(metric))
        return Result(State.OK, metric, None, self.describe(metric))

    def performance(self, metric: Metric) -> Perfdata | None:
        if metric.value == MISSING:
            return None
        return Perfdata(metric.name, metric.value, "", "", "1:" if self.expect == "up" else "~:0", 0, 1)


@CHECKS.register("interface")
class InterfaceCheck(CheckPlugin):
    """Network interfaces up or down (as `ip a` shows them)."""

    name = "interface"
    Options = InterfaceOptions

    def __init__(self, options: InterfaceOptions | None = None, sysfs: str = "/sys"):
        super().__init__(options)
        self.sysfs = sysfs

    def wanted(self) -> list[str]:
        if self.options.interface:
            return [n.strip() for n in self.options.interface.split(",") if n.strip()]
        return [n for n in linux.interfaces(self.sysfs)
                if not linux.is_loopback(n, self.sysfs) and linux.admin_up(n, self.sysfs)]

    def probe(self) -> list[Metric]:
        metrics = []
        for name in self.wanted():
            up = linux.link_up(name, self.sysfs)
            metrics.append(Metric(name, MISSING if up is None else int(up), min=0, max=1, context="link"))
        return metrics

    def evaluate(self, metrics: list[Metric]) -> CheckOutcome:
        if not metrics:
            return CheckOutcome(State.UNKNOWN, "no network interfaces to check")
        return evaluate(metrics, [LinkContext("link", self.options.expect)])
