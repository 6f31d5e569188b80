"""Notification periods as Nagios users know them (timeperiods): `24x7`, or weekdays and times of day in a
timezone (business hours). Outside its period a route sends no new or repeated page; the page goes out
when the period opens (acknowledgements and resolutions are always sent, so incidents close).

Pure: stdlib only (zoneinfo).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Period:
    name: str
    timezone: str = "UTC"
    weekdays: frozenset[int] = frozenset(range(7))    # 0 = Monday
    times: tuple[tuple[int, int], ...] = ((0, 1440),)  # minutes since midnight, [start, end)

    def contains(self, now: float) -> bool:
        local = dt.datetime.fromtimestamp(now, ZoneInfo(self.timezone))
        if local.weekday() not in self.weekdays:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.times)


ALWAYS = Period("24x7")


def parse_weekdays(items: list[str]) -> frozenset[int]:
    """['mon-fri', 'sat'] (or full names) -> {0, 1, 2, 3, 4, 5}; raises ValueError."""
    out: set[int] = set()
    for item in items:
        lo, _, hi = str(item).lower().partition("-")
        a, b = _day(lo), _day(hi) if hi else _day(lo)
        out.update(range(a, b + 1) if a <= b else list(range(a, 7)) + list(range(0, b + 1)))
    return frozenset(out)


def _day(text: str) -> int:
    key = text.strip()[:3]
    if key not in DAYS:
        raise ValueError(f"unknown weekday {text!r}: use mon..sun or ranges such as mon-fri")
    return DAYS.index(key)


def parse_times(items: list[str]) -> tuple[tuple[int, int], ...]:
    """['09:00-17:00'] -> ((540, 1020),); '24:00' ends the day; raises ValueError."""
    out = []
    for item in items:
        lo, sep, hi = str(item).partition("-")
        if not sep:
            raise ValueError(f"bad time range {item!r}: use HH:MM-HH:MM, e.g. 09:00-17:00")
        start, end = _minute(lo), _minute(hi)
        if end <= start:
            raise ValueError(f"bad time range {item!r}: the end must come after the start")
        out.append((start, end))
    return tuple(out)


def _minute(text: str) -> int:
    h, sep, m = text.strip().partition(":")
    try:
        hours, minutes = int(h), int(m) if sep else 0
    except ValueError:
        raise ValueError(f"bad time {text!r}: use HH:MM") from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(f"bad time {text!r}: use HH:MM between 00:00 and 24:00")
    return hours * 60 + minutes


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}: use an IANA name such as Europe/Paris") from None
