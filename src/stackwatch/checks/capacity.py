"""The os-capacity check: free vCPUs, RAM and disk of the hypervisors, as placement schedules them.

For each resource provider and class (VCPU, MEMORY_MB, DISK_GB), placement's capacity is
(total - reserved) x allocation_ratio, and free is capacity - usage; the check sums them over all
providers (the cloud's room) and judges the free amounts: vCPUs as a count or a percentage ("64",
"10%"), RAM and disk as an amount with a unit or a percentage ("64G", "10%"; a bare number is GB).
The alert is raised at or below the limit, as check_disk's free-space thresholds. --per-provider
judges every hypervisor instead (the room for one more instance is on one host, not the sum).

The judgement (`judge`) is pure; the probe goes through `openstack_api`.
"""

from __future__ import annotations

from stackwatch.checks import CHECKS
from stackwatch.checks.core import CheckOutcome, Context, Metric, Result, Summary, evaluate
from stackwatch.checks.openstack_api import CloudOptions, CloudSession, ProviderRow
from stackwatch.checks.options import option
from stackwatch.checks.probe import ProbingCheck
from stackwatch.checks.units import FreeThreshold
from stackwatch.states import Perfdata, State

GIB = 1024 ** 3
MIB = 1024 ** 2
# resource class -> (metric name, bytes per unit of placement; 1 for a count)
CLASSES = {"VCPU": ("vcpus", 1), "MEMORY_MB": ("ram", MIB), "DISK_GB": ("disk", GIB)}


def _count_threshold(text) -> FreeThreshold:
    return FreeThreshold.parse(text, default_unit="B")


def _size_threshold(text) -> FreeThreshold:
    return FreeThreshold.parse(text, default_unit="GB")


class CapacityOptions(CloudOptions):
    """Options of the os-capacity check."""

    vcpus_warning: str | None = option(None, flags=("--vcpus-warning",), parse=_count_threshold, metavar="FREE",
                                       help="WARNING when free vCPUs are at or below this (a count or 10%)")
    vcpus_critical: str | None = option(None, flags=("--vcpus-critical",), parse=_count_threshold, metavar="FREE",
                                        help="CRITICAL when free vCPUs are at or below this")
    ram_warning: str | None = option("10%", flags=("--ram-warning",), parse=_size_threshold, metavar="FREE",
                                     help="WARNING when free RAM is at or below this (64G, 10%; GB if no unit)")
    ram_critical: str | None = option("5%", flags=("--ram-critical",), parse=_size_threshold, metavar="FREE",
                                      help="CRITICAL when free RAM is at or below this")
    disk_warning: str | None = option("10%", flags=("--disk-warning",), parse=_size_threshold, metavar="FREE",
                                      help="WARNING when free disk is at or below this (500G, 10%; GB if no unit)")
    disk_critical: str | None = option("5%", flags=("--disk-critical",), parse=_size_threshold, metavar="FREE",
                                       help="CRITICAL when free disk is at or below this")
    per_provider: bool = option(False, flags=("--per-provider",),
                                help="judge each hypervisor's free room instead of the sum")


def room(provider: ProviderRow) -> dict[str, tuple[float, float]]:
    """{class: (capacity, used)} in placement's units, for the classes the check knows."""
    out = {}
    for cls in CLASSES:
        inv = provider.inventories.get(cls)
        if not inv:
            continue
        capacity = (float(inv["total"]) - float(inv.get("reserved", 0))) * float(inv.get("allocation_ratio", 1.0))
        out[cls] = (capacity, float(provider.usages.get(cls, 0)))
    return out


class _Free(Context):
    """A free amount (value, in bytes or a count) of a capacity (max) against FreeThresholds."""

    def __init__(self, name, warning, critical):
        super().__init__(name)
        self.warning, self.critical = warning, critical

    def evaluate(self, metric: Metric) -> Result:
        for state, limit in ((State.CRITICAL, self.critical), (State.WARNING, self.warning)):
            if limit is not None and limit.exceeded(metric.value, metric.max):
                return Result(state, metric, f"at or below {limit}", self.describe(metric))
        return Result(State.OK, metric, None, self.describe(metric))

    def describe(self, metric: Metric) -> str:
        kind = metric.context
        pct = metric.value * 100 / metric.max if metric.max else 0.0
        return f"{metric.name} {_amount(kind, metric.value)} of {_amount(kind, metric.max)} free ({pct:.0f}%)"


