"""Write-time rollups: bucket accumulators, counter increases across resets, and choosing the resolution
that answers a range query.

Pure: stdlib only. The SQLite metric store feeds samples through `Accumulator`s as they are written, so
a 90-day query reads one row per bucket instead of raw points.
"""

from __future__ import annotations

from dataclasses import dataclass

RAW = "raw"


@dataclass(slots=True)
class Bucket:
    """The aggregate of one series over one bucket [start, start + step)."""

    start: float
    min: float
    max: float
    sum: float
    count: int
    last: float
    increase: float = 0.0  # counters: sum of increases, a reset counting from zero
    covered: float = 0.0   # counters: seconds between the samples whose increase is counted

    @classmethod
    def first(cls, start: float, value: float, increase: float = 0.0, covered: float = 0.0) -> "Bucket":
        return cls(start, value, value, value, 1, value, increase, covered)

    def add(self, value: float, increase: float = 0.0, covered: float = 0.0) -> None:
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        self.sum += value
        self.count += 1
        self.last = value
        self.increase += increase
        self.covered += covered

    def merge(self, other: "Bucket") -> None:
        """Fold `other` (a later, finer bucket inside this one) into this one."""
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.sum += other.sum
        self.count += other.count
        self.last = other.last
        self.increase += other.increase
        self.covered += other.covered

    def copy_at(self, start: float) -> "Bucket":
        return Bucket(start, self.min, self.max, self.sum, self.count, self.last, self.increase, self.covered)

    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else 0.0

    def rate(self) -> float | None:
        return self.increase / self.covered if self.covered > 0 else None


def counter_increase(previous: float | None, value: float) -> float:
    """How much a counter grew since `previous`; a drop means it was reset and restarted from zero."""
    if previous is None:
        return 0.0
    delta = value - previous
    return value if delta < 0 else delta


def bucket_start(ts: float, step: float) -> float:
    return ts - (ts % step)


class Accumulator:
    """Open buckets of one tier, per series. `add` returns the buckets it closed (to be written)."""

    __slots__ = ("step", "open")

    def __init__(self, step: float):
        self.step = step
        self.open: dict[int, Bucket] = {}

    def add_bucket(self, series_id: int, fine: Bucket) -> Bucket | None:
        """Fold a closed finer bucket in; returns this tier's bucket if the fine one starts a new one."""
        start = fine.start - (fine.start % self.step)
        current = self.open.get(series_id)
        if current is not None and current.start == start:
            current.merge(fine)
            return None
        self.open[series_id] = fine.copy_at(start)
        if current is not None and current.start < start:
            return current
        if current is not None:  # out of order: the older bucket is merged by the store directly
            self.open[series_id] = current
            return fine.copy_at(start)
        return None


@dataclass(frozen=True, slots=True)
class Resolution:
    """Which data answers a query: raw points, or the rollup tier with `step`."""

    name: str
    step: float | None

    @property
    def is_raw(self) -> bool:
        return self.step is None


def choose_resolution(start: float, end: float, now: float, raw_retention: float,
                      tiers: list[tuple[float, float | None]], max_points: int,
                      raw_interval: float = 15.0) -> Resolution:
    """The finest resolution whose retention reaches back to `start` and that gives at most `max_points`.

    `tiers` is [(step, retention or None)] finest first; `raw_interval` estimates raw point spacing.
    """
    span = max(end - start, 1.0)
    if start >= now - raw_retention and span / raw_interval <= max_points:
        return Resolution(RAW, None)
    for step, retention in tiers:
        reaches = retention is None or start >= now - retention
        if reaches and span / step <= max_points:
            return Resolution(_step_name(step), step)
    for step, retention in reversed(tiers):  # nothing fits max_points: the coarsest that reaches back
        if retention is None or start >= now - retention:
            return Resolution(_step_name(step), step)
    if tiers:
        return Resolution(_step_name(tiers[-1][0]), tiers[-1][0])
    return Resolution(RAW, None)


def _step_name(step: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if step >= size and step % size == 0:
            return f"{int(step // size)}{unit}"
    return f"{step:g}s"


def rates_from_points(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Per-second rates between consecutive counter readings, resets handled."""
    out = []
    for (t0, v0), (t1, v1) in zip(points, points[1:]):
        if t1 > t0:
            out.append((t1, counter_increase(v0, v1) / (t1 - t0)))
    return out


def sum_by_time(series_points: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Several series' (ts, value) points summed per timestamp (rollup buckets and log-metric flushes
    share their timestamps), in time order."""
    totals: dict[float, float] = {}
    for points in series_points:
        for ts, value in points:
            totals[ts] = totals.get(ts, 0.0) + value
    return sorted(totals.items())
