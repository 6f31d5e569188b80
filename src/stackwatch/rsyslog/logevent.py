"""A parsed log record as the event store keeps it: ids as columns, the rest in `fields`, raw kept.
Used by the ingest pipeline in this process, by its parse helper processes and by the store's log writers.
"""

from __future__ import annotations

from stackwatch.rsyslog.record import SEVERITY_NAMES, LogRecord
from stackwatch.store.interfaces import Event

_LEVELS = tuple(name.upper() for name in SEVERITY_NAMES)


def record_fields(r: LogRecord, transport: str, time_from_received: bool) -> dict:
    """The record's `fields` but its traceback. Spelled out field by field: it runs once per log line.
    Reads exactly what `fields_key` holds."""
    f: dict = {}
    if r.pid is not None:
        f["pid"] = r.pid
    if r.logger:
        f["logger"] = r.logger
    if r.user_id:
        f["user_id"] = r.user_id
    if r.project_id:
        f["project_id"] = r.project_id
    if r.facility is not None:
        f["facility"] = r.facility
    if r.severity is not None:
        f["severity"] = r.severity
    f["parsed"] = r.parsed
    f["truncated"] = r.truncated
    if r.function:
        f["function"] = r.function
    if r.location:
        f["location"] = r.location
    if r.source:
        f["source"] = r.source
    if transport:
        f["transport"] = transport
    if time_from_received:
        f["time_from"] = "received"
    return f


def fields_key(r: LogRecord, transport: str) -> tuple:
    """Everything `record_fields` reads, for those who keep its result per key (the log writers encode the
    same fields once for the many records of one process and context)."""
    return (r.pid, r.logger, r.user_id, r.project_id, r.facility, r.severity, r.parsed, r.truncated, r.function,
            r.location, r.source, transport, r.timestamp is None)


def record_level(r: LogRecord) -> str:
    """The oslo.log level, else the syslog severity's name, else ""."""
    level = r.level
    if not level:
        sev = r.severity
        level = _LEVELS[sev] if sev is not None and 0 <= sev < len(_LEVELS) else ""
    return level


def event_values(r: LogRecord, received_at: float, transport: str = "") -> tuple:
    """`Event(*event_values(...))`."""
    ts = r.timestamp
    f = record_fields(r, transport, ts is None)
    if r.traceback:
        f["traceback"] = r.traceback
    return (received_at if ts is None else ts, "log", r.message, r.host or "", r.service or "", r.program or "",
            record_level(r), r.request_id, r.instance_uuid, r.global_request_id, f, r.raw)


def record_to_event(r: LogRecord, received_at: float, transport: str = "") -> Event:
    """A parsed record as the event store keeps it: ids as columns, the rest in `fields`, raw kept."""
    return Event(*event_values(r, received_at, transport))
