"""What the notification archive holds, whatever its backend (the embedded SQLite store, Elasticsearch at
scale): the stored row (`COLUMNS`), `StoredNotification` as queries return it, `DeadLetter` for bodies
that could not be understood, `ResourceEvent` for the event-driven inventory, and the `NotificationStore`
protocol both backends implement (tests/store/test_notifications_contract.py runs against both).

Pure: stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol, Sequence

COLUMNS = ("message_id", "ts", "deployment", "event_type", "name", "priority", "publisher_id", "service", "host",
           "request_id", "global_request_id", "tenant_id", "user_id", "instance_uuid", "state", "old_state",
           "task_state", "is_error", "flavor", "resource_id", "size", "raw")
"""A row as the ingest hands it to `NotificationStore.add`, in this order."""


@dataclass(frozen=True, slots=True)
class StoredNotification:
    id: int                          # insertion order within a backend (SQLite rowid, Elasticsearch seq)
    message_id: str
    ts: float
    deployment: str
    event_type: str
    name: str
    priority: str
    publisher_id: str
    service: str
    host: str
    request_id: str | None
    global_request_id: str | None
    tenant_id: str | None
    user_id: str | None
    instance_uuid: str | None
    state: str | None
    old_state: str | None
    task_state: str | None
    is_error: bool
    flavor: str | None
    resource_id: str | None
    size: float | None
    raw: str

    @property
    def payload(self) -> Mapping[str, Any]:
        """The normalized payload, decoded again from the raw body (not stored twice)."""
        from stackwatch.stacktach.notification import MalformedNotification, decode

        try:
            return decode(self.raw.encode("utf-8", "backslashreplace")).payload
        except MalformedNotification:
            return {}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    received_at: float
    deployment: str
    exchange: str
    routing_key: str
    message_id: str | None
    reason: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class ResourceEvent:
    """One notification about a volume or an image, as the inventory folds them (oldest first)."""

    resource_id: str
    ts: float
    name: str
    state: str | None
    size: float | None
    tenant_id: str | None
    host: str


def stored(values: Sequence[Any]) -> StoredNotification:
    """id followed by the COLUMNS values -> StoredNotification."""
    values = list(values)
    values[18] = bool(values[18])
    return StoredNotification(*values)


class NotificationStore(Protocol):
    def add(self, rows: Iterable[tuple], dead: Sequence[DeadLetter] = ()) -> int:
        """Store rows (COLUMNS order; an iterable read once, before `dead`, which it may still fill) and dead
        letters durably before returning the number of rows newly stored: a message_id already stored is a
        duplicate and dropped. Raises (nothing stored or acknowledged) when the backend is unavailable."""

    def query(self, *, instance: str | None = None, request_id: str | None = None, tenant: str | None = None,
              name: str | None = None, event_type: str | None = None, service: str | None = None,
              errors_only: bool = False, start: float | None = None, end: float | None = None,
              limit: int = 1000, newest_first: bool = False) -> list[StoredNotification]:
        """Exact filters (request_id matches request_id or global_request_id), start <= ts < end; ordered by
        ts then insertion."""

    def alive_instances(self) -> tuple[dict[str, int], dict[str, int]]:
        """Instances whose latest nova notification with a state is not a deletion: per host, per flavor."""

    def resource_events(self, service: str) -> list[ResourceEvent]:
        """Every stored notification of `service` about a resource (volume, image), oldest first."""

    def count(self) -> int: ...

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Newest first."""

    def dead_letter_counts(self) -> dict[str, int]: ...

    def enforce_retention(self, now: float, retention: float) -> int: ...
