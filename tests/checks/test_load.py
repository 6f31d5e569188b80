"""The load check: check_load's -w/-c triples and -r."""

from __future__ import annotations

import os

import pytest

from stackwatch.checks.core import Metric
from stackwatch.checks.load import LoadCheck, LoadOptions, parse_triple
from stackwatch.model import State


def loads(l1, l5, l15, scaled_by=None):
    metrics = [Metric(n, v, min=0) for n, v in zip(("load1", "load5", "load15"), (l1, l5, l15))]
    if scaled_by:
        metrics += [Metric("scaled_" + n, v / scaled_by, min=0) for n, v in zip(("load1", "load5", "load15"), (l1, l5, l15))]
    return metrics


@pytest.mark.parametrize("values, state", [
    ((0.5, 0.4, 0.3), State.OK), ((15, 10, 5), State.OK),            # equal to the threshold is fine
    ((15.01, 1, 1), State.WARNING), ((1, 10.5, 1), State.WARNING), ((1, 1, 5.5), State.WARNING),
    ((31, 1, 1), State.CRITICAL), ((16, 26, 1), State.CRITICAL), ((1, 1, 21), State.CRITICAL),
])
def test_triples(values, state):
    check = LoadCheck(LoadOptions(warning="15,10,5", critical="30,25,20"))
    assert check.evaluate(loads(*values)).state is state


def test_status_line_and_perfdata():
    check = LoadCheck(LoadOptions(warning="15,10,5", critical="30,25,20"))
    outcome = check.evaluate(loads(16, 0.19, 0.08))
    assert check.status_line(outcome) == (
        "LOAD WARNING - total load average: 16.00, 0.19, 0.08 - load1 is 16 (outside range 0:15)"
        " | load1=16;15;30;0 load5=0.19;10;25;0 load15=0.08;5;20;0")


def test_single_value_applies_to_all_three():
    assert parse_triple("4") == parse_triple("4,4,4")
    assert LoadCheck(LoadOptions(warning="4", critical="8")).evaluate(loads(1, 1, 5)).state is State.WARNING


def test_per_cpu_judges_the_scaled_averages():
    check = LoadCheck(LoadOptions(warning="1,1,1", critical="2,2,2", per_cpu=True))
    outcome = check.evaluate(loads(6, 3, 1, scaled_by=4))        # 1.5, 0.75, 0.25 per CPU
    assert outcome.state is State.WARNING
    assert outcome.summary.startswith("scaled load average: 1.50, 0.75, 0.25 - total load average: 6.00, 3.00, 1.00")
    perf = {p.label: p for p in outcome.perfdata}
    assert (perf["load1"].warning, perf["scaled_load1"].warning) == ("", "1")


def test_probe_reads_the_real_load():
    metrics = {m.name: m.value for m in LoadCheck(LoadOptions(per_cpu=True)).probe()}
    assert [metrics["load1"], metrics["load5"], metrics["load15"]] == pytest.approx(list(os.getloadavg()), abs=0.5)
    assert metrics["scaled_load1"] == pytest.approx(metrics["load1"] / os.cpu_count())


@pytest.mark.parametrize("text", ["1,2", "1,2,3,4", "a,b,c", "5:1"])
def test_bad_triples(text):
    with pytest.raises(ValueError, match="not a load threshold"):
        parse_triple(text)
