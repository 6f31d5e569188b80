"""A parsed log record as the event store keeps it: ids as columns, the rest in `fields`, raw kept.
Used by the ingest pipeline in this process and by its parse helper process.
"""

from __future__ import annotations

from stackwatch.rsyslog.record import SEVERITY_NAMES, LogRecord
from stackwatch.store.interfaces import Event

_LEVELS = tuple(name.upper() for name in SEVERITY_NAMES)


def event_values(r: LogRecord, received_at: float, transport: str = "") -> tuple:
    """`Event(*event_values(...))`. Spelled out field by field: it runs once per log line."""
    f: dict = {}
    if r.pid is not None:
        f["pid"] = r.pid
    if r.logger:
        f["logger"] = r.logger
    if r.user_id:
        f["user_id"] = r.user_id
    if r.project_id:
        f["project_id"] = r.project_id
    if r.traceback:
        f["traceback"] = r.traceback
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
    ts = r.timestamp
    if ts is None:
        f["time_from"] = "received"
        ts = received_at
    level = r.level
    if not level:
        sev = r.severity
        level = _LEVELS[sev] if sev is not None and 0 <= sev < len(_LEVELS) else ""
    return (ts, "log", r.message, r.host or "", r.service or "", r.program or "", level, r.request_id,
            r.instance_uuid, r.global_request_id, f, r.raw)


def record_to_event(r: LogRecord, received_at: float, transport: str = "") -> Event:
    """A parsed record as the event store keeps it: ids as columns, the rest in `fields`, raw kept."""
    return Event(*event_values(r, received_at, transport))
