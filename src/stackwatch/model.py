"""The domain's shared vocabulary: check states, check results, samples and series keys.

Pure: stdlib only, no clock (callers pass timestamps). Alerts live in `alerting.model`.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Mapping


class State(enum.IntEnum):
    """A Nagios service state; the integer is the plugin exit code."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @classmethod
    def parse(cls, text: str) -> "State":
        return cls[text.strip().upper()]

    @property
    def severity(self) -> int:
        """Ordering for "worst of": OK < UNKNOWN < WARNING < CRITICAL (as nagiosplugin ranks them)."""
        return {0: 0, 3: 1, 1: 2, 2: 3}[int(self)]


def worst(states) -> State:
    """The most severe of `states` (OK when empty)."""
    result = State.OK
    for state in states:
        if state.severity > result.severity:
            result = state
    return result


@dataclass(frozen=True, slots=True)
class Perfdata:
    """One Nagios performance datum: 'label'=value[uom];warn;crit;min;max."""

    label: str
    value: float
    uom: str = ""
    warning: str = ""
    critical: str = ""
    min: float | None = None
    max: float | None = None

    def __str__(self) -> str:
        label = self.label
        if any(c in label for c in " '=") :
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


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one run of one check on one host."""

    host: str
    check: str
    state: State
    summary: str
    timestamp: float
    perfdata: tuple[Perfdata, ...] = ()
    duration: float = 0.0

    def nagios_line(self, prefix: str | None = None) -> str:
        head = f"{(prefix or self.check).upper()} {self.state.name} - {self.summary}"
        if self.perfdata:
            head += " | " + " ".join(str(p) for p in self.perfdata)
        return head


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """A time series: metric name plus labels (sorted, so equal label sets give equal keys)."""

    name: str
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, name: str, labels: Mapping[str, str] | None = None) -> "SeriesKey":
        return cls(name, tuple(sorted((str(k), str(v)) for k, v in (labels or {}).items())))

    @property
    def labels_json(self) -> str:
        return json.dumps(dict(self.labels), sort_keys=True, separators=(",", ":"))

    def label(self, name: str, default: str = "") -> str:
        for key, value in self.labels:
            if key == name:
                return value
        return default

    def __str__(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.name}{{{inner}}}" if inner else self.name


class Kind(str, enum.Enum):
    """How a series' values are read: a gauge as is, a counter as a rate (resets handled)."""

    GAUGE = "gauge"
    COUNTER = "counter"


@dataclass(frozen=True, slots=True)
class Sample:
    """One measurement of one series at one time (seconds since the epoch)."""

    key: SeriesKey
    timestamp: float
    value: float
    kind: Kind = Kind.GAUGE
    help: str = field(default="", compare=False)
