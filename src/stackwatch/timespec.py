"""Durations written the Prometheus/Alertmanager way ("30s", "5m", "1h30m", "90d").

Pure: stdlib only.
"""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")


def parse_duration(text: str | int | float) -> float:
    """Seconds in `text`; raises ValueError with the accepted forms on anything else."""
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, (int, float)):
        if text < 0:
            raise ValueError(f"negative duration: {text!r}")
        return float(text)
    s = str(text).strip()
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h30m, 90d)")
    return total


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of `seconds` ("1h30m", "90d", "250ms")."""
    if seconds < 1 and seconds > 0:
        return f"{round(seconds * 1000)}ms"
    rest, out = int(round(seconds)), []
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out) or "0s"
