"""The NOC overview as data: hosts (rows) × checks (columns), each cell the current result or nothing,
with its age and whether it is stale, plus the counts the header shows.

Pure: stdlib and stackwatch's pure modules only; `now` is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from stackwatch.model import State, worst
from stackwatch.store.interfaces import CurrentCheck

STALE_FACTOR = 3.0  # a result older than this many check intervals is stale
STATE_ORDER = (State.CRITICAL, State.WARNING, State.UNKNOWN, State.OK)


def is_stale(timestamp: float, interval: float | None, now: float) -> bool:
    """Older than STALE_FACTOR × the check's interval (unknown interval: never called stale)."""
    return interval is not None and interval > 0 and now - timestamp > STALE_FACTOR * interval


@dataclass(frozen=True, slots=True)
class Cell:
    host: str
    check: str
    result: CurrentCheck | None
    age: float | None = None
    stale: bool = False

    @property
    def state(self) -> State | None:
        return None if self.result is None else self.result.state


@dataclass(frozen=True, slots=True)
class Row:
    host: str
    in_inventory: bool
    cells: tuple[Cell, ...]

    @property
    def worst(self) -> State | None:
        states = [c.state for c in self.cells if c.state is not None]
        return worst(states) if states else None


@dataclass(frozen=True, slots=True)
class Grid:
    checks: tuple[str, ...]
    rows: tuple[Row, ...]
    counts: tuple[tuple[State, int], ...]  # STATE_ORDER, zeros included
    stale: int

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


def build_grid(hosts: Iterable[str], intervals: Mapping[str, float], current: Iterable[CurrentCheck],
               now: float) -> Grid:
    """Rows are `hosts` in order, then hosts that only appear in results; columns are the configured
    checks (`intervals`' order), then checks that only appear in results (sorted)."""
    by_cell = {(c.host, c.check): c for c in current}
    host_order = list(dict.fromkeys(hosts))
    known = set(host_order)
    host_order += sorted({h for h, _ in by_cell} - known)
    checks = list(intervals)
    checks += sorted({c for _, c in by_cell} - set(checks))
    counts = {s: 0 for s in STATE_ORDER}
    stale = 0
    rows = []
    for host in host_order:
        cells = []
        for check in checks:
            result = by_cell.get((host, check))
            if result is None:
                cells.append(Cell(host, check, None))
                continue
            flag = is_stale(result.timestamp, intervals.get(check), now)
            counts[result.state] += 1
            stale += flag
            cells.append(Cell(host, check, result, now - result.timestamp, flag))
        rows.append(Row(host, host in known, tuple(cells)))
    return Grid(tuple(checks), tuple(rows), tuple(counts.items()), stale)
