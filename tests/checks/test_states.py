"""States and perfdata (`stackwatch.states`): a plain immutable Perfdata that behaves like the frozen
dataclass it replaced, re-exported unchanged by `stackwatch.model`."""

from __future__ import annotations

import copy
import pickle

import pytest

from stackwatch import model, states
from stackwatch.states import Perfdata, State, worst


def test_model_reexports_the_same_objects():
    assert (model.State, model.Perfdata, model.worst) == (State, Perfdata, worst)


def test_state_parse_severity_and_worst():
    assert State.parse(" critical ") is State.CRITICAL and int(State.UNKNOWN) == 3
    assert [s.severity for s in (State.OK, State.UNKNOWN, State.WARNING, State.CRITICAL)] == [0, 1, 2, 3]
    assert worst([]) is State.OK
    assert worst([State.WARNING, State.UNKNOWN, State.OK]) is State.WARNING
    assert worst(iter([State.UNKNOWN, State.CRITICAL])) is State.CRITICAL


def test_perfdata_fields_defaults_and_keywords():
    datum = Perfdata("load1", 0.5)
    assert (datum.label, datum.value, datum.uom, datum.warning, datum.critical, datum.min, datum.max) == \
        ("load1", 0.5, "", "", "", None, None)
    assert Perfdata(label="/", value=1, uom="MB", warning="5", critical="8", min=0, max=10) == \
        Perfdata("/", 1, "MB", "5", "8", 0, 10)
    with pytest.raises(TypeError):
        Perfdata("x")
    with pytest.raises(TypeError):
        Perfdata("x", 1, bogus=2)


def test_perfdata_is_immutable_and_compared_by_value():
    datum = Perfdata("x", 1, "B", "5", "8", 0, 10)
    with pytest.raises(AttributeError):
        datum.value = 2
    with pytest.raises(AttributeError):
        del datum.label
    with pytest.raises(AttributeError):
        datum.other = 1  # slots: no new attributes either
    assert datum == Perfdata("x", 1, "B", "5", "8", 0, 10) and datum != Perfdata("x", 2, "B", "5", "8", 0, 10)
    assert datum != ("x", 1, "B", "5", "8", 0, 10)
    assert len({datum, Perfdata("x", 1, "B", "5", "8", 0, 10)}) == 1
    assert repr(datum) == "Perfdata(label='x', value=1, uom='B', warning='5', critical='8', min=0, max=10)"


def test_perfdata_pickles_and_copies():
    datum = Perfdata("x", 1.5, "s", "", "", None, 3)
    assert pickle.loads(pickle.dumps(datum)) == datum
    assert copy.copy(datum) == datum and copy.deepcopy(datum) == datum


def test_perfdata_matches_positionally():
    match Perfdata("x", 1, "B"):
        case Perfdata(label, value, uom):
            assert (label, value, uom) == ("x", 1, "B")


@pytest.mark.parametrize("datum, text", [
    (Perfdata("load1", 0.5), "load1=0.5"),
    (Perfdata("/", 22882.0, "MB", "83117", "93507", 0, 258019), "/=22882MB;83117;93507;0;258019"),
    (Perfdata("procs", 0, "", "", "1:", 0), "procs=0;;1:;0"),
    (Perfdata("my disk", 1, "%"), "'my disk'=1%"),
    (Perfdata("it's", 1), "'it''s'=1"),
    (Perfdata("t", 0.0001234), "t=1.234e-04"),
    (Perfdata("t", 123456.789), "t=123457"),
    (Perfdata("t", 1e20), "t=1e+20"),
])
def test_perfdata_format(datum, text):
    assert str(datum) == text


def test_states_is_light():
    source = states.__file__
    with open(source) as fh:
        text = fh.read()
    for heavy in ("dataclasses", "typing", "json", "logging"):
        assert f"import {heavy}" not in text and f"from {heavy}" not in text
