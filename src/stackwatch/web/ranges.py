"""Query windows for trend pages and the range API: named ranges ("1h" … "90d") or explicit epochs.

Pure: stdlib and stackwatch.timespec only; `now` is passed in. Errors are ValueErrors whose message the
web layer shows as is.
"""

from __future__ import annotations

import math

from stackwatch.timespec import parse_duration

RANGES = ("1h", "1d", "7d", "30d", "90d")
DEFAULT_RANGE = "1d"


def parse_range(text: str) -> float:
    """Seconds in a range like '30d' (any duration the config accepts, above zero)."""
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise ValueError(f"bad range {text!r}: use one of {', '.join(RANGES)} (or any duration such as 6h)") from None
    if seconds <= 0:
        raise ValueError(f"bad range {text!r}: must be longer than zero")
    return seconds


def window(now: float, range_: str | None = None, start: str | None = None,
           end: str | None = None) -> tuple[float, float]:
    """(start, end) from either `range_` (ending now) or `start`/`end` epoch seconds (end defaults to now)."""
    if range_ is not None and (start is not None or end is not None):
        raise ValueError("give either range or start/end, not both")
    if start is None and end is None:
        return now - parse_range(range_ or DEFAULT_RANGE), now
    if start is None:
        raise ValueError("end needs a start")
    t0 = _epoch(start, "start")
    t1 = now if end is None else _epoch(end, "end")
    if t1 <= t0:
        raise ValueError("start must be before end")
    return t0, t1


def _epoch(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"bad {name} {text!r}: use seconds since the epoch") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"bad {name} {text!r}: use seconds since the epoch")
    return value
