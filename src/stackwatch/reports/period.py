"""Report periods: ISO weeks, calendar months and quarters (UTC), or explicit dates, and the period before.

Pure: stdlib only. A period is [start, end) in epoch seconds. `--period` accepts 2026-W47, 2026-11 and 2026-Q3;
without it a report covers the last *complete* period before `now`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

KINDS = ("weekly", "monthly", "quarterly")


class PeriodError(ValueError):
    """A period that cannot be understood; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class Period:
    kind: str          # weekly | monthly | quarterly | custom
    label: str         # 2026-W47, 2026-11, 2026-Q3, or 2026-09-01..2026-09-30
    start: float
    end: float

    @property
    def days(self) -> float:
        return (self.end - self.start) / 86400.0

    def day_starts(self) -> list[float]:
        out, t = [], self.start
        while t < self.end:
            out.append(t)
            t += 86400.0
        return out


def _epoch(d: date) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()


def _day(t: float) -> date:
    return datetime.fromtimestamp(t, timezone.utc).date()


def week(year: int, number: int) -> Period:
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise PeriodError(f"no ISO week {number} in {year}") from None
    return Period("weekly", f"{year}-W{number:02d}", _epoch(monday), _epoch(monday + timedelta(days=7)))


def month(year: int, number: int) -> Period:
    if not 1 <= number <= 12:
        raise PeriodError(f"no month {number}")
    nxt = date(year + (number == 12), number % 12 + 1, 1)
    return Period("monthly", f"{year}-{number:02d}", _epoch(date(year, number, 1)), _epoch(nxt))


def quarter(year: int, number: int) -> Period:
    if not 1 <= number <= 4:
        raise PeriodError(f"no quarter Q{number}")
    first = 3 * (number - 1) + 1
    nxt = date(year + (number == 4), first + 3 if number < 4 else 1, 1)
    return Period("quarterly", f"{year}-Q{number}", _epoch(date(year, first, 1)), _epoch(nxt))


_PATTERNS = (
    (re.compile(r"^(\d{4})-W(\d{1,2})$", re.I), "weekly", week),
    (re.compile(r"^(\d{4})-Q([1-4])$", re.I), "quarterly", quarter),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "monthly", month),
)


def parse_period(text: str) -> Period:
    """2026-W47, 2026-11 or 2026-Q3."""
    for pattern, _kind, make in _PATTERNS:
        m = pattern.match(text.strip())
        if m:
            return make(int(m.group(1)), int(m.group(2)))
    raise PeriodError(f"not a period: {text!r} (use 2026-W47, 2026-11 or 2026-Q3)")


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def between(start: str, end: str) -> Period:
    """From the start of `start` to the end of `end` (both dates included)."""
    s, e = parse_date(start), parse_date(end)
    if e < s:
        raise PeriodError(f"--end {end} is before --start {start}")
    return Period("custom", f"{s.isoformat()}..{e.isoformat()}", _epoch(s), _epoch(e + timedelta(days=1)))


def last_complete(kind: str, now: float) -> Period:
    """The newest period of `kind` that ended at or before `now`."""
    today = _day(now)
    if kind == "weekly":
        this_monday = today - timedelta(days=today.weekday())
        y, w, _ = (this_monday - timedelta(days=7)).isocalendar()
        return week(y, w)
    if kind == "monthly":
        first = today.replace(day=1) - timedelta(days=1)
        return month(first.year, first.month)
    if kind == "quarterly":
        q = (today.month - 1) // 3 + 1
        return quarter(today.year, q - 1) if q > 1 else quarter(today.year - 1, 4)
    raise PeriodError(f"unknown report kind {kind!r}; known: {', '.join(KINDS)}")


def previous(p: Period) -> Period:
    """The period just before `p`: the previous week, month or quarter; for custom ones, the same length."""
    before = _day(p.start - 1)
    if p.kind == "weekly":
        y, w, _ = before.isocalendar()
        return week(y, w)
    if p.kind == "monthly":
        return month(before.year, before.month)
    if p.kind == "quarterly":
        return quarter(before.year, (before.month - 1) // 3 + 1)
    length = p.end - p.start
    return Period(p.kind, f"{_day(p.start - length).isoformat()}..{before.isoformat()}", p.start - length, p.start)


def resolve(kind: str, now: float, period: str | None = None, start: str | None = None,
            end: str | None = None) -> Period:
    """The period a `stackwatch report KIND` run covers, from its options."""
    if kind not in KINDS:
        raise PeriodError(f"unknown report kind {kind!r}; known: {', '.join(KINDS)}")
    if period and (start or end):
        raise PeriodError("give --period or --start/--end, not both")
    if period:
        return parse_period(period)
    if start or end:
        if not (start and end):
            raise PeriodError("--start and --end go together")
        return between(start, end)
    return last_complete(kind, now)