def _amount(kind: str, value: float) -> str:
    if kind == "vcpus":
        return f"{value:g}"
    return f"{value / GIB:.1f} GiB" if value < 1024 * GIB else f"{value / GIB / 1024:.1f} TiB"


def judge(providers: list[ProviderRow], options: CapacityOptions) -> CheckOutcome:
    """The outcome for the providers' inventories and usages (pure)."""
    thresholds = {"vcpus": (options.vcpus_warning, options.vcpus_critical),
                  "ram": (options.ram_warning, options.ram_critical),
                  "disk": (options.disk_warning, options.disk_critical)}
    scopes: dict[str, dict[str, list[float]]] = {}
    for p in providers:
        scope = p.name if options.per_provider else "cloud"
        for cls, (capacity, used) in room(p).items():
            kind, unit = CLASSES[cls]
            acc = scopes.setdefault(scope, {}).setdefault(kind, [0.0, 0.0])
            acc[0] += capacity * unit
            acc[1] += used * unit
    if not scopes:
        return CheckOutcome(State.UNKNOWN, f"placement lists {len(providers)} resource providers and no "
                                           f"VCPU, MEMORY_MB or DISK_GB inventory")
    metrics, perf = [], []
    for scope, kinds in sorted(scopes.items()):
        for kind, (capacity, used) in sorted(kinds.items()):
            free = capacity - used
            name = kind if scope == "cloud" else f"{scope} {kind}"
            metrics.append(Metric(name, free, min=0, max=capacity, context=kind))
            w, c = thresholds[kind]
            label = f"{kind}_free" if scope == "cloud" else f"{scope}_{kind}_free"
            if kind == "vcpus":
                perf.append(Perfdata(label, round(free, 1), "", _limit(w, capacity), _limit(c, capacity), 0,
                                     round(capacity, 1)))
            else:
                perf.append(Perfdata(label, int(free // MIB), "MB", _limit(w, capacity, MIB),
                                     _limit(c, capacity, MIB), 0, int(capacity // MIB)))
    contexts = [_Free(kind, *(None if t is None else FreeThreshold.parse(t, "B" if kind == "vcpus" else "GB")
                              for t in thresholds[kind])) for kind in thresholds]
    outcome = evaluate(metrics, contexts, _CapacitySummary(len(providers)))
    return CheckOutcome(outcome.state, outcome.summary, perf, outcome.details)


def _limit(text: str | None, capacity: float, unit: int = 1) -> str:
    if text is None:
        return ""
    limit = FreeThreshold.parse(text, "B" if unit == 1 else "GB").limit(capacity)
    return f"{limit / unit:.0f}:"  # a Nagios range on a free amount: alert below the limit


class _CapacitySummary(Summary):
    def __init__(self, providers: int):
        self.providers = providers

    def ok(self, results) -> str:
        return ", ".join(map(str, results)) + f" ({self.providers} resource providers)"

    def problem(self, results) -> str:
        return self.ok(results)


@CHECKS.register("os-capacity")
class CapacityCheck(ProbingCheck):
    """Free vCPUs, RAM and disk of the hypervisors through placement (with allocation ratios)."""

    name = "os-capacity"
    label = "CAPACITY"
    Options = CapacityOptions

    def __init__(self, options: CapacityOptions | None = None):
        super().__init__(options)
        self.session = CloudSession(self.options)

    def probe(self) -> list[ProviderRow]:
        from stackwatch.checks.openstack_api import resource_providers

        return resource_providers(self.session)

    def evaluate(self, providers: list[ProviderRow]) -> CheckOutcome:
        return judge(providers, self.options)
