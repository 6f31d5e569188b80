"""JSON decoding on the hot paths (notification capture): orjson where it can, the stdlib where it cannot.

`loads(text)` returns what `json.loads(text)` returns and raises where it raises, with one difference:
an integer literal beyond 64 bits comes back as a float (orjson's choice; the stdlib gives an int).
orjson (a compiled, well-kept decoder, 3-4 times faster than the stdlib on notification bodies) refuses
some documents the stdlib accepts: NaN/Infinity literals, numbers that overflow a double (1e999), lone
surrogate escapes, nesting deeper than 1024. Whatever orjson refuses is decoded again by `json.loads`,
which returns the stdlib's answer or raises the stdlib's error (ValueError, or RecursionError for deep
nesting). Callers for which a huge integer must stay exact use `json.loads`; the capture path's row
does not hold one (tests/stacktach/test_corpus.py holds its rows equal to the stdlib decoder's).
Without orjson installed, `loads` is `json.loads`.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:              # pragma: no cover - orjson is a dependency; a platform without its wheel
    orjson = None

__all__ = ["loads", "FAST"]

FAST = orjson is not None


def _loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


loads = _loads if FAST else json.loads
