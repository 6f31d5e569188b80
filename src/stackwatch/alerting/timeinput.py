"""Times as people type them for silences, acks and maintenance windows: `now`, a duration from now
(`2h`, `+30m`), or an ISO 8601 time (`2026-11-26T08:00`, UTC unless it carries an offset).

Pure: stdlib only, `now` passed in; raises ValueError with the accepted forms.
"""

from __future__ import annotations

from datetime import datetime, timezone

from stackwatch.timespec import parse_duration


def parse_when(text: str, now: float) -> float:
    s = str(text).strip()
    if s in ("", "now"):
        return now
    try:
        return now + parse_duration(s.lstrip("+"))
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"cannot read time {text!r}: use now, a duration from now such as 2h, "
                         f"or an ISO time such as 2026-11-26T08:00") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.timestamp()


def parse_span(start: str | None, end: str | None, duration: str | None, now: float) -> tuple[float, float]:
    """(starts_at, ends_at) from a start (default now) and either an end or a duration."""
    s = parse_when(start or "now", now)
    if end and duration:
        raise ValueError("give an end or a duration, not both")
    if end:
        e = parse_when(end, now)
    elif duration:
        e = s + parse_duration(duration)
    else:
        raise ValueError("give an end (--end) or a duration (--duration), e.g. --duration 2h")
    if e <= s:
        raise ValueError("the end must come after the start")
    return s, e
