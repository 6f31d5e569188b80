"""Check states and performance data: the part of the domain vocabulary every check run needs.

Pure and deliberately light (stdlib `enum` only, which `re` loads anyway): `stackwatch-check` is
started as a process for every check run, so this module avoids dataclasses, typing and json.
`stackwatch.model` re-exports everything here; code on the check runner's path imports it from here.
"""

from __future__ import annotations

import enum


class State(enum.IntEnum):
    """A Nagios service state; the integer is the plugin exit code."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @classmethod
    def parse(cls, text: str) -> State:
        return cls[text.strip().upper()]

    @property
    def severity(self) -> int:
        """Ordering for "worst of": OK < UNKNOWN < WARNING < CRITICAL (as nagiosplugin ranks them)."""
        return _SEVERITY[self]


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
