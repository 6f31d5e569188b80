"""Events (log records, notifications) in SQLite with an FTS5 index on the message and on the ids.

The text is in the FTS5 index (unicode61 tokens, as Elasticsearch's standard analyzer splits them; every
searched word is a quoted phrase, so a UUID, a req-... id or an address matches as written). Ids that are
looked up exactly (request_id, global_request_id, instance_uuid) are columns, found through the index's
`ids` column and then compared exactly: FTS5 adds rows to its index in sorted segments, where a B-tree on
random keys (a UUID per request) dirties a page per row once it outgrows the cache, which made most of the
write volume (schema version 7); an id goes in without its hyphens, one token instead of five or six random
ones (version 9). Everything parsed is kept as JSON in `fields` (but a traceback has its own
column, searchable with the message) and the input as received in `raw`.

Writers: this process's single writer connection (`add`, `add_rows`), and the log writer processes
(`writer`, `store.sqlite.log_writer`), which store big syslog batches on their own connections through
`write_rows`; SQLite serializes them.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import threading
import time
from itertools import chain, islice
from json.encoder import c_make_encoder, encode_basestring_ascii
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from stackwatch.store.interfaces import EVENT_FILTERS, Event
from stackwatch.store.sqlite.database import Database

log = logging.getLogger(__name__)

_SELECT = ("SELECT e.id, e.ts, e.kind, e.host, e.service, e.program, e.severity, e.request_id, "
           "e.global_request_id, e.instance_uuid, e.message, e.traceback, e.fields, e.raw FROM events e")
_COLUMNS = ("ts", "kind", "host", "service", "program", "severity", "request_id", "global_request_id",
            "instance_uuid", "message", "traceback", "fields", "raw")
_WIDTH = len(_COLUMNS)
_CHUNK_ROWS = 256            # events read from the caller, then inserted, at a time
# Rows go in as multi-row INSERTs: one statement step per chunk instead of one per row. Chunk sizes are
# powers of two, so the few statements stay prepared in the connection's cache (preparing one costs more
# than running it), and stay within SQLite's smallest default bound-parameter limit (32766).
_MAX_ROWS_PER_INSERT = 512

if c_make_encoder is not None:
    # json.dumps(default=str, compact) without JSONEncoder.encode's per-call set-up (a third of its cost
    # for a small dict).
    _c_encode = c_make_encoder(None, str, encode_basestring_ascii, None, ":", ",", False, False, True)

    def _dumps(obj, _encode=_c_encode, _join="".join) -> str:
        return _join(_encode(obj, 0))
else:
    _dumps = json.JSONEncoder(default=str, separators=(",", ":")).encode


def row_values(ts, kind, message, host, service, program, severity, request_id, instance_uuid,
               global_request_id, fields, raw, _dumps=_dumps) -> tuple:
    """An event's fields (in `Event`'s order) as a row of the events table (in `_COLUMNS`' order), for
    `add_rows`; the log writers make the same rows (`log_writer.row_maker`)."""
    if fields.__class__ is not dict or "traceback" in fields:
        fields = dict(fields)
        traceback = fields.pop("traceback", None)
    else:
        traceback = None                         # the common case: no copy
    return encoded_row(ts, kind, message, host, service, program, severity, request_id, instance_uuid,
                       global_request_id, _dumps(fields), traceback, raw)


def encoded_row(ts, kind, message, host, service, program, severity, request_id, instance_uuid,
                global_request_id, fields_json: str, traceback: str | None, raw) -> tuple:
    """`row_values` for fields already encoded (`encode_fields`) and the traceback apart."""
    return (ts, kind, host, service, program, severity, request_id, global_request_id, instance_uuid,
            message, traceback, fields_json, raw)


def encode_fields(fields: dict) -> str:
    """`fields` as the `fields` column holds them (compact JSON, str() for what JSON has no type for)."""
    return _dumps(fields)


def _values(events: Iterator[Event], limit: int = _CHUNK_ROWS) -> list:
    """The column values of the next `limit` events (fewer at the end), one row after the other."""
    values: list = []
    extend = values.extend
    for e in islice(events, limit):
        extend(row_values(e.ts, e.kind, e.message, e.host, e.service, e.program, e.severity, e.request_id,
                          e.instance_uuid, e.global_request_id, e.fields, e.raw))
    return values


def _insert(conn: sqlite3.Connection, values: list) -> None:
    """Insert the rows as a few multi-row INSERTs."""
    start, left = 0, len(values) // _WIDTH
    while left:                                  # 232 rows: 128 + 64 + 32 + 8
        n = min(_MAX_ROWS_PER_INSERT, 1 << (left.bit_length() - 1))
        conn.execute(_insert_sql(n), values[start * _WIDTH:(start + n) * _WIDTH])
        start += n
        left -= n


def _index(conn: sqlite3.Connection, last: int) -> None:
    """Index the text of the rows after id `last`. Once per transaction: FTS5 writes what one statement
    indexed as a new segment of its index, to be merged with the others later, so fewer statements
    mean fewer, bigger segments and less merging."""
    conn.execute("INSERT INTO events_fts (rowid, message, ids) SELECT id, message, ids FROM events_text "
                 "WHERE id > ?", (last,))


def write_rows(conn: sqlite3.Connection, chunks: Iterable[list]) -> int:
    """Insert the rows (each chunk a flat list of `row_values`, one row after the other) and index their
    text, in the caller's transaction; how many rows."""
    rows = 0
    last = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
    for values in chunks:
        if values:
            rows += len(values) // _WIDTH
            _insert(conn, values)
    _index(conn, last)
    return rows


def tune_writer(conn: sqlite3.Connection) -> None:
    """`_WRITER_PRAGMAS` on a connection that writes events."""
    for pragma in _WRITER_PRAGMAS:
        conn.execute(pragma)


@functools.lru_cache(maxsize=None)
def _insert_sql(rows: int) -> str:
    one = "(" + ", ".join("?" * _WIDTH) + ")"
    return f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES " + ", ".join([one] * rows)


# For the connection that writes events (durability unchanged: WAL, synchronous=NORMAL): a page cache
# (128 MiB at most) for the id indexes, whose random keys (request ids, UUIDs) otherwise make every batch
# read pages back; and WAL checkpoints left to `_Checkpointer`, the writer's own (every 128 MiB of WAL)
# only a backstop.
_WRITER_PRAGMAS = ("PRAGMA cache_size=-131072", "PRAGMA wal_autocheckpoint=32768")


class _Checkpointer:
    """Copies committed pages from the WAL into the database file (and syncs it) from its own thread and
    connection, so that a commit, and the acknowledgement of the logs waiting on it, does not wait for
    that. Under a steady stream of commits this does most of the copying; the writer's own (backstop)
    checkpoint then has little left to copy before the WAL starts over. The thread ends after a while
    without commits and starts again with the next."""

    def __init__(self, path: Path):
        self.path = path
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._running = False

    def poke(self) -> None:
        with self._lock:
            self._wake.set()
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="stackwatch-checkpoint", daemon=True).start()

    def _run(self) -> None:
        conn = None
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            while True:
                if not self._wake.wait(_CHECKPOINT_IDLE):
                    with self._lock:
                        if not self._wake.is_set():
                            self._running = False
                            return
                self._wake.clear()
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                time.sleep(_CHECKPOINT_EVERY)      # the commits meanwhile: one checkpoint for all of them
        except sqlite3.Error as exc:               # the writer's own checkpoints go on meanwhile
            log.warning("background checkpoint of %s stopped: %s", self.path, exc)
            with self._lock:
                self._running = False
        finally:
            if conn is not None:
                conn.close()


