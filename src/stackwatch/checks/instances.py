"""The os-instances check: instances in ERROR, and instances stuck building or deleting.

Three questions to nova (all projects, so admin credentials): the servers with status ERROR, with status
BUILD, and with task_state "deleting". An instance counts as stuck when it has been building since its
creation, or deleting since its last update, for longer than --stuck-after. The counts are judged by
Nagios ranges (--error-warning/-critical, --stuck-warning/-critical); the status line names the
instances (and nova's fault message of an ERROR one).

The judgement (`judge`) is pure and takes `now`; the probe goes through `openstack_api`.
"""

from __future__ import annotations

import time
from collections import namedtuple
from datetime import datetime, timezone

from stackwatch.checks import CHECKS
from stackwatch.checks.core import CheckOutcome, Metric, Range, ScalarContext, Summary, evaluate
from stackwatch.checks.openstack_api import CloudOptions, CloudSession, ServerRow
from stackwatch.checks.options import option
from stackwatch.checks.probe import ProbingCheck
from stackwatch.timespec import format_duration, parse_duration

Servers = namedtuple("Servers", "now error building deleting")


class InstancesOptions(CloudOptions):
    """Options of the os-instances check."""

    error_warning: str | None = option("0", flags=("--error-warning",), parse=Range.parse, metavar="RANGE",
                                       help="WARNING range for the number of instances in ERROR")
    error_critical: str | None = option(None, flags=("--error-critical",), parse=Range.parse, metavar="RANGE",
                                        help="CRITICAL range for the number of instances in ERROR")
    stuck_after: str = option("1h", flags=("--stuck-after",), parse=parse_duration, metavar="DURATION",
                              help="an instance building or deleting for longer is stuck (30m, 2h)")
    stuck_warning: str | None = option("0", flags=("--stuck-warning",), parse=Range.parse, metavar="RANGE",
                                       help="WARNING range for the number of stuck instances")
    stuck_critical: str | None = option(None, flags=("--stuck-critical",), parse=Range.parse, metavar="RANGE",
                                        help="CRITICAL range for the number of stuck instances")


def timestamp(text: str | None) -> float | None:
    """Seconds since the epoch of nova's "2026-11-25T19:25:39Z" (or with an offset); None if absent or bad."""
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)  # nova's times are UTC
    return t.timestamp()


def stuck(servers: Servers, limit: float) -> list[tuple[ServerRow, str, float]]:
    """(server, what, seconds) of the instances building (since created) or deleting (since updated) for
    longer than `limit`. An instance without a readable time is counted as stuck: not knowing is no OK."""
    out = []
    for what, rows, field in (("building", servers.building, "created"), ("deleting", servers.deleting, "updated")):
        for s in rows:
            since = timestamp(getattr(s, field))
            age = float("inf") if since is None else servers.now - since
            if age > limit:
                out.append((s, what, age))
    return out


def _name(s: ServerRow) -> str:
    return f"{s.name} ({s.id})" if s.name else s.id


class _Named(ScalarContext):
    def __init__(self, name, warning, critical, words, items):
        super().__init__(name, warning, critical)
        self.words, self.items = words, items

    def describe(self, metric: Metric) -> str:
        text = self.words.format(n=metric.value)
        if self.items:
            text += ": " + ", ".join(self.items[:5]) + (f" and {len(self.items) - 5} more" if len(self.items) > 5 else "")
        return text


def judge(servers: Servers, options: InstancesOptions) -> CheckOutcome:
    """The outcome for nova's answers at `servers.now` (pure)."""
    limit = parse_duration(options.stuck_after)
    errors = [_name(s) + (f" [{s.fault}]" if s.fault else "") for s in servers.error]
    hung = [f"{_name(s)} {what} for {'an unknown time' if age == float('inf') else format_duration(age)}"
            for s, what, age in stuck(servers, limit)]
    metrics = [Metric("error", len(errors), min=0), Metric("stuck", len(hung), min=0),
               Metric("building", len(servers.building), min=0), Metric("deleting", len(servers.deleting), min=0)]
    contexts = [_Named("error", options.error_warning, options.error_critical, "{n} instances in ERROR", errors),
                _Named("stuck", options.stuck_warning, options.stuck_critical,
                       f"{{n}} instances building or deleting for more than {format_duration(limit)}", hung),
                ScalarContext("building", fmt="{value} building"), ScalarContext("deleting", fmt="{value} deleting")]
    return evaluate(metrics, contexts, Summary())


@CHECKS.register("os-instances")
class InstancesCheck(ProbingCheck):
    """Instances in ERROR, or building / deleting for longer than a limit (all projects)."""

    name = "os-instances"
    label = "INSTANCES"
    Options = InstancesOptions

    def __init__(self, options: InstancesOptions | None = None):
        super().__init__(options)
        self.session = CloudSession(self.options)

    def probe(self) -> Servers:
        from stackwatch.checks.openstack_api import servers

        error = servers(self.session, status="ERROR")
        building = servers(self.session, status="BUILD")
        deleting = servers(self.session, task_state="deleting")
        return Servers(time.time(), error, building, deleting)

    def evaluate(self, servers: Servers) -> CheckOutcome:
        return judge(servers, self.options)
