"""config.yaml's `coverage:` section: how often coverage is evaluated and when a fact counts as a gap.

Pure: stdlib only (the config Reader collects problems with their dotted paths).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stackwatch.config_reader import Reader
from stackwatch.coverage.assess import Policy
from stackwatch.inventory import STANDARD_ROLES, Inventory

KEYS = ("interval", "stale_after", "logs_within", "metrics_within", "silent_after", "logs_from")


@dataclass(frozen=True, slots=True)
class CoverageConfig:
    interval: float = 60.0      # the coverage:evaluate job (gauges for the CoverageGap / HostSilent rules)
    policy: Policy = field(default_factory=Policy)


def build_coverage(r: Reader, raw, inventory: Inventory) -> CoverageConfig:
    m = r.mapping(raw, "coverage", KEYS)
    stale = r.number(m, "stale_after", "coverage", 3, 1)
    logs_from = r.str_list(m, "logs_from", "coverage") if "logs_from" in m else STANDARD_ROLES
    for role in logs_from:
        if role not in inventory.roles:
            r.problem("coverage.logs_from", f"unknown role {role!r}", f"known: {', '.join(sorted(inventory.roles))}")
    policy = Policy(
        stale_intervals=float(stale),
        logs_within=r.duration(m, "logs_within", "coverage", "15m"),
        metrics_within=r.duration(m, "metrics_within", "coverage", "5m"),
        silent_after=r.duration(m, "silent_after", "coverage", "10m"),
        logs_from=tuple(logs_from),
    )
    for key in ("logs_within", "metrics_within", "silent_after"):
        if getattr(policy, key) <= 0:
            r.problem(f"coverage.{key}", "must be positive")
    interval = r.duration(m, "interval", "coverage", "60s")
    if interval <= 0:
        r.problem("coverage.interval", "must be positive")
    return CoverageConfig(interval, policy)
