"""Log timestamps to epoch seconds: zone-less times (oslo.log, RFC 3164) in a given zone (UTC by
default), RFC 3339 times with their own offset, and the year RFC 3164 leaves out.

Pure: stdlib only. The clock is never read; "now" is passed in by the caller.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone, tzinfo

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
    if len(digits) != 4 or not digits.isdigit() or int(digits[:2]) > 23 or int(digits[2:]) > 59:
        return None
    secs = int(digits[:2]) * 3600 + int(digits[2:]) * 60
    return -secs if zone[0] == "-" else secs


def _zoned_epoch(second: str, zone: str) -> float | None:
    off = offset_seconds(zone)
    if off is None:
        return None
    try:
        y, mo, d, h, mi, sec = (int(second[:4]), int(second[5:7]), int(second[8:10]), int(second[11:13]),
                                int(second[14:16]), int(second[17:19]))
        datetime(y, mo, d, h, mi)                          # validates the fields
    except ValueError:
        return None
    if sec > 60:
        return None
    return float(calendar.timegm((y, mo, d, h, mi, sec)) - off)


class Clock:
    """Converts broken-down local times to epoch seconds for one zone, caching per second.

    A log stream repeats the same second many times, so the calendar work is done once per second
    and each line costs a dict lookup plus its fraction. `seconds` is that cache, keyed by the
    'YYYY-MM-DD HH:MM:SS' text; the oslo.log parser reads it directly on its hot path.
    """

    __slots__ = ("tz", "seconds", "_zoned", "_bsd", "_now", "_year", "_month")

    def __init__(self, tz: tzinfo | None = None):
        self.tz = tz
        self.seconds: dict[str, float] = {}
        self._zoned: dict[str, float | None] = {}   # 'YYYY-MM-DDTHH:MM:SS' + zone -> epoch seconds
        self._bsd: dict[tuple, float | None] = {}
        self._now: float | None = None           # year_for's memo: the last `now` and its year, month
        self._year = self._month = 0

    def _epoch(self, y: int, mo: int, d: int, h: int, mi: int, s: int) -> float | None:
        if s > 60:
            return None
        try:
            if self.tz is None:
                datetime(y, mo, d, h, mi)                  # validates the fields
                return float(calendar.timegm((y, mo, d, h, mi, s)))
            return datetime(y, mo, d, h, mi, tzinfo=self.tz).timestamp() + s
        except (ValueError, OverflowError):
            return None

    def local(self, second: str) -> float | None:
        """'2017-05-16 00:00:01' (or with a 'T') in this clock's zone -> epoch seconds; None if invalid."""
        hit = self.seconds.get(second)
        if hit is None:
            try:
                hit = self._epoch(int(second[:4]), int(second[5:7]), int(second[8:10]), int(second[11:13]),
                                  int(second[14:16]), int(second[17:19]))
            except ValueError:
                return None
            if hit is None:
                return None
            if len(self.seconds) >= _CACHE_MAX:
                self.seconds.clear()
            self.seconds[second] = hit
        return hit

    def iso(self, second: str, frac: str | None, zone: str | None = None) -> float | None:
        """'2017-05-16 00:00:01', '551', optional zone ('Z', '+02:00') -> epoch seconds, or None."""
        if zone:
            return self.zoned(second, frac, zone)
        base = self.local(second)
        return None if base is None else base + _frac(frac)

    def zoned(self, second: str, frac: str | None, zone: str) -> float | None:
        """A time with its own offset ('2017-05-16T00:00:01', '551', '+02:00') -> epoch seconds, or None.
        RFC 5424 headers repeat the same second and zone, so that part is computed once."""
        key = second + zone
        base = self._zoned.get(key, False)
        if base is False:
            base = _zoned_epoch(second, zone)
            if len(self._zoned) >= _CACHE_MAX:
                self._zoned.clear()
            self._zoned[key] = base
        if base is None:
            return None
        return base + float("0." + frac) if frac else base

    def bsd(self, year: int, month: str, day: int, time: str, frac: str | None) -> float | None:
        """RFC 3164 'Mmm dd hh:mm:ss' with the year supplied -> epoch seconds, or None if invalid."""
        key = (year, month, day, time)
        base = self._bsd.get(key, False)
        if base is False:
            mo = MONTHS.get(month)
            try:
                base = None if mo is None else self._epoch(year, mo, day, int(time[:2]), int(time[3:5]),
                                                           int(time[6:8]))
            except ValueError:
                base = None
            if len(self._bsd) >= _CACHE_MAX:
                self._bsd.clear()
            self._bsd[key] = base
        return None if base is None else base + _frac(frac)

    def year_for(self, month: str, now: float | None) -> int:
        """The year of an RFC 3164 date: the one that puts it at most ~a month after `now`.

        Without `now` the year is unknowable; 1970 makes that visible rather than guessing.
        """
        if now is None:
            return 1970
        if now != self._now:
            current = datetime.fromtimestamp(now, self.tz or timezone.utc)
            self._now, self._year, self._month = now, current.year, current.month
        mo = MONTHS.get(month, self._month)
        return self._year - 1 if mo > self._month + 1 else self._year
