"""Check states and performance data: the part of the domain vocabulary every check run needs.

Pure and deliberately light (stdlib only, no imports at all): `stackwatch-check` is started as a process
for every check run, so this module avoids dataclasses, typing and json, and `enum` too: importing it
(with the functools and collections it loads) cost every run about 3 ms of its ~16. `State` is written
as the IntEnum it was and behaves as one (see its docstring). `stackwatch.model` re-exports everything
here; code on the check runner's path imports it from here.
"""

from __future__ import annotations


class _StateType(type):
    """The class of `State`, doing what enum's metaclass did for it: State(2) and State["CRITICAL"] look
    members up, iterating lists them in order, members cannot be reassigned."""

    def __call__(cls, value):
        try:
            return cls._by_value[value]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not a valid {cls.__name__}") from None

    def __getitem__(cls, name: str):
        return cls._by_name[name]

    def __iter__(cls):
        return iter(cls._by_name.values())

    def __reversed__(cls):
        return reversed(list(cls._by_name.values()))

    def __len__(cls) -> int:
        return len(cls._by_name)

    def __contains__(cls, item) -> bool:
        """A member or the value of one (enum's rule from Python 3.12 on; 3.11 raised TypeError for ints)."""
        try:
            return item in cls._by_value
        except TypeError:
            return False

    @property
    def __members__(cls) -> dict:
        return dict(cls._by_name)

    def __setattr__(cls, name, value):
        if name in cls.__dict__.get("_by_name", ()):
            raise AttributeError(f"cannot reassign member {name!r}")
        super().__setattr__(name, value)

    def __delattr__(cls, name):
        if name in cls.__dict__.get("_by_name", ()):
            raise AttributeError(f"cannot delete member {name!r}")
        super().__delattr__(name)

    def __repr__(cls) -> str:
        return f"<enum {cls.__name__!r}>"


class State(int, metaclass=_StateType):
    """A Nagios service state; the integer is the plugin exit code.

    Behaves as the `enum.IntEnum` it was: State.OK..State.UNKNOWN are the only instances (State(0) is
    State.OK, State["OK"] too; pickling and copying keep the identity), an int everywhere (exit codes,
    SQLite, JSON, comparisons), `.name` and `.value`, repr "<State.OK: 0>", str and format the number
    (as IntEnum's since Python 3.11), iteration in order, `in`, `len`, `__members__`. What it is not:
    an instance of enum.Enum.
    """

    OK: State
    WARNING: State
    CRITICAL: State
    UNKNOWN: State
    _by_name: dict
    _by_value: dict

    @property
    def name(self) -> str:
        return self._name_

    @property
    def value(self) -> int:
        return int(self)

    @classmethod
    def parse(cls, text: str) -> State:
        return cls[text.strip().upper()]

    @property
    def severity(self) -> int:
        """Ordering for "worst of": OK < UNKNOWN < WARNING < CRITICAL (as nagiosplugin ranks them)."""
        return _SEVERITY[self]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self._name_}: {int(self)}>"

    __str__ = int.__repr__
    __format__ = int.__format__

    def __reduce_ex__(self, protocol):
        return type(self), (int(self),)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def _members(cls, **values: int) -> None:
    by_name = {}
    for name, value in values.items():
        member = int.__new__(cls, value)
        member._name_ = name
        member._value_ = value
        by_name[name] = member
        type.__setattr__(cls, name, member)
    type.__setattr__(cls, "_by_name", by_name)
    type.__setattr__(cls, "_by_value", {int(m): m for m in by_name.values()})


_members(State, OK=0, WARNING=1, CRITICAL=2, UNKNOWN=3)
_SEVERITY = {0: 0, 3: 1, 1: 2, 2: 3}


def worst(states) -> State:
    """The most severe of `states` (OK when empty)."""
    result = State.OK
    for state in states:
        if state.severity > result.severity:
            result = state
    return result


_PERFDATA_FIELDS = ("label", "value", "uom", "warning", "critical", "min", "max")


class Perfdata:
    """One Nagios performance datum: 'label'=value[uom];warn;crit;min;max.

    Immutable and compared by value, like a frozen dataclass (assigning an attribute raises
    AttributeError).
    """

    __slots__ = _PERFDATA_FIELDS
    __match_args__ = _PERFDATA_FIELDS

    label: str
    value: float
    uom: str
    warning: str
    critical: str
    min: float | None
    max: float | None

    def __init__(self, label: str, value: float, uom: str = "", warning: str = "", critical: str = "",
                 min: float | None = None, max: float | None = None):
        setattr_ = object.__setattr__
        setattr_(self, "label", label)
        setattr_(self, "value", value)
        setattr_(self, "uom", uom)
        setattr_(self, "warning", warning)
        setattr_(self, "critical", critical)
        setattr_(self, "min", min)
        setattr_(self, "max", max)

    def _astuple(self) -> tuple:
        return (self.label, self.value, self.uom, self.warning, self.critical, self.min, self.max)

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot assign to field {name!r}: Perfdata is immutable")

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete field {name!r}: Perfdata is immutable")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __reduce__(self):
        return self.__class__, self._astuple()

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in zip(_PERFDATA_FIELDS, self._astuple()))
        return f"{self.__class__.__qualname__}({inner})"

    def __str__(self) -> str:
        label = self.label
        if any(c in label for c in " '="):
            label = "'" + label.replace("'", "''") + "'"
        parts = [f"{label}={_num(self.value)}{self.uom}", self.warning, self.critical,
                 "" if self.min is None else _num(self.min), "" if self.max is None else _num(self.max)]
        return ";".join(parts).rstrip(";")


def _num(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"
    return str(value)
