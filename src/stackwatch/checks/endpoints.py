"""The os-endpoints check: every endpoint of the Keystone catalog answers, with its HTTP status and latency.

A fresh token is issued each run (its issue time is judged by --token-warning/--token-critical and given
as perfdata); then every endpoint of the chosen interface (public by default) in the token's catalog gets
one authenticated GET. An endpoint that does not answer or answers 5xx is CRITICAL; one slower than
-w/-c (seconds) is WARNING/CRITICAL; any other status (200, 300, 401, 404...) means the service answered.
Keystone itself unreachable, or refusing the credentials, is UNKNOWN: the catalog cannot be read.

The judgement (`judge`) is pure; the probe goes through `openstack_api`.
"""

from __future__ import annotations

from collections import namedtuple

from stackwatch.checks import CHECKS
from stackwatch.checks.core import CheckOutcome, Metric, Range, Result, ScalarContext, Summary, evaluate
from stackwatch.checks.openstack_api import CloudOptions, CloudSession, EndpointAnswer
from stackwatch.checks.options import option
from stackwatch.checks.probe import ProbeError, ProbingCheck
from stackwatch.states import State

Catalog = namedtuple("Catalog", "token_seconds answers")


class EndpointsOptions(CloudOptions):
    """Options of the os-endpoints check."""

    interface: str = option("public", flags=("-i", "--interface"), choices=("public", "internal", "admin"),
                            help="which endpoints of the catalog to ask")
    warning: str | None = option("1", flags=("-w", "--warning"), parse=Range.parse, metavar="RANGE",
                                 help="WARNING range for each endpoint's latency in seconds")
    critical: str | None = option("5", flags=("-c", "--critical"), parse=Range.parse, metavar="RANGE",
                                  help="CRITICAL range for each endpoint's latency in seconds")
    token_warning: str | None = option("2", flags=("--token-warning",), parse=Range.parse, metavar="RANGE",
                                       help="WARNING range for the token issue time in seconds")
    token_critical: str | None = option("10", flags=("--token-critical",), parse=Range.parse, metavar="RANGE",
                                        help="CRITICAL range for the token issue time in seconds")
    service: str | None = option(None, flags=("-s", "--service"), metavar="TYPES",
                                 help="only these service types, comma-separated (compute,image...)")


def _label(a: EndpointAnswer) -> str:
    return f"{a.type}_{a.interface}" + (f"_{a.region}" if a.region else "")


class _Latency(ScalarContext):
    """An endpoint's answer: CRITICAL without one or with a 5xx, else its latency against the ranges."""

    def __init__(self, name, warning, critical, answers: dict):
        super().__init__(name, warning, critical)
        self.answers = answers

    def evaluate(self, metric: Metric) -> Result:
        a = self.answers[metric.name]
        if a.error is not None:
            return Result(State.CRITICAL, metric, None, f"{a.service} ({a.url}) does not answer: {a.error}")
        if a.status >= 500:
            return Result(State.CRITICAL, metric, None, f"{a.service} ({a.url}) answers HTTP {a.status}")
        return super().evaluate(metric)

    def describe(self, metric: Metric) -> str:
        a = self.answers[metric.name]
        return f"{a.service} {a.status} in {metric.value:.3f}s"


class _EndpointsSummary(Summary):
    def __init__(self, total: int, token_seconds: float):
        self.total, self.token_seconds = total, token_seconds

    def ok(self, results) -> str:
        return f"{self.total} endpoints answer, token issued in {self.token_seconds:.3f}s"

    def problem(self, results) -> str:
        bad = [str(r) for r in results if r.state is not State.OK]
        return "; ".join(bad) + f" - {self.total} endpoints, token issued in {self.token_seconds:.3f}s"


def judge(catalog: Catalog, options: EndpointsOptions) -> CheckOutcome:
    """The outcome for the token time and the endpoints' answers (pure)."""
    types = tuple(t.strip() for t in (options.service or "").split(",") if t.strip())
    answers = [a for a in catalog.answers if not types or a.type in types]
    if not answers:
        return CheckOutcome(State.UNKNOWN, f"no {options.interface} endpoint"
                            + (f" of type {', '.join(types)}" if types else "") + " in the catalog")
    by_label = {}
    for a in answers:
        label = _label(a)
        while label in by_label:  # two endpoints of one type and interface: keep both
            label += "_"
        by_label[label] = a
    metrics = [Metric("token", round(catalog.token_seconds, 6), "s", 0)]
    metrics += [Metric(label, round(a.seconds, 6), "s", 0, context="latency") for label, a in by_label.items()]
    contexts = [ScalarContext("token", options.token_warning, options.token_critical,
                              fmt=lambda m: f"token issued in {m.value:.3f}s"),
                _Latency("latency", options.warning, options.critical, by_label)]
    return evaluate(metrics, contexts, _EndpointsSummary(len(answers), catalog.token_seconds))


@CHECKS.register("os-endpoints")
class EndpointsCheck(ProbingCheck):
    """Every endpoint of the Keystone catalog: answer, HTTP status, latency; the token issue time."""

    name = "os-endpoints"
    label = "ENDPOINTS"
    Options = EndpointsOptions

    def __init__(self, options: EndpointsOptions | None = None):
        super().__init__(options)
        self.session = CloudSession(self.options)

    def probe(self) -> Catalog:
        from stackwatch.checks.openstack_api import catalog_answers

        token_seconds, answers = catalog_answers(self.session, self.options.interface, self.options.region,
                                                 self.options.api_timeout)
        if not answers and not self.options.service:
            raise ProbeError(f"the token's catalog has no {self.options.interface} endpoint")
        return Catalog(token_seconds, answers)

    def evaluate(self, catalog: Catalog) -> CheckOutcome:
        return judge(catalog, self.options)
