"""States and perfdata (`stackwatch.states`): a plain immutable Perfdata that behaves like the frozen
dataclass it replaced, re-exported unchanged by `stackwatch.model`."""

from __future__ import annotations

import ast
import copy
import enum
import os
import pickle
import subprocess
import sys

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


class Reference(enum.IntEnum):
    """What State was: the parity tests below hold State to it."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


def _same(state_value, reference_value):
    """Equal results, members standing for members of the same name."""
    if isinstance(reference_value, Reference):
        return isinstance(state_value, State) and state_value.name == reference_value.name
    if isinstance(reference_value, (list, tuple)):
        return len(state_value) == len(reference_value) and all(map(_same, state_value, reference_value))
    if hasattr(reference_value, "keys"):  # a dict, or __members__' mappingproxy (State's is a copy)
        return list(state_value) == list(reference_value) and all(map(_same, state_value.values(),
                                                                        reference_value.values()))
    return type(state_value) is type(reference_value) and state_value == reference_value


@pytest.mark.parametrize("expression", [
    "E.OK", "E(0)", "E(2)", "E(2.0)", "E(True)", "E(E.WARNING)", "E['CRITICAL']", "E.UNKNOWN.name", "E.UNKNOWN.value",
    "int(E.CRITICAL)", "str(E.WARNING)", "f'{E.WARNING}'", "format(E.CRITICAL, '>3')", "'%d' % E.UNKNOWN",
    "repr(E.OK).replace('Reference', 'State')", "repr(E).replace('Reference', 'State')", "list(E)", "len(E)",
    "list(reversed(E))", "E.__members__", "E.OK in E", "E.OK == 0", "E.CRITICAL > E.WARNING", "E.WARNING + 1",
    "type(E.WARNING + 1)", "bool(E.OK)", "hash(E.CRITICAL) == hash(2)", "sorted([E.CRITICAL, E.OK, E.WARNING])",
    "max(E)", "{E.OK: 'a'}[0]", "json.dumps({'s': E.CRITICAL, 'l': [E.OK]})", "E.OK is E(0)",
    "pickle.loads(pickle.dumps(E.WARNING)) is E.WARNING", "copy.copy(E.OK) is E.OK",
    "copy.deepcopy([E.UNKNOWN])[0] is E.UNKNOWN", "isinstance(E.OK, int)", "type(E.OK) is E",
    "[E.OK, E.CRITICAL].index(2)", "sqlite3.connect(':memory:').execute('select ?', (E.CRITICAL,)).fetchone()",
])
def test_state_behaves_as_the_intenum_it_was(expression):
    import json
    import sqlite3

    def evaluate(cls):
        return eval(expression, {"E": cls, "json": json, "pickle": pickle, "copy": copy, "sqlite3": sqlite3})

    assert _same(evaluate(State), evaluate(Reference))


@pytest.mark.parametrize("expression, error", [
    ("E(7)", ValueError), ("E('1')", ValueError), ("E(None)", ValueError), ("E['ok']", KeyError),
    ("setattr(E, 'OK', 5)", AttributeError), ("delattr(E, 'OK')", AttributeError),
    ("setattr(E.OK, 'name', 'x')", AttributeError),
])
def test_state_refuses_as_the_intenum_did(expression, error):
    for cls in (State, Reference):
        with pytest.raises(error):
            eval(expression, {"E": cls})
    assert State.OK.name == "OK" and State(0) is State.OK


def test_state_membership_of_values():
    """`2 in State` is True (enum's rule from Python 3.12; 3.11's IntEnum raised TypeError)."""
    assert 2 in State and State.CRITICAL in State and 7 not in State and "OK" not in State and None not in State


def test_states_imports_nothing():
    loaded = subprocess.run([sys.executable, "-S", "-c", "import sys; before = set(sys.modules); "
                             "import stackwatch.states; print(sorted(set(sys.modules) - before))"],
                            capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}).stdout
    assert ast.literal_eval(loaded) == ["__future__", "stackwatch", "stackwatch.states"]
