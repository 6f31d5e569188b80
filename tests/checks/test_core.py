"""The check core: Range proven identical to nagiosplugin's, contexts, and combining results."""

from __future__ import annotations

import math

import nagiosplugin
import pytest

from stackwatch.checks.core import (CheckOutcome, Context, Metric, Range, Result, ScalarContext, Summary, combine,
                                    evaluate, threshold)
from stackwatch.model import Perfdata, State

SPECS = ["", "10", "10:", "~:10", "10:20", "@10:20", "@10", "@10:", "@~:10", "0:0", "-10:10", "~:", "@",
         "1.5", "0.5:2.5", "-5:-1", "~:-3", "@-1:1", "20:20", ":10", "@0:0", "10.0", "@1.0:2.0", "0.0:5"]
VALUES = [-math.inf, -100, -10, -5, -3.5, -1, -0.5, 0, 0.1, 0.5, 1, 1.5, 2.5, 5, 9.99, 10, 10.01, 15, 19.999, 20,
          20.5, 100, math.inf]


@pytest.mark.parametrize("spec", SPECS)
def test_range_matches_exactly_as_nagiosplugin(spec):
    ours, theirs = Range.parse(spec), nagiosplugin.Range(spec)
    assert (ours.start, ours.end, ours.invert) == (theirs.start, theirs.end, theirs.invert)
    assert [ours.match(v) for v in VALUES] == [theirs.match(v) for v in VALUES]
    assert str(ours) == str(theirs)


@pytest.mark.parametrize("spec", ["abc", "1:2:3", "20:10", "@5:1", "~", "10:x", "1e3", "5%", "-10"])
def test_range_rejects_what_nagiosplugin_rejects(spec):
    with pytest.raises(ValueError):
        nagiosplugin.Range(spec)
    with pytest.raises(ValueError, match="not a Nagios range"):
        Range.parse(spec)


def test_range_error_message_says_what_is_accepted():
    with pytest.raises(ValueError) as info:
        Range.parse("lots")
    assert str(info.value) == "not a Nagios range: 'lots' (use e.g. 10, 10:, ~:10, 10:20, @10:20)"


@pytest.mark.parametrize("spec, value, fine", [
    ("10", 10, True), ("10", 10.5, False), ("10", -1, False),        # 0..10
    ("10:", 9, False), ("10:", 1e9, True),                           # alert below 10
    ("~:10", -1e9, True), ("~:10", 11, False),
    ("10:20", 15, True), ("10:20", 21, False), ("10:20", 9, False),
    ("@10:20", 15, False), ("@10:20", 10, False), ("@10:20", 21, True),  # alert inside, bounds included
])
def test_range_semantics_of_the_nagios_guidelines(spec, value, fine):
    assert Range.parse(spec).match(value) is fine
    assert (value in Range.parse(spec)) is fine


def test_range_round_trips_and_scales():
    for spec in ("10", "10:", "~:10", "10:20", "@10:20", "@5", "~:"):
        assert str(Range.parse(str(Range.parse(spec)))) == spec
    assert str(Range.parse("0:10")) == "10"  # a zero start is left out, as nagiosplugin does
    assert str(Range.parse("@80:90").scaled(10)) == "@800:900"
    assert str(Range.parse("90").scaled(0.5)) == "45"
    assert Range.parse("10:20") == Range(10, 20) and Range.parse("@5") != Range.parse("5")


def test_violation_hint():
    assert Range.parse("10").violation == "outside range 0:10"
    assert Range.parse("@10:20").violation == "inside range 10:20"


def test_threshold_none_and_empty_mean_no_threshold():
    assert threshold(None) is None and threshold("") is None
    assert threshold("5") == Range(0, 5)


@pytest.mark.parametrize("value, state, hint", [
    (5, State.OK, None), (15, State.WARNING, "outside range 0:10"), (25, State.CRITICAL, "outside range 0:20"),
    (-1, State.CRITICAL, "outside range 0:20"),
])
def test_scalar_context(value, state, hint):
    ctx = ScalarContext("load1", "10", "20")
    result = ctx.evaluate(Metric("load1", value))
    assert (result.state, result.hint) == (state, hint)
    assert result.description == f"load1 is {value}"


def test_scalar_context_without_thresholds_is_ok_even_below_zero():
    # nagiosplugin's empty range would flag -1; None here means "no threshold".
    assert ScalarContext("x").evaluate(Metric("x", -1)).state is State.OK


def test_scalar_context_perfdata():
    datum = ScalarContext("procs", None, "1:").performance(Metric("procs", 0, min=0))
    assert datum == Perfdata("procs", 0, "", "", "1:", 0, None)
    assert str(datum) == "procs=0;;1:;0"
    assert str(ScalarContext("t", "@10:20", "~:30").performance(Metric("t", 12.5, "C", 0, 100))) == "t=12.5C;@10:20;~:30;0;100"


def test_metric_context_defaults_to_name_and_valueunit_rounds():
    m = Metric("load1", 0.123456, "")
    assert m.context == "load1" and m.valueunit == "0.1235"
    assert Metric("used", 2.0, "%", context="pct").valueunit == "2%"


def test_combine_puts_problems_first_and_takes_the_worst():
    results = [Result(State.OK, Metric("a", 1)), Result(State.WARNING, Metric("b", 2), "too high"),
               Result(State.CRITICAL, Metric("c", 3), "far too high"), Result(State.OK, Metric("d", 4))]
    outcome = combine(results)
    assert outcome.state is State.CRITICAL
    assert outcome.summary == "c is 3 (far too high), b is 2 (too high), a is 1, d is 4"
    assert outcome.details[0] == "CRITICAL: c is 3 (far too high)"


def test_combine_nothing_is_unknown():
    assert combine([]).state is State.UNKNOWN
    assert combine([]).summary == "no check results"


def test_evaluate_wires_metrics_to_contexts_and_perfdata():
    class Doubled(Context):
        def describe(self, metric):
            return f"{metric.name} doubled is {metric.value * 2}"

    outcome = evaluate([Metric("a", 1), Metric("b", 30, context="limit")],
                       [Doubled("a"), ScalarContext("limit", "10", "20")])
    assert outcome.state is State.CRITICAL
    assert outcome.summary == "b is 30 (outside range 0:20), a doubled is 2"
    assert [str(p) for p in outcome.perfdata] == ["b=30;10;20"]


def test_evaluate_names_a_missing_context():
    with pytest.raises(ValueError, match="no context 'nope' for metric 'a'"):
        evaluate([Metric("a", 1, context="nope")], [ScalarContext("b")])


def test_custom_summary_and_nagios_line():
    class Short(Summary):
        def ok(self, results):
            return "all fine"

    outcome = evaluate([Metric("x", 1, "B", 0, 10)], [ScalarContext("x", "5", "8")], Short())
    assert outcome == CheckOutcome(State.OK, "all fine", (Perfdata("x", 1, "B", "5", "8", 0, 10),), ("OK: x is 1B",))
    assert outcome.nagios_line("DEMO") == "DEMO OK - all fine | x=1B;5;8;0;10"
    assert outcome.nagios_line("P", "{label} {state}: {summary}") == "P OK: all fine | x=1B;5;8;0;10"
    result = outcome.to_result("h1", "demo", 1000.0, 0.5)
    assert (result.host, result.check, result.state, result.timestamp, result.duration) == ("h1", "demo", State.OK, 1000.0, 0.5)
    assert result.nagios_line("DEMO") == "DEMO OK - all fine | x=1B;5;8;0;10"
