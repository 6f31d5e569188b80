"""Service heartbeats through the APIs: nova services, cinder services and neutron agents that are down or
disabled (the guide's `nova-manage service list` showing XXX instead of :-) ).

Three checks, one judgement: `os-compute-services`, `os-volume-services`, `os-network-agents`. The API's
own verdict is used (nova and cinder mark a service down after `service_down_time` without a heartbeat;
neutron an agent after `agent_down_time`). "down" counts the enabled services that are down (forced down
included); disabled services are counted apart, reported by name and judged only if thresholds are given
(a disabled service is usually maintenance). No services at all is a fact (the lab has no neutron agent),
reported as such; a --binary/--host filter that matches nothing is UNKNOWN (a typo must not read as OK).

The judgement (`judge`) is pure; the probe goes through `openstack_api`.
"""

from __future__ import annotations

from stackwatch.checks import CHECKS
from stackwatch.checks.core import CheckOutcome, Metric, Range, ScalarContext, Summary, evaluate
from stackwatch.checks.openstack_api import CloudOptions, CloudSession, ServiceRow
from stackwatch.checks.options import option
from stackwatch.checks.probe import ProbingCheck
from stackwatch.states import State


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(w.strip() for w in (text or "").split(",") if w.strip())


class HeartbeatOptions(CloudOptions):
    """Options of the heartbeat checks."""

    warning: str | None = option(None, flags=("-w", "--warning"), parse=Range.parse, metavar="RANGE",
                                 help="WARNING range for the number of enabled services down (e.g. 0)")
    critical: str | None = option("0", flags=("-c", "--critical"), parse=Range.parse, metavar="RANGE",
                                  help="CRITICAL range for the number of enabled services down")
    disabled_warning: str | None = option(None, flags=("--disabled-warning",), parse=Range.parse, metavar="RANGE",
                                          help="WARNING range for the number of disabled services; none: only reported")
    disabled_critical: str | None = option(None, flags=("--disabled-critical",), parse=Range.parse, metavar="RANGE",
                                           help="CRITICAL range for the number of disabled services")
    binary: str | None = option(None, flags=("-b", "--binary"), metavar="NAMES",
                                help="only these binaries, comma-separated (e.g. nova-compute)")
    host: str | None = option(None, flags=("-H", "--host"), metavar="NAMES",
                              help="only the services of these hosts, comma-separated")


def select(rows: list[ServiceRow], binaries: tuple[str, ...], hosts: tuple[str, ...]) -> list[ServiceRow]:
    return [r for r in rows if (not binaries or r.binary in binaries) and (not hosts or r.host in hosts)]


def _label(row: ServiceRow) -> str:
    return f"{row.binary}@{row.host}"


class _HeartbeatSummary(Summary):
    def __init__(self, rows: list[ServiceRow], noun: str):
        self.rows, self.noun = rows, noun

    def _text(self) -> str:
        down = [r for r in self.rows if r.enabled and (not r.up or r.forced_down)]
        disabled = [r for r in self.rows if not r.enabled]
        up = len(self.rows) - len(down) - len(disabled)
        if not self.rows:
            return f"0 {self.noun}s"
        parts = [f"{up} of {len(self.rows)} {self.noun}s up"]
        if down:
            parts.append(f"{len(down)} down: " + ", ".join(
                _label(r) + (" (forced down)" if r.forced_down else "")
                + (f" (last heartbeat {r.updated_at})" if r.updated_at else "") for r in down))
        if disabled:
            parts.append(f"{len(disabled)} disabled: " + ", ".join(
                _label(r) + ("" if r.up else " (also down)") + (f" ({r.reason})" if r.reason else "") for r in disabled))
        return "; ".join(parts)

    def ok(self, results) -> str:
        return self._text()

    def problem(self, results) -> str:
        return self._text()


def judge(rows: list[ServiceRow], options: HeartbeatOptions, noun: str = "service") -> CheckOutcome:
    """The outcome for the services the API listed (pure)."""
    binaries, hosts = _names(options.binary), _names(options.host)
    selected = select(rows, binaries, hosts)
    if not selected and (binaries or hosts):  # a filter that matches nothing is a typo or a vanished service
        return CheckOutcome(State.UNKNOWN, f"none of the {len(rows)} {noun}s matches"
                            + (f" --binary {options.binary}" if binaries else "")
                            + (f" --host {options.host}" if hosts else ""))
    rows = selected
    down = sum(1 for r in rows if r.enabled and (not r.up or r.forced_down))
    disabled = sum(1 for r in rows if not r.enabled)
    metrics = [Metric("down", down, min=0, max=len(rows)), Metric("disabled", disabled, min=0, max=len(rows)),
               Metric("total", len(rows), min=0)]
    contexts = [ScalarContext("down", options.warning, options.critical),
                ScalarContext("disabled", options.disabled_warning, options.disabled_critical),
                ScalarContext("total")]
    return evaluate(metrics, contexts, _HeartbeatSummary(rows, noun))


class _HeartbeatCheck(ProbingCheck):
    Options = HeartbeatOptions
    noun = "service"
    fetch = None  # the openstack_api function listing the services

    def __init__(self, options: HeartbeatOptions | None = None):
        super().__init__(options)
        self.session = CloudSession(self.options)

    def probe(self) -> list[ServiceRow]:
        return type(self).fetch(self.session)

    def evaluate(self, rows: list[ServiceRow]) -> CheckOutcome:
        return judge(rows, self.options, self.noun)


@CHECKS.register("os-compute-services")
class ComputeServicesCheck(_HeartbeatCheck):
    """nova services down or disabled (nova-manage service list / openstack compute service list)."""

    name = "os-compute-services"
    label = "NOVA SERVICES"

    @staticmethod
    def fetch(session):
        from stackwatch.checks.openstack_api import compute_services
        return compute_services(session)


@CHECKS.register("os-volume-services")
class VolumeServicesCheck(_HeartbeatCheck):
    """cinder services down or disabled (openstack volume service list)."""

    name = "os-volume-services"
    label = "CINDER SERVICES"

    @staticmethod
    def fetch(session):
        from stackwatch.checks.openstack_api import volume_services
        return volume_services(session)


@CHECKS.register("os-network-agents")
class NetworkAgentsCheck(_HeartbeatCheck):
    """neutron agents dead or administratively down (openstack network agent list)."""

    name = "os-network-agents"
    label = "NEUTRON AGENTS"
    noun = "agent"

    @staticmethod
    def fetch(session):
        from stackwatch.checks.openstack_api import network_agents
        return network_agents(session)
