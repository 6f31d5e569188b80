"""One coverage evaluation: gather the facts from the stores (every check's last result, each host's newest
log record and metric sample), say which checks are planned for which host (scheduled in-process by
config.checks, or served to Nagios through NRPE when a `nagios:` section exists), judge them with
`assess`, and write the gauges the CoverageGap and HostSilent rules watch (the `coverage:evaluate` job).

Reads only through the stores' public methods; the CLI, the web page and the runtime job share it.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from stackwatch.coverage.assess import (
    DERIVED_SERIES, IN_PROCESS, NRPE, Planned, Report, assess, samples,
)

log = logging.getLogger(__name__)


def host_check_names(config) -> list[str]:
    """The host checks every host is expected to have: config.checks (checks.host: disk, load, procs,
    log-file checks...), without the per-process checks the roles bring. Cloud-wide checks (API
    heartbeats, endpoints, RabbitMQ: checks.cloud) are in config.cloud_checks and judge no one host."""
    role_checks = {f"proc-{p}" for role in config.inventory.roles.values() for p in role.processes}
    return list(dict.fromkeys(s.name for s in config.checks if not (s.type == "procs" and s.name in role_checks)))


def planned_checks(config) -> tuple[dict[str, dict[str, Planned]], list[str]]:
    """host -> check -> how it runs, and the problems met. In-process checks (config.checks, for the
    hosts that are this machine) come first; with a `nagios:` section, nagios-config gives every inventory
    host its services through NRPE, which cover what is not run here."""
    planned: dict[str, dict[str, Planned]] = defaultdict(dict)
    for spec in config.checks:
        for host in spec.hosts:
            planned[host][spec.name] = Planned(IN_PROCESS, spec.interval)
    problems: list[str] = []
    if getattr(config, "nagios", None) is not None:
        from stackwatch.nagios.plan import PlanError, host_services

        for host in config.inventory.hosts:
            try:
                services = host_services(config, host)
            except PlanError as exc:
                problems.append(f"no NRPE services for {host.name}: {exc}")
                continue
            for s in services:
                planned[host.name].setdefault(s.service, Planned(NRPE, s.interval))
    return planned, problems


class CoverageService:
    def __init__(self, config, store, events=None):
        self.config = config
        self.store = store
        self.events = events if events is not None else store.events
        self._silent: set[str] = set()   # hosts silent at the last evaluation: log a change once
        self._seen_logs: dict[str, float] = {}   # newest log record seen per host, beyond the search window

    def report(self, now: float) -> Report:
        policy = self.config.coverage.policy
        planned, problems = planned_checks(self.config)
        results = [(c.host, c.check, c.state, c.timestamp) for c in self.store.checks.current()]
        last_metric = self.store.metrics.newest_by_label("host", DERIVED_SERIES)
        last_log = self._last_logs(now, max(policy.logs_within, policy.silent_after), problems)
        return assess(self.config.inventory, host_check_names(self.config), planned, results, last_log,
                      last_metric, policy, now, problems)

    def _last_logs(self, now: float, lookback: float, problems: list[str]) -> dict[str, float | None]:
        """Each host's newest log record: searched within `lookback` (the event store's search, newest
        first, stops at the first match), else the newest this service saw earlier (only older ones)."""
        out: dict[str, float | None] = {}
        for host in self.config.inventory.hosts:
            try:
                found = self.events.search(start=now - lookback, filters={"host": host.name, "kind": "log"}, limit=1)
            except Exception as exc:  # e.g. Elasticsearch away: logs count as missing, and the report says why
                problems.append(f"cannot read the log store: {type(exc).__name__}: {exc}")
                log.warning("coverage: cannot read the log store: %s", exc)
                break
            if found:
                self._seen_logs[host.name] = max(found[0].ts, self._seen_logs.get(host.name, found[0].ts))
            out[host.name] = self._seen_logs.get(host.name)
        return out

    def evaluate_once(self, now: float) -> Report:
        """The report, and its gauges written to the metric store (stackwatch_coverage_gaps{host,kind},
        stackwatch_host_silent{host})."""
        report = self.report(now)
        self.store.metrics.write(samples(report))
        silent = {h.host: h for h in report.hosts if h.silent}
        for name in sorted(silent.keys() - self._silent):
            log.warning("coverage: host %s is silent: %s", name, silent[name].reason)
        for name in sorted(self._silent - silent.keys()):
            log.info("coverage: host %s reports again", name)
        self._silent = set(silent)
        return report
