"""The domain's shared vocabulary: check states, check results, samples and series keys.

Pure: stdlib only, no clock (callers pass timestamps). Alerts live in `alerting.model`. State,
worst() and Perfdata live in the lighter `stackwatch.states` (the check runner's path) and are
re-exported here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Mapping

from stackwatch.states import Perfdata, State, worst

__all__ = ["CheckResult", "Kind", "Perfdata", "Sample", "SeriesKey", "State", "worst"]


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
        import json

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