_CHECKPOINT_EVERY = 1.0         # seconds between checkpoints: pages several commits rewrote (the FTS5 segments'
                               # last pages, B-tree inner pages) are copied once (~0.5-1 us less CPU per event)
_CHECKPOINT_IDLE = 10.0


class SqliteEventStore:
    row_values = staticmethod(row_values)         # for those who make rows for `add_rows`

    def __init__(self, db: Database):
        self.db = db
        self._tuned = None                       # the writer connection _WRITER_PRAGMAS were set on
        self._adding = threading.Lock()          # held by the add_rows call writing; others read ahead
        self._checkpointer = _Checkpointer(db.path)

    def add(self, events: Iterable[Event]) -> int:
        """One transaction, committed before returning. `events` is read and inserted a chunk at a time:
        a generator that has others parse as it goes keeps them busy while SQLite works."""
        it = iter(events)
        return self.add_rows(iter(lambda: _values(it), []))

    def add_rows(self, chunks: Iterable[list]) -> int:
        """`add` for rows already made by `row_values`: each chunk a flat list of rows' values, one row
        after the other. One transaction, committed before returning; chunks are inserted as they come."""
        it = iter(chunks)
        first = next((values for values in it if values), None)
        if first is None:
            return 0
        # While another call writes, read chunks ahead (a producer that parses as it goes, such as the log
        # ingest, works meanwhile); then insert them and the rest as they come.
        ahead = [first]
        while not self._adding.acquire(timeout=0.002):
            values = next(it, None)
            if values is None:
                self._adding.acquire()
                break
            ahead.append(values)
        try:
            return self._add_rows(chain(ahead, it))
        finally:
            self._adding.release()

    def _add_rows(self, chunks: Iterator[list]) -> int:
        with self.db.write() as conn:
            if conn is not self._tuned:
                tune_writer(conn)
                self._tuned = conn
            rows = write_rows(conn, chunks)
        self._checkpointer.poke()
        return rows

    def writer(self, timezone: str, facility_services: dict[int, str]):
        """A helper process that parses syslog messages and stores them here itself (`log_writer`)."""
        from stackwatch.store.sqlite.log_writer import LogWriter
        return LogWriter(self.db.path, timezone, facility_services)

    def written(self) -> None:
        """Another process (a `writer`) committed events: copy them from the WAL in the background."""
        self._checkpointer.poke()

    def has_batch(self, token: int) -> bool:
        """Whether a `writer` committed the batch `token` (its answer may have been lost)."""
        return self.db.read().execute("SELECT 1 FROM log_batches WHERE token = ?", (token,)).fetchone() is not None

    def search(self, text: str | None = None, start: float | None = None, end: float | None = None,
               filters: Mapping[str, str] | None = None, limit: int = 100) -> list[Event]:
        where, args, match = [], [], []
        sql = _SELECT
        if text and text.strip():
            match.append(f"{{message}} : ({_fts_query(text)})")
        _time_filters(where, args, start, end)
        for key, value in (filters or {}).items():
            if key not in EVENT_FILTERS:
                raise ValueError(f"cannot filter events on {key!r}; use one of {', '.join(EVENT_FILTERS)}")
            where.append(f"e.{key} = ?")
            args.append(value)
            if key in _ID_COLUMNS and isinstance(value, str) and _has_token(_id_terms(value)):
                match.append(f"{{ids}} : {_fts_query(_id_terms(value))}")   # the index narrows, `=` decides
        if match:
            sql += " JOIN events_fts f ON f.rowid = e.id"
            where.insert(0, "events_fts MATCH ?")
            args.insert(0, " AND ".join(f"({m})" for m in match))
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
        # Every record whose id columns hold `ident` exactly, or whose text names it (a phrase of its tokens).
        fts = _fts_query(ident)
        names_it = "? IN (e.instance_uuid, e.request_id, e.global_request_id)"
        if _has_token(_id_terms(ident)):
            branches = [f"SELECT e.id FROM events_fts f JOIN events e ON e.id = f.rowid "
                        f"WHERE events_fts MATCH ? AND {names_it}{extra}",
                        f"SELECT e.id FROM events_fts f JOIN events e ON e.id = f.rowid "
                        f"WHERE events_fts MATCH ?{extra}"]
            args = [f"{{ids}} : {_fts_query(_id_terms(ident))}", ident, *time_args, f"{{message}} : {fts}", *time_args]
        else:                                    # no word to look up: the id columns, row by row
            branches = [f"SELECT e.id FROM events e WHERE {names_it}{extra}"]
            args = [ident, *time_args]
        sql = (f"{_SELECT} WHERE e.id IN ({' UNION '.join(branches)}) ORDER BY e.ts, e.id LIMIT ?")
        return [_event(row) for row in self.db.read().execute(sql, [*args, limit])]

    def count(self) -> int:
        return self.db.read().execute("SELECT count(*) FROM events").fetchone()[0]

    def enforce_retention(self, now: float, retention: float) -> int:
        with self.db.write() as conn:
            return conn.execute("DELETE FROM events WHERE ts < ?", (now - retention,)).rowcount


_ID_COLUMNS = frozenset(("request_id", "global_request_id", "instance_uuid"))


def _has_token(text: str) -> bool:
    """Whether unicode61 finds a word in `text` (else an FTS5 phrase of it matches nothing)."""
    return any(c.isalnum() for c in text)


def _id_terms(value: str) -> str:
    """An id as the index's `ids` column has it: without hyphens, so a UUID or req-... is one token."""
    return value.replace("-", "")


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
