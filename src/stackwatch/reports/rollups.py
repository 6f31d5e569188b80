"""Reads for reports: the trend store's rollup tiers only, never raw points.

Adapter over the metrics store (`store.metrics`). A report picks one rollup step for its whole period: the
finest configured tier of at least an hour whose retention reaches back to the period's start (a quarter at 1h
is ~2,200 buckets per series). Every read records its source, so a report can say (and a test can check) that
no raw table answered.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable, Mapping

from stackwatch.model import Kind
from stackwatch.store.rollup import Resolution

Labels = dict[str, str]
Points = list[tuple[float, float]]


def report_step(tiers: Iterable[tuple[float, float | None]], start: float, now: float) -> float | None:
    """The rollup step for a report starting at `start`: >= 1h and reaching back that far, finest first."""
    tiers = sorted(tiers)
    reaching = [step for step, retention in tiers if retention is None or start >= now - retention]
    for step in reaching:
        if step >= 3600:
            return step
    return reaching[-1] if reaching else (tiers[-1][0] if tiers else None)


class RollupReader:
    """Series of one name, as rollup buckets over [start, end): gauges as bucket means, counters as the
    increase in each bucket."""

    def __init__(self, metrics, now: float, on_read: Callable[[str], None] | None = None):
        self.metrics = metrics
        self.now = now
        self.sources: set[str] = set()
        self.on_read = on_read
        tiers = [(t.step, t.retention) for t in metrics.config.rollups]
        self._tiers = tiers

    def step_for(self, start: float) -> float | None:
        return report_step(self._tiers, start, self.now)

    def read(self, name: str, start: float, end: float, matchers: Mapping[str, str] | None = None,
             stat: str = "mean") -> list[tuple[Labels, Points]]:
        """[(labels, [(bucket start, value)])] for every series called `name` (matching `matchers`).
        Gauges: `stat` = mean | max | min of each bucket; counters: the increase within each bucket."""
        step = self.step_for(start)
        if step is None:
            return []
        out = []
        for info in self.metrics.series(name, matchers):
            result = self.metrics.query_range(info.id, start, end - 1e-6, self.now, Resolution(f"{int(step)}s", step))
            self.sources.add(result.source)
            if self.on_read:
                self.on_read(name)
            pts = []
            for p in result.points:
                if not start <= p.ts < end:
                    continue
                if info.kind is Kind.COUNTER:
                    pts.append((p.ts, p.value * step))           # rate per second over the bucket -> increase
                else:
                    pts.append((p.ts, {"mean": p.value, "max": p.max, "min": p.min}[stat]))
            if pts:
                out.append((dict(info.key.labels), pts))
        return out

    def by(self, name: str, label: str, start: float, end: float, matchers: Mapping[str, str] | None = None,
           stat: str = "mean") -> dict[str, Points]:
        """The series of `name` summed per value of `label`, bucket by bucket."""
        sums: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
        for labels, pts in self.read(name, start, end, matchers, stat):
            key = labels.get(label, "")
            for ts, v in pts:
                sums[key][ts] += v
        return {k: sorted(v.items()) for k, v in sums.items()}

    def total(self, name: str, start: float, end: float, matchers: Mapping[str, str] | None = None,
              stat: str = "mean") -> Points:
        """Every series of `name` summed, bucket by bucket."""
        sums: dict[float, float] = defaultdict(float)
        for _labels, pts in self.read(name, start, end, matchers, stat):
            for ts, v in pts:
                sums[ts] += v
        return sorted(sums.items())


def mean(points: Points) -> float | None:
    return sum(v for _, v in points) / len(points) if points else None


def peak(points: Points) -> float | None:
    return max((v for _, v in points), default=None)


def last(points: Points) -> float | None:
    return points[-1][1] if points else None


def integral_hours(points: Points, step: float, max_hold: float = 86400.0) -> float:
    """Value x time in value-hours (GB-hours from GB gauges): each bucket's value holds until the next bucket
    (collectors may sample less often than the rollup step), at most `max_hold`; the last one for one step."""
    pts = sorted(points)
    total = 0.0
    for (t0, v), (t1, _) in zip(pts, pts[1:]):
        total += v * min(t1 - t0, max_hold)
    if pts:
        total += pts[-1][1] * step
    return total / 3600.0


def daily(points: Points, reduce: str = "mean") -> Points:
    """Buckets grouped by UTC day: their mean, max or sum."""
    groups: dict[float, list[float]] = defaultdict(list)
    for ts, v in points:
        groups[ts - ts % 86400].append(v)
    fn = {"mean": lambda xs: sum(xs) / len(xs), "max": max, "sum": sum}[reduce]
    return [(d, fn(vs)) for d, vs in sorted(groups.items())]
