"""Log timestamps to epoch seconds: zone-less times (oslo.log, RFC 3164) in a given zone (UTC by
default), RFC 3339 times with their own offset, and the year RFC 3164 leaves out.

Pure: stdlib only. The clock is never read; "now" is passed in by the caller.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone, tzinfo

MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_CACHE_MAX = 4096


def _frac(frac: str | None) -> float:
    return float("0." + frac) if frac else 0.0


def offset_seconds(zone: str) -> int | None:
    """'Z', '+02:00', '-0700' -> seconds east of UTC; None if malformed."""
    if zone in ("Z", "z"):
        return 0
    digits = zone[1:].replace(":", "")
    if len(digits) != 4 or not digits.isdigit():
        return None
    secs = int(digits[:2]) * 3600 + int(digits[2:]) * 60
    return -secs if zone[0] == "-" else secs


class Clock:
    """Converts broken-down local times to epoch seconds for one zone, caching per minute.

    A log stream repeats the same minute thousands of times, so the calendar work is done once per
    minute and each line costs a dict lookup plus the seconds.
    """

    __slots__ = ("tz", "_minutes")

    def __init__(self, tz: tzinfo | None = None):
        self.tz = tz
        self._minutes: dict[object, float | None] = {}

    def _minute(self, key: object, y: int, mo: int, d: int, h: int, mi: int) -> float | None:
        if len(self._minutes) >= _CACHE_MAX:
            self._minutes.clear()
        try:
            if self.tz is None:
                datetime(y, mo, d, h, mi)                  # validates the fields
                base: float | None = float(calendar.timegm((y, mo, d, h, mi, 0)))
            else:
                base = datetime(y, mo, d, h, mi, tzinfo=self.tz).timestamp()
        except (ValueError, OverflowError):
            base = None
        self._minutes[key] = base
        return base

    def iso(self, date: str, time: str, frac: str | None, zone: str | None = None) -> float | None:
        """'2017-05-16', '00:00:01', '551' (and an optional zone) -> epoch seconds, or None if invalid."""
        key = date + time[:5]
        base = self._minutes.get(key, False)
        if base is False:
            try:
                base = self._minute(key, int(date[:4]), int(date[5:7]), int(date[8:10]),
                                    int(time[:2]), int(time[3:5]))
            except ValueError:
                base = None
        sec = int(time[6:8])
        if base is None or sec > 60:
            return None
        ts = base + sec + _frac(frac)
        if zone:
            off = offset_seconds(zone)
            if off is None:
                return None
            if self.tz is None:
                return ts - off
            # base was computed in self.tz; redo it in the stated offset.
            naive = datetime(int(date[:4]), int(date[5:7]), int(date[8:10]), int(time[:2]), int(time[3:5]))
            return naive.replace(tzinfo=timezone(timedelta(seconds=off))).timestamp() + sec + _frac(frac)
        return ts

    def bsd(self, year: int, month: str, day: int, time: str, frac: str | None) -> float | None:
        """RFC 3164 'Mmm dd hh:mm:ss' with the year supplied -> epoch seconds, or None if invalid."""
        mo = MONTHS.get(month)
        if mo is None:
            return None
        key = (year, mo, day, time[:5])
        base = self._minutes.get(key, False)
        if base is False:
            base = self._minute(key, year, mo, day, int(time[:2]), int(time[3:5]))
        sec = int(time[6:8])
        if base is None or sec > 60:
            return None
        return base + sec + _frac(frac)

    def year_for(self, month: str, now: float | None) -> int:
        """The year of an RFC 3164 date: the one that puts it at most ~a month after `now`.

        Without `now` the year is unknowable; 1970 makes that visible rather than guessing.
        """
        if now is None:
            return 1970
        current = datetime.fromtimestamp(now, self.tz or timezone.utc)
        mo = MONTHS.get(month, current.month)
        return current.year - 1 if mo > current.month + 1 else current.year
