"""The ports every storage backend implements: metrics, check results, events and alerts.

Pure: stdlib only. The embedded SQLite backend implements them first; Elasticsearch (events) and
Prometheus-compatible stores (metrics) implement the same protocols in later issues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Protocol

from stackwatch.model import CheckResult, Kind, Sample, SeriesKey, State


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    id: int
    key: SeriesKey
    kind: Kind
    help: str = ""


@dataclass(frozen=True, slots=True)
class Point:
    """One point of a range answer: the value (mean, or rate for counters) and its bucket's extremes."""

    ts: float
    value: float
    min: float
    max: float


@dataclass(frozen=True, slots=True)
class RangeResult:
    series: SeriesInfo
    resolution: str            # "raw" or the rollup step ("5m", "1h", "1d")
    step: float | None         # None for raw points
    source: str                # the table (and step) that answered
    points: list[Point]


@dataclass(frozen=True, slots=True)
class CurrentCheck:
    """A check's latest result, with when its state began and how many results it has held."""

    host: str
    check: str
    state: State
    summary: str
    timestamp: float
    since: float
    attempts: int
    perfdata: list[dict] = field(default_factory=list)
    duration: float = 0.0


@dataclass(frozen=True, slots=True)
class Event:
    """A log record or a notification, as the event store keeps it (raw input included)."""

    ts: float
    kind: str
    message: str
    host: str = ""
    service: str = ""
    program: str = ""
    severity: str = ""
    request_id: str | None = None
    instance_uuid: str | None = None
    global_request_id: str | None = None
    fields: Mapping[str, object] = field(default_factory=dict)
    raw: str = ""
    id: int | None = None


class MetricStore(Protocol):
    def write(self, samples: Iterable[Sample]) -> int: ...
    def flush(self) -> int: ...
    def series(self, name: str | None = None, matchers: Mapping[str, str] | None = None) -> list[SeriesInfo]: ...
    def latest(self, name: str | None = None, matchers: Mapping[str, str] | None = None,
               since: float | None = None) -> list[tuple[SeriesInfo, float, float]]: ...
    def query_range(self, series_id: int, start: float, end: float, now: float) -> RangeResult: ...
    def enforce_retention(self, now: float) -> dict[str, int]: ...


class CheckStore(Protocol):
    def record(self, result: CheckResult) -> CurrentCheck: ...
    def current(self, host: str | None = None) -> list[CurrentCheck]: ...
    def history(self, host: str, check: str, limit: int = 100) -> list[CheckResult]: ...
    def enforce_retention(self, now: float) -> int: ...


class EventStore(Protocol):
    """Log records and notifications. Every backend gives the same answers (tests/store/test_events_contract.py)."""

    def add(self, events: Iterable[Event]) -> int:
        """Store durably (committed / refreshed-and-acknowledged) before returning the count."""

    def search(self, text: str | None = None, start: float | None = None, end: float | None = None,
               filters: Mapping[str, str] | None = None, limit: int = 100) -> list[Event]:
        """Newest first. `text`: every whitespace-separated word must appear, each matched as a phrase of
        its tokens (standard tokenization: letters and digits; so a UUID, a req-... id or an address
        matches as written) in the message or in `fields["traceback"]`. `filters`: exact matches on
        EVENT_FILTERS columns."""

    def trace(self, ident: str, start: float | None = None, end: float | None = None,
              limit: int = 10000) -> list[Event]:
        """Every event that names `ident` (instance_uuid, request_id or global_request_id equal to it,
        or the message containing it as a token), oldest first."""

    def count(self) -> int: ...

    def enforce_retention(self, now: float, retention: float) -> int: ...


EVENT_FILTERS = ("host", "service", "program", "severity", "request_id", "global_request_id", "instance_uuid",
                 "kind")
