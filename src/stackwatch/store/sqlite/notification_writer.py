"""A helper process that decodes notifications and writes them into the SQLite archive itself (adapter:
helper process + sqlite3), so that the consuming process only reads AMQP.

Capture has three parts per message: pika reading it, decoding it (JSON, the field mapping), and the
SQLite insert. With decoding in a helper and the insert in the consumer's process, every row crossed the
pipe twice (body out, row back) and the consumer's threads (pika's, the sink's) took turns on one GIL.
Here the helper gets a batch of AMQP messages (body, ids, exchange, routing key, deployment, time),
decodes each (`decode_helper.normalize`), and stores rows and dead letters in one transaction on its own
connection to the same database file (WAL: SQLite serializes it with the consumer process's other
writers). It answers once committed: how many rows were new, each row's (service, host, name, is_error)
for the counters, the dead letters' reasons. The consumer acknowledges the batch only after that answer.

Failure: any trouble (the helper died, hung, or the write failed) raises `HelperFailed` in the caller, which
then decodes and stores that batch itself. The transaction either committed or not: if it did and only the
answer was lost, storing again drops every row as a duplicate (message_id is unique); its dead letters
would be stored twice, which only a helper dying between its commit and its answer can cause.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from stackwatch import helperprocess
from stackwatch.helperprocess import HelperProcess
from stackwatch.stacktach.archive import DeadLetter
from stackwatch.stacktach.decode_helper import normalize, sort_answers
from stackwatch.store.sqlite.database import helper_connection, transaction
from stackwatch.store.sqlite.notifications import insert_dead_letters, insert_rows

Item = tuple   # (body: bytes, amqp message_id | None, exchange, routing_key, deployment, received_at)


class NotificationWriter(HelperProcess):
    """`send(items)` then `receive()` -> (inserted, kinds, dead reasons), once the batch is committed."""

    def __init__(self, db_path: Path, max_bytes: int):
        super().__init__("stackwatch.store.sqlite.notification_writer:_serve", [str(db_path), str(max_bytes)])


def store_batch(conn: sqlite3.Connection, items: list[Item], max_bytes: int) -> tuple[int, list, list]:
    """Decode `items` and store them in one transaction on `conn`; what the helper answers."""
    kinds: list[tuple] = []
    dead: list[DeadLetter] = []
    rows = list(sort_answers((((received_at, deployment, exchange, routing_key, body),
                               normalize((body, amqp_id, exchange, deployment, received_at), max_bytes))
                              for body, amqp_id, exchange, routing_key, deployment, received_at in items), dead, kinds))
    with transaction(conn):
        inserted = insert_rows(conn, rows)
        insert_dead_letters(conn, dead)
    return inserted, kinds, [d.reason for d in dead]


def _serve(argv: list[str]) -> None:
    """The helper's entry point: argv = pipe ends, database path, max body bytes."""
    db_path, max_bytes = argv[2], int(argv[3])
    conn = helper_connection(db_path)
    try:
        helperprocess.serve(argv, lambda items: store_batch(conn, items, max_bytes))
    finally:
        conn.close()
