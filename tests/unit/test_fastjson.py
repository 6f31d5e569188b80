"""fastjson.loads answers as json.loads does: same value for what both accept, the stdlib's error (or
value) for what orjson refuses; integers beyond 64 bits come back as floats."""

from __future__ import annotations

import json
import random
import pytest

from stackwatch import fastjson
from tests.stacktach.notification_support import corpus  # noqa: F401 (fixture: skipped without it, fails in CI)

EDGES = [
    '{"a": NaN, "b": Infinity, "c": -Infinity}',         # orjson refuses; the stdlib decodes
    '{"s": "\\ud800"}',                                     # a lone surrogate escape
    '{"s": "\\ud83d\\ude00 caf\\u00e9"}',
    '{"k": 1, "k": 2}',                                    # duplicate keys: the last wins in both
    '{"x": 1e999, "y": -0.0, "z": 0.1, "w": 5e-324}',
    '{"t": "a\tb"}',                                       # a raw control character: both refuse
    "[" * 2000 + "]" * 2000,                               # deeper than orjson's 1024
    '{"a": [1, 2, {"b": null, "c": true, "d": false}], "e": ""}',
    "", " ", "nul", "{", '{"a": 1,}', "[1 2]", '"\\x"', "01", "1.", "-", "\ufeff{}",
]


def _outcome(loads, text):
    try:
        return ("ok", repr(loads(text)))                   # repr: NaN == NaN
    except RecursionError:
        return ("error", "RecursionError")
    except ValueError:
        return ("error", "ValueError")


def test_orjson_is_used():
    assert fastjson.FAST, "orjson is a dependency: install it"


@pytest.mark.parametrize("text", EDGES)
def test_edges_answer_as_the_stdlib(text):
    assert _outcome(fastjson.loads, text) == _outcome(json.loads, text)


def test_integers_beyond_64_bits_come_back_as_floats():
    assert fastjson.loads('{"n": 9223372036854775807, "u": 18446744073709551615}') == \
        {"n": 9223372036854775807, "u": 18446744073709551615}
    assert fastjson.loads('{"n": 123456789012345678901234567890}') == {"n": 1.2345678901234568e+29}
    assert json.loads('{"n": 123456789012345678901234567890}') == {"n": 123456789012345678901234567890}


def test_mutated_notifications_answer_as_the_stdlib(corpus):
    seeds = [p.read_text() for p in sorted(corpus.rglob("*.json"))[:60]]
    rng = random.Random(20261125)
    agreed = decoded = 0
    for _ in range(4000):
        text = list(rng.choice(seeds))
        for _ in range(rng.randrange(0, 4)):
            i = rng.randrange(len(text))
            text[i:i + rng.randrange(0, 3)] = rng.choice(['"', "{", "}", ",", "NaN", "1e999", "\\u", "\\ud800",
                                                           "9999", "\x01", "é"])
        text = "".join(text)
        ours, theirs = _outcome(fastjson.loads, text), _outcome(json.loads, text)
        assert ours == theirs, text[:200]
        agreed += 1
        decoded += ours[0] == "ok"
    assert agreed == 4000 and 100 < decoded < 4000
