"""Events (log records, notifications) in SQLite with an FTS5 index on the message.

The shape matches what the logs and notifications issues need: ids that are searched exactly
(request_id, instance_uuid) are columns with indexes; the text is in the FTS5 index; everything parsed
is kept as JSON and the input as received in `raw`.
"""

from __future__ import annotations

import json
from typing import Iterable, Mapping

from stackwatch.store.interfaces import Event
from stackwatch.store.sqlite.database import Database

_COLUMNS = ("host", "service", "program", "severity", "request_id", "instance_uuid", "kind")


class SqliteEventStore:
    def __init__(self, db: Database):
        self.db = db

    def add(self, events: Iterable[Event]) -> int:
        rows = [(e.ts, e.kind, e.host, e.service, e.program, e.severity, e.request_id, e.instance_uuid,
                 e.message, json.dumps(dict(e.fields), default=str), e.raw) for e in events]
        with self.db.write() as conn:
            conn.executemany("INSERT INTO events (ts, kind, host, service, program, severity, request_id, "
                             "instance_uuid, message, fields, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def search(self, text: str | None = None, start: float | None = None, end: float | None = None,
               filters: Mapping[str, str] | None = None, limit: int = 100) -> list[Event]:
        """Newest first. `text` is matched as FTS5 phrases (each word quoted, so ids search literally)."""
        where, args = [], []
        sql = ("SELECT e.id, e.ts, e.kind, e.host, e.service, e.program, e.severity, e.request_id, "
               "e.instance_uuid, e.message, e.fields, e.raw FROM events e")
        if text:
            sql += " JOIN events_fts f ON f.rowid = e.id"
            where.append("events_fts MATCH ?")
            args.append(" ".join('"' + word.replace('"', '""') + '"' for word in text.split()))
        if start is not None:
            where.append("e.ts >= ?")
            args.append(start)
        if end is not None:
            where.append("e.ts <= ?")
            args.append(end)
        for key, value in (filters or {}).items():
            if key not in _COLUMNS:
                raise ValueError(f"cannot filter events on {key!r}; use one of {', '.join(_COLUMNS)}")
            where.append(f"e.{key} = ?")
            args.append(value)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY e.ts DESC, e.id DESC LIMIT ?"
        args.append(limit)
        return [Event(ts, kind, msg, host, service, program, sev, rid, iid, json.loads(fields), raw, id=eid)
                for eid, ts, kind, host, service, program, sev, rid, iid, msg, fields, raw
                in self.db.read().execute(sql, args)]
