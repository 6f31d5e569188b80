"""A helper process that parses syslog messages and writes them into the events table itself (adapter:
helper process + sqlite3), so that the receiving process only reads sockets.

The log ingest's big batches (up to 4,000 messages from the syslog receiver) each go to one of these
writers: it parses the batch (`parseworker.chunk_parser`, the store's rows made as it goes), then stores the
rows, their full-text index entries and the batch's token in one transaction on its own connection, and
answers once committed: how many rows, the metric counts, the records when the caller watches them. Two
writers parse two batches at once; their writes take turns on a lock file beside the database (a waiter
wakes as soon as the other commits; SQLite's own busy wait sleeps in steps of up to 100 ms), and the
process that started them acknowledges a batch's messages (RELP) only after that answer.

Failure: any trouble (the writer died, hung, or the write failed) raises `HelperFailed` in the caller,
which stops that writer, asks the store whether the batch's token is there (`has_batch`: committed, only the
answer was lost) and otherwise parses and stores the batch itself. The transaction either committed, token
included, or not: nothing is lost and nothing is stored twice.
"""

from __future__ import annotations

import fcntl
import sqlite3
import time
from pathlib import Path
from typing import Callable

from stackwatch import helperprocess
from stackwatch.helperprocess import HelperProcess
from stackwatch.rsyslog.logevent import fields_key, record_fields, record_level
from stackwatch.rsyslog.parseworker import chunk_parser, facility_arg, facility_map
from stackwatch.rsyslog.record import LogRecord
from stackwatch.store.sqlite.database import helper_connection, transaction
from stackwatch.store.sqlite.events import encode_fields, encoded_row, tune_writer, write_rows

_TOKEN_KEEP = 3600.0          # seconds a batch's token is kept
_PRUNE_EVERY = 500            # batches between prunings of old tokens


class LogWriter(HelperProcess):
    """`send((messages, want_records, token))` then `receive()` -> (rows, metric counts, records or None),
    once the batch is committed. messages: (data, received_at, peer host, transport) each."""

    def __init__(self, db_path: Path, timezone: str, facility_services: dict[int, str]):
        super().__init__("stackwatch.store.sqlite.log_writer:_serve",
                         [str(db_path), timezone, facility_arg(facility_services)])


def lock_path(db_path: str | Path) -> str:
    return f"{db_path}-logwriter.lock"


def connect(db_path: str | Path) -> sqlite3.Connection:
    conn = helper_connection(db_path)
    tune_writer(conn)
    return conn


def row_maker(cache_size: int = 16384) -> Callable[[LogRecord, float, str], tuple]:
    """`row_values(*event_values(record, received_at, transport))`, with the fields' JSON kept per
    `fields_key`: the records of one process and request context share it (saves ~2 us of ~20 per line)."""
    cache: dict[tuple, str] = {}

    def make(r: LogRecord, received_at: float, transport: str) -> tuple:
        key = fields_key(r, transport)
        text = cache.get(key)
        if text is None:
            if len(cache) >= cache_size:
                cache.clear()
            text = cache[key] = encode_fields(record_fields(r, transport, r.timestamp is None))
        ts = r.timestamp
        return encoded_row(received_at if ts is None else ts, "log", r.message, r.host or "", r.service or "",
                           r.program or "", record_level(r), r.request_id, r.instance_uuid, r.global_request_id,
                           text, r.traceback or None, r.raw)

    return make


def store_batch(conn: sqlite3.Connection, lock, values: list, token: int, now: float, prune: bool = False) -> int:
    """Store the rows (`row_values`, one after the other) and the batch's token in one transaction on `conn`,
    taking turns with the other writers on `lock` (an open lock file); with `prune`, tokens older than
    `_TOKEN_KEEP` go. How many rows."""
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        with transaction(conn):
            rows = write_rows(conn, [values])
            conn.execute("INSERT INTO log_batches (token, ts) VALUES (?, ?)", (token, now))
            if prune:
                conn.execute("DELETE FROM log_batches WHERE ts < ?", (now - _TOKEN_KEEP,))
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
    return rows


def _serve(argv: list[str]) -> None:
    """The writer's entry point: argv = pipe ends, database path, time zone, facility map."""
    db_path = argv[2]
    parse = chunk_parser(argv[3], facility_map(argv[4]), row_maker(), flat=True)
    conn = connect(db_path)
    lock = open(lock_path(db_path), "a")
    batches = 0

    def store(request):
        nonlocal batches
        values, delta, records = parse(request)
        batches += 1
        rows = store_batch(conn, lock, values, request[2], time.time(), prune=batches % _PRUNE_EVERY == 0)
        return rows, delta, records

    try:
        helperprocess.serve(argv, store)
    finally:
        conn.close()
        lock.close()
