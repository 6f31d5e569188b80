"""Records (`checks.record`) against the namedtuples they replace in the check core: the same behaviour
as tuples, the same namedtuple API, and Metric/Result/CheckOutcome keeping their defaults."""

from __future__ import annotations

import copy
import pickle
from collections import namedtuple

import pytest

from stackwatch.checks.core import CheckOutcome, Metric, Result
from stackwatch.checks.record import record
from stackwatch.states import State

Ours = record("Ours", "x y z")
Theirs = namedtuple("Theirs", "x y z")


@pytest.mark.parametrize("expression", [
    "P(1, 2, 3)", "P(1, 2, 3).y", "P(1, 2, 3)[2]", "list(P(1, 2, 3))", "P(1, 2, 3) == (1, 2, 3)",
    "hash(P(1, 2, 3)) == hash((1, 2, 3))", "repr(P(1, 'a', None))", "P._fields", "P.__match_args__",
    "P._make([4, 5, 6])", "P(1, 2, 3)._replace(y=9)", "P(1, 2, 3)._asdict()", "pickle.loads(pickle.dumps(P(1, 2, 3)))",
    "copy.deepcopy(P(1, [2], 3))", "P(1, 2, 3)[:2]", "P(1, 2, 3) + (4,)", "len(P(1, 2, 3))", "P(1, 2, 3) < P(1, 3, 0)",
    "x if (x := P(1, 2, 3)) else None", "P(1, 2, 3).__getnewargs__()",
])
def test_a_record_behaves_as_a_namedtuple(expression):
    ours = eval(expression, {"P": Ours, "pickle": pickle, "copy": copy})
    theirs = eval(expression, {"P": Theirs, "pickle": pickle, "copy": copy})
    assert repr(ours).replace("Ours", "P") == repr(theirs).replace("Theirs", "P")
    assert ours == theirs or isinstance(ours, str)  # a repr names its class


@pytest.mark.parametrize("expression, error", [
    ("P(1, 2)", TypeError), ("P._make([1])", TypeError), ("P(1, 2, 3)._replace(w=1)", ValueError),
    ("setattr(P(1, 2, 3), 'x', 5)", AttributeError), ("setattr(P(1, 2, 3), 'w', 5)", AttributeError),
])
def test_a_record_refuses_as_a_namedtuple(expression, error):
    for cls in (Ours, Theirs):
        with pytest.raises(error):
            eval(expression, {"P": cls})


def test_records_match_positionally_and_by_name():
    match Ours(1, 2, 3):
        case Ours(a, b, z=c):
            assert (a, b, c) == (1, 2, 3)


def test_core_records_keep_their_defaults_and_round_trip():
    metric = Metric("load1", 0.5)
    assert metric == ("load1", 0.5, "", None, None, "load1") and metric.context == "load1"
    result = Result(State.WARNING, metric, "too high")
    assert result.description == "load1 is 0.5" and str(result) == "load1 is 0.5 (too high)"
    outcome = CheckOutcome(State.OK, "fine", [], ["OK: a"])
    assert outcome.perfdata == () and outcome.details == ("OK: a",)
    for value in (metric, result, outcome):
        assert pickle.loads(pickle.dumps(value)) == value and copy.deepcopy(value) == value
    assert repr(metric) == "Metric(name='load1', value=0.5, uom='', min=None, max=None, context='load1')"
    assert metric._replace(value=2).valueunit == "2"
    assert not hasattr(metric, "__dict__")
