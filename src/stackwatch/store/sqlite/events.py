"""Events (log records, notifications) in SQLite with an FTS5 index on the message.

Ids that are searched exactly (request_id, global_request_id, instance_uuid) are indexed columns; the text
is in the FTS5 index (unicode61 tokens, as Elasticsearch's standard analyzer splits them; every searched
word is a quoted phrase, so a UUID, a req-... id or an address matches as written); everything parsed is
kept as JSON in `fields` (but a traceback has its own column, searchable with the message) and the input
as received in `raw`.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from itertools import islice
from json.encoder import c_make_encoder, encode_basestring_ascii
from typing import Iterable, Iterator, Mapping

from stackwatch.store.interfaces import EVENT_FILTERS, Event
from stackwatch.store.sqlite.database import Database

_SELECT = ("SELECT e.id, e.ts, e.kind, e.host, e.service, e.program, e.severity, e.request_id, "
           "e.global_request_id, e.instance_uuid, e.message, e.traceback, e.fields, e.raw FROM events e")
_dumps = json.JSONEncoder(default=str, separators=(",", ":")).encode
if c_make_encoder is not None:
    # The same encoding without JSONEncoder.encode's per-call set-up (a third of its cost for small dicts).
    _c_encode = c_make_encoder(None, str, encode_basestring_ascii, None, ":", ",", False, False, True)

    def _dumps(obj, _encode=_c_encode, _join="".join) -> str:
        return _join(_encode(obj, 0))
_COLUMNS = ("ts", "kind", "host", "service", "program", "severity", "request_id", "global_request_id",
            "instance_uuid", "message", "traceback", "fields", "raw")
# Rows go in as multi-row INSERTs: one statement step per chunk instead of one per row. Chunk sizes are
# powers of two, so the few statements stay prepared in the connection's cache (preparing one costs more
# than running it), and stay within SQLite's smallest default bound-parameter limit (32766).
_MAX_ROWS_PER_INSERT = 512


_WIDTH = len(_COLUMNS)
_CHUNK_ROWS = 256


def _values(events: Iterator[Event], limit: int = _CHUNK_ROWS) -> list:
    """The column values of the next `limit` events (fewer at the end), one row after the other."""
    dumps = _dumps
    values: list = []
    extend = values.extend
    for e in islice(events, limit):
        fields = e.fields
        if fields.__class__ is not dict or "traceback" in fields:
            fields = dict(fields)
            traceback = fields.pop("traceback", None)
        else:
            traceback = None                     # the common case: no copy
        extend((e.ts, e.kind, e.host, e.service, e.program, e.severity, e.request_id, e.global_request_id,
                e.instance_uuid, e.message, traceback, dumps(fields), e.raw))
    return values


def _insert(conn: sqlite3.Connection, values: list) -> None:
    start, left = 0, len(values) // _WIDTH
    while left:                                  # 232 rows: 128 + 64 + 32 + 8
        n = min(_MAX_ROWS_PER_INSERT, 1 << (left.bit_length() - 1))
        conn.execute(_insert_sql(n), values[start * _WIDTH:(start + n) * _WIDTH])
        start += n
        left -= n


@functools.lru_cache(maxsize=None)
def _insert_sql(rows: int) -> str:
    one = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    return f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES " + ", ".join([one] * rows)


# For the connection that writes events (durability unchanged: WAL, synchronous=NORMAL). A page cache big
# enough for the id indexes, whose random keys (request ids, UUIDs) otherwise make every batch read pages
# back; and WAL checkpoints every 32 MiB instead of 4 MiB, so a page rewritten by many batches is copied
# into the database (and synced) once per checkpoint rather than once per few batches.
_WRITER_PRAGMAS = ("PRAGMA cache_size=-65536", "PRAGMA wal_autocheckpoint=8192")


class SqliteEventStore:
    def __init__(self, db: Database):
        self.db = db
        self._tuned = None                       # the writer connection _WRITER_PRAGMAS were set on

    def add(self, events: Iterable[Event]) -> int:
        """One transaction, committed before returning. `events` is read and inserted a chunk at a time,
        so a generator that parses as it goes (the log ingest's) overlaps its work with SQLite's."""
        it = iter(events)
        values = _values(it)
        if not values:
            return 0
        rows = 0
        with self.db.write() as conn:
            if conn is not self._tuned:
                for pragma in _WRITER_PRAGMAS:
                    conn.execute(pragma)
                self._tuned = conn
            last = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
            while values:
                rows += len(values) // _WIDTH
                _insert(conn, values)
                values = _values(it)
            conn.execute("INSERT INTO events_fts (rowid, message) SELECT id, message FROM events_text "
                         "WHERE id > ?", (last,))
        return rows

    def search(self, text: str | None = None, start: float | None = None, end: float | None = None,
               filters: Mapping[str, str] | None = None, limit: int = 100) -> list[Event]:
        where, args = [], []
        sql = _SELECT
        if text and text.strip():
            sql += " JOIN events_fts f ON f.rowid = e.id"
            where.append("events_fts MATCH ?")
            args.append(_fts_query(text))
        _time_filters(where, args, start, end)
        for key, value in (filters or {}).items():
            if key not in EVENT_FILTERS:
                raise ValueError(f"cannot filter events on {key!r}; use one of {', '.join(EVENT_FILTERS)}")
            where.append(f"e.{key} = ?")
            args.append(value)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY e.ts DESC, e.id DESC LIMIT ?"
        args.append(limit)
        return [_event(row) for row in self.db.read().execute(sql, args)]

    def trace(self, ident: str, start: float | None = None, end: float | None = None,
              limit: int = 10000) -> list[Event]:
        ident = ident.strip()
        if not ident:
            return []
        time_where: list[str] = []
        time_args: list = []
        _time_filters(time_where, time_args, start, end)
        extra = "".join(f" AND {w}" for w in time_where)
        branches = [f"SELECT id FROM events e WHERE e.{col} = ?{extra}"
                    for col in ("instance_uuid", "request_id", "global_request_id")]
        branches.append(f"SELECT e.id FROM events_fts f JOIN events e ON e.id = f.rowid "
                        f"WHERE events_fts MATCH ?{extra}")
        args: list = []
        for value in (ident, ident, ident, _fts_query(ident)):
            args.extend([value, *time_args])
        sql = (f"{_SELECT} WHERE e.id IN ({' UNION '.join(branches)}) ORDER BY e.ts, e.id LIMIT ?")
        return [_event(row) for row in self.db.read().execute(sql, [*args, limit])]

    def count(self) -> int:
        return self.db.read().execute("SELECT count(*) FROM events").fetchone()[0]

    def enforce_retention(self, now: float, retention: float) -> int:
        with self.db.write() as conn:
            return conn.execute("DELETE FROM events WHERE ts < ?", (now - retention,)).rowcount


def _fts_query(text: str) -> str:
    """Each whitespace-separated word as a quoted FTS5 phrase: ids and punctuation search literally."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def _time_filters(where: list, args: list, start: float | None, end: float | None) -> None:
    if start is not None:
        where.append("e.ts >= ?")
        args.append(start)
    if end is not None:
        where.append("e.ts <= ?")
        args.append(end)


def _event(row) -> Event:
    eid, ts, kind, host, service, program, sev, rid, grid, iid, msg, traceback, fields, raw = row
    parsed = json.loads(fields)
    if traceback is not None:
        parsed["traceback"] = traceback
    return Event(ts, kind, msg, host, service, program, sev, rid, iid, grid, parsed, raw, id=eid)
