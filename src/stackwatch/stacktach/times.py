"""Notification times to epoch seconds, and the few value coercions the decoder shares.

Pure: stdlib only. Accepts every form the corpus shows: legacy `2016-03-16 10:26:11.613214`
(space, naive UTC), `2016-08-17T13:53:35.000000`, `2016-08-17 13:53:23+00:00`, versioned
`2026-11-23T20:35:10Z`, keystone CADF `2026-11-23T20:34:50.877435+0000`, and epoch numbers.
Naive times are UTC (oslo's `timeutils.utcnow()`). Legacy payloads send `""` for a null time; that,
anything unparseable (notigen's `[[[[DT_3]]]]` placeholders) and anything outside 1970..3000 is
None, never an error.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

_MAX_EPOCH = 32503680000.0          # 3000-01-01: larger numbers are not epoch seconds
_EPOCH_NAIVE = datetime(1970, 1, 1)


def parse_time(value: object) -> float | None:
    """A notification time (string or epoch number) -> epoch seconds, or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        v = float(value)
        return v if math.isfinite(v) and 0.0 <= v < _MAX_EPOCH else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not 10 <= len(text) <= 40 or not text[:4].isdigit():
        return None
    try:
        dt = datetime.fromisoformat(text)
        # naive is UTC: the same exact arithmetic as .timestamp() of an aware time
        v = (dt - _EPOCH_NAIVE).total_seconds() if dt.tzinfo is None else dt.timestamp()
    except (ValueError, OverflowError, OSError):
        return None
    return v if 0.0 <= v < _MAX_EPOCH else None


def to_epoch(when: float | int | datetime) -> float:
    """`now` as the callers pass it (epoch seconds or a datetime; naive means UTC) -> epoch."""
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    return float(when)


def text(value: object) -> str | None:
    """A non-empty string, else None (legacy payloads use "" for null)."""
    return value if isinstance(value, str) and value.strip() else None


def integer(value: object) -> int | None:
    """An int, an integral float or a decimal string ("40", as cinder sends sizes), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        s = value.strip()
        if s.isascii() and s.isdigit() and len(s) <= 18:
            return int(s)
    return None
