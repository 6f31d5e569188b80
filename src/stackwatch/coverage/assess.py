"""Judging coverage from facts: for each inventory host, the services its roles expect (one process check
per role process, plus the host checks configured), whether a check covers each and how old its last
result is, when the host's newest log record and metric sample arrived; from that a verdict per service
(green, amber, red), the gaps per host and kind, and whether the host is silent: no check result, log
record or metric at all for `silent_after` (the dead man's switch).

Pure: stdlib only (and stackwatch's pure modules); `now` is passed in, the caller gathers the facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from stackwatch.inventory import STANDARD_ROLES, Host, Inventory
from stackwatch.model import Kind, Sample, SeriesKey
from stackwatch.states import State

GREEN, AMBER, RED = "green", "amber", "red"
RANK = {GREEN: 0, AMBER: 1, RED: 2}
GAP_KINDS = ("check", "stale", "logs", "metrics")
IN_PROCESS, NRPE = "in-process", "nrpe"

# Series derived from other signals (check results, logs, notifications) or written by coverage itself:
# they do not show that a host's own metrics arrive.
DERIVED_SERIES = ("stackwatch_check_", "stackwatch_coverage_", "stackwatch_host_silent", "stackwatch_log_",
                  "stackwatch_api_request", "stackwatch_notification", "stackwatch_operation",
                  "stackwatch_instances")


@dataclass(frozen=True, slots=True)
class Policy:
    """When a fact counts as a gap (config.yaml's `coverage:` section)."""

    stale_intervals: float = 3.0      # a result older than this many check intervals is stale
    logs_within: float = 900.0        # a host whose newest log record is older sends no logs
    metrics_within: float = 300.0     # a host whose newest metric sample is older has stale metrics
    silent_after: float = 600.0       # nothing at all from a host for this long: it is silent
    logs_from: tuple[str, ...] = STANDARD_ROLES   # hosts with one of these roles must send logs


@dataclass(frozen=True, slots=True)
class Planned:
    """How a host's check is run: IN_PROCESS (scheduled here, results in our store) or NRPE (run by a
    Nagios through NRPE: its results stay in Nagios)."""

    source: str
    interval: float


@dataclass(frozen=True, slots=True)
class Service:
    name: str       # a process name, or a host check's name
    role: str       # the role that expects it ("host" for the host checks every host gets)
    check: str      # the check that covers it


@dataclass(frozen=True, slots=True)
class Row:
    """One expected service of one host and its verdict."""

    host: str
    role: str
    service: str
    check: str
    source: str | None          # None: no check covers it
    interval: float | None
    state: State | None         # the last result's state (None: no result)
    age: float | None           # the last result's age in seconds
    logs_age: float | None      # the host's newest log record, seconds ago
    metrics_age: float | None   # the host's newest metric sample, seconds ago
    logs_expected: bool
    verdict: str
    level: str
    reason: str

    def to_dict(self) -> dict:
        return {"role": self.role, "service": self.service, "check": self.check, "source": self.source,
                "interval": self.interval, "state": None if self.state is None else self.state.name,
                "age": _round(self.age), "logs_age": _round(self.logs_age), "logs_expected": self.logs_expected,
                "metrics_age": _round(self.metrics_age), "verdict": self.verdict, "level": self.level,
                "reason": self.reason}


@dataclass(frozen=True, slots=True)
class HostCoverage:
    host: str
    address: str
    roles: tuple[str, ...]
    rows: tuple[Row, ...]
    check_age: float | None     # the newest result of any of its checks, seconds ago
    logs_age: float | None
    metrics_age: float | None
    logs_expected: bool
    silent: bool
    gaps: tuple[tuple[str, int], ...]   # (kind, count) for every GAP_KINDS kind
    level: str
    reason: str                         # the host's worst problem in a few words ("" when green)

    def to_dict(self) -> dict:
        return {"host": self.host, "address": self.address, "roles": list(self.roles), "level": self.level,
                "reason": self.reason, "silent": self.silent, "check_age": _round(self.check_age),
                "logs_age": _round(self.logs_age), "logs_expected": self.logs_expected,
                "metrics_age": _round(self.metrics_age), "gaps": dict(self.gaps),
                "services": [r.to_dict() for r in self.rows]}


@dataclass(frozen=True, slots=True)
class Report:
    now: float
    hosts: tuple[HostCoverage, ...]     # worst first, then by name
    problems: tuple[str, ...] = ()      # facts that could not be read (e.g. the log store is down)

    @property
    def rows(self) -> list[Row]:
        """Every row, gaps first (red, amber, green), then by host and service."""
        rows = [r for h in self.hosts for r in h.rows]
        return sorted(rows, key=lambda r: (-RANK[r.level], r.host, r.service))

    def counts(self) -> dict[str, int]:
        out = {RED: 0, AMBER: 0, GREEN: 0}
        for h in self.hosts:
            for r in h.rows:
                out[r.level] += 1
        return out

    @property
    def level(self) -> str:
        return max((h.level for h in self.hosts), key=RANK.__getitem__, default=GREEN)

    @property
    def exit_code(self) -> int:
        """0 all covered, 1 something amber (no logs, stale metrics), 2 something red (uncovered)."""
        return RANK[self.level]

    def to_dict(self) -> dict:
        return {"generated": self.now, "level": self.level, "counts": self.counts(),
                "problems": list(self.problems), "hosts": [h.to_dict() for h in self.hosts]}


def expected_services(inventory: Inventory, host: Host, host_checks: Sequence[str]) -> tuple[Service, ...]:
    """The processes of the host's roles (each covered by its `proc-NAME` check; a process two roles
    share counts once, under the first), then the host checks every host gets."""
    seen: dict[str, Service] = {}
    for role in host.roles:
        spec = inventory.roles.get(role)
        for proc in spec.processes if spec else ():
            seen.setdefault(f"proc-{proc}", Service(proc, role, f"proc-{proc}"))
    for check in host_checks:
        seen.setdefault(check, Service(check, "host", check))
    return tuple(seen.values())


def assess(inventory: Inventory, host_checks: Sequence[str], planned: Mapping[str, Mapping[str, Planned]],
           results: Iterable[tuple[str, str, State, float]], last_log: Mapping[str, float | None],
           last_metric: Mapping[str, float | None], policy: Policy, now: float,
           problems: Sequence[str] = ()) -> Report:
    """The coverage of every inventory host.

    `planned`: host -> check name -> how it runs; `results`: (host, check, state, timestamp) of each
    check's last result; `last_log` / `last_metric`: host -> timestamp of its newest log record / metric
    sample (None or absent: none seen)."""
    latest: dict[tuple[str, str], tuple[State, float]] = {}
    newest_check: dict[str, float] = {}
    for host, check, state, ts in results:
        latest[(host, check)] = (state, ts)
        newest_check[host] = max(ts, newest_check.get(host, ts))
    hosts = [_host(inventory, h, host_checks, planned.get(h.name, {}), latest, newest_check.get(h.name),
                   last_log.get(h.name), last_metric.get(h.name), policy, now) for h in inventory.hosts]
    hosts.sort(key=lambda h: (-RANK[h.level], h.host))
    return Report(now, tuple(hosts), tuple(problems))


def _host(inventory: Inventory, host: Host, host_checks: Sequence[str], plan: Mapping[str, Planned],
          latest: Mapping[tuple[str, str], tuple[State, float]], check_ts: float | None, log_ts: float | None,
          metric_ts: float | None, policy: Policy, now: float) -> HostCoverage:
    check_age, logs_age, metrics_age = _age(check_ts, now), _age(log_ts, now), _age(metric_ts, now)
    logs_expected = any(role in policy.logs_from for role in host.roles)
    no_logs = logs_expected and (logs_age is None or logs_age > policy.logs_within)
    stale_metrics = metrics_age is None or metrics_age > policy.metrics_within
    ages = [a for a in (check_age, logs_age, metrics_age) if a is not None]
    quiet = min(ages) if ages else None
    silent = quiet is None or quiet > policy.silent_after
    if silent:
        host_reason = (f"silent: no check result, log record or metric within {_span(policy.silent_after)}"
                       if quiet is None else f"silent for {_span(quiet)}: no check result, log record or metric")
    else:
        host_reason = "; ".join(
            ([f"no logs within {_span(policy.logs_within)}"] if no_logs else [])
            + ([f"no metrics within {_span(policy.metrics_within)}"] if stale_metrics else []))
    gaps = dict.fromkeys(GAP_KINDS, 0)
    gaps["logs"], gaps["metrics"] = int(no_logs), int(stale_metrics)
    rows = []
    services = expected_services(inventory, host, host_checks)
    for svc in services:
        planned = plan.get(svc.check)
        state, ts = latest.get((host.name, svc.check), (None, None))
        age = _age(ts, now)
        verdict, level, reason = _judge_check(planned, age, policy)
        if planned is None:
            gaps["check"] += 1
        elif level == RED:
            gaps["stale"] += 1
        if silent:
            verdict, level, reason = "host silent", RED, host_reason + (f"; {reason}" if reason else "")
        elif level == GREEN and (no_logs or stale_metrics):
            verdict, level, reason = ("no logs" if no_logs else "metrics stale"), AMBER, host_reason
        rows.append(Row(host.name, svc.role, svc.name, svc.check, planned and planned.source,
                        planned and planned.interval, state, age, logs_age, metrics_age, logs_expected, verdict, level,
                        reason))
    if not services:
        level = RED if silent else AMBER
        rows.append(Row(host.name, "", "", "", None, None, None, None, logs_age, metrics_age, logs_expected,
                        "host silent" if silent else "nothing expected", level,
                        host_reason if silent else "no role processes and no host checks are expected of it"))
    rows.sort(key=lambda r: (-RANK[r.level], r.service))
    level = max((r.level for r in rows), key=RANK.__getitem__)
    reason = host_reason if (silent or level != RED) else _red_reason(gaps)
    return HostCoverage(host.name, host.address, host.roles, tuple(rows), check_age, logs_age, metrics_age,
                        logs_expected, silent, tuple(gaps.items()), level, reason if level != GREEN else "")


def _judge_check(planned: Planned | None, age: float | None, policy: Policy) -> tuple[str, str, str]:
    if planned is None:
        return "no check", RED, "no check is scheduled for it (in-process or through NRPE)"
    if planned.source == NRPE and age is None:
        return "via NRPE", GREEN, "served to Nagios through NRPE; its results stay in Nagios"
    limit = policy.stale_intervals * planned.interval
    if age is None:
        return "no result", RED, f"scheduled every {_span(planned.interval)} but no result is stored"
    if age > limit:
        return "stale", RED, f"last result {_span(age)} old (stale after {_span(limit)})"
    return "covered", GREEN, ""


def _red_reason(gaps: Mapping[str, int]) -> str:
    parts = []
    if gaps["check"]:
        parts.append(f"{gaps['check']} service{'s' if gaps['check'] != 1 else ''} without a check")
    if gaps["stale"]:
        parts.append(f"{gaps['stale']} check{'s' if gaps['stale'] != 1 else ''} without a fresh result")
    return "; ".join(parts)


def samples(report: Report) -> list[Sample]:
    """The gauges the alert rules watch, stamped `report.now`: stackwatch_coverage_gaps{host,kind} for
    every host and kind (0 included, so an alert resolves) and stackwatch_host_silent{host}."""
    out = []
    for h in report.hosts:
        for kind, n in h.gaps:
            out.append(Sample(SeriesKey.of("stackwatch_coverage_gaps", {"host": h.host, "kind": kind}), report.now,
                              float(n), Kind.GAUGE,
                              "Coverage gaps of an inventory host: services without a check (check), checks "
                              "without a fresh result (stale), no logs arriving (logs), no fresh metrics (metrics)"))
        out.append(Sample(SeriesKey.of("stackwatch_host_silent", {"host": h.host}), report.now,
                          1.0 if h.silent else 0.0, Kind.GAUGE,
                          "1 when no check result, log record or metric arrived from the host within "
                          "coverage.silent_after (the dead man's switch)"))
    return out


def _age(ts: float | None, now: float) -> float | None:
    return None if ts is None else max(0.0, now - ts)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _span(seconds: float) -> str:
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h"
    return f"{s // 86400}d"
