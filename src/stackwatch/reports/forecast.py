"""Capacity forecasts: a least-squares trend over a period, the date a resource runs out at that growth,
and how many more instances of each flavor fit on the hypervisors now.

Pure: stdlib only. Times are epoch seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True, slots=True)
class Fit:
    slope: float        # units per second
    intercept: float    # value at t = 0
    points: int

    def at(self, t: float) -> float:
        return self.intercept + self.slope * t

    @property
    def per_day(self) -> float:
        return self.slope * 86400.0


def linear_fit(points: Sequence[tuple[float, float]]) -> Fit | None:
    """Ordinary least squares of value on time; None with fewer than two distinct times."""
    pts = [(t, v) for t, v in points if v is not None and math.isfinite(v)]
    n = len(pts)
    if n < 2:
        return None
    mt = sum(t for t, _ in pts) / n
    mv = sum(v for _, v in pts) / n
    var = sum((t - mt) ** 2 for t, _ in pts)
    if var == 0:
        return None
    slope = sum((t - mt) * (v - mv) for t, v in pts) / var
    return Fit(slope, mv - slope * mt, n)


@dataclass(frozen=True, slots=True)
class Runout:
    resource: str
    used: float | None          # latest value
    capacity: float | None
    growth_per_day: float | None
    runs_out_at: float | None   # epoch seconds; None when not growing or unknown
    status: str                 # "full" | "runs out" | "not growing" | "no data" | "no capacity"

    @property
    def percent(self) -> float | None:
        if self.used is None or not self.capacity:
            return None
        return 100.0 * self.used / self.capacity


def runout(resource: str, points: Sequence[tuple[float, float]], capacity: float | None, now: float) -> Runout:
    """When does the trend of `points` reach `capacity`? Judged from the fit, read at `now`."""
    pts = sorted(points)
    if not pts:
        return Runout(resource, None, capacity, None, None, "no data")
    used = pts[-1][1]
    fit = linear_fit(pts)
    growth = fit.per_day if fit else None
    if capacity is None or capacity <= 0:
        return Runout(resource, used, capacity, growth, None, "no capacity")
    if used >= capacity:
        return Runout(resource, used, capacity, growth, now, "full")
    if fit is None or fit.slope <= 0:
        return Runout(resource, used, capacity, growth, None, "not growing")
    when = (capacity - fit.intercept) / fit.slope
    return Runout(resource, used, capacity, growth, max(when, now), "runs out")


@dataclass(frozen=True, slots=True)
class Free:
    """What one hypervisor can still take (capacity x allocation ratio - used - reserved)."""

    name: str
    vcpus: float
    memory_mb: float
    disk_gb: float


@dataclass(frozen=True, slots=True)
class Flavor:
    name: str
    vcpus: int
    memory_mb: int
    disk_gb: int


def free_of(total: float, used: float, ratio: float = 1.0, reserved: float = 0.0) -> float:
    return max(0.0, (total - reserved) * ratio - used)


def flavor_fit(free: Iterable[Free], flavors: Iterable[Flavor]) -> dict[str, int]:
    """How many more instances of each flavor (alone) fit now: per hypervisor the smallest of free vCPUs,
    RAM and disk over the flavor's needs, summed (placement packs per host)."""
    hosts = list(free)
    out = {}
    for f in flavors:
        total = 0
        for h in hosts:
            counts = []
            for have, need in ((h.vcpus, f.vcpus), (h.memory_mb, f.memory_mb), (h.disk_gb, f.disk_gb)):
                if need and need > 0:
                    counts.append(int(have // need))
            total += min(counts) if counts else 0
        out[f.name] = total
    return out
