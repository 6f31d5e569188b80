"""Migrations 7 and 9 on a database that already holds events: the ids move from B-tree indexes into the
full-text index, rebuilt from the rows, and search, trace and retention answer as before."""

from __future__ import annotations

from stackwatch.store.interfaces import Event
from stackwatch.store.sqlite.database import Database
from stackwatch.store.sqlite.events import SqliteEventStore
from stackwatch.store.sqlite.migrations import MIGRATIONS

UUID = "9f1e7a4c-3d2b-4c5e-8f6a-1b2c3d4e5f60"
REQ = "req-5c2d8f4e-1a3b-4c6d-8e9f-0a1b2c3d4e5f"


def events() -> list[Event]:
    return [Event(100.0, "log", "Instance failed to spawn", "cmp-1", "nova", "nova-compute", "ERROR", REQ, UUID,
                  None, {"traceback": "Traceback (most recent call last):\nValueError: boom"}, "raw 1"),
            Event(101.0, "log", f"port bound for {UUID}", "net-1", "neutron", "neutron-server", "INFO", None,
                  None, None, {}, "raw 2"),
            Event(50.0, "log", "old and unrelated", "cmp-2", "nova", "nova-compute", "INFO", "req-old", None,
                  None, {}, "raw 3")]


def test_migration_7_keeps_search_and_trace_of_existing_events(tmp_path):
    path = tmp_path / "events.db"
    before = Database(path, [m for m in MIGRATIONS if m[0] < 7])
    with before.write() as conn:                             # rows and index as the version-6 code wrote them
        for e in events():
            rowid = conn.execute(
                "INSERT INTO events (ts, kind, host, service, program, severity, request_id, global_request_id, "
                "instance_uuid, message, traceback, fields, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (e.ts, e.kind, e.host, e.service, e.program, e.severity, e.request_id, e.global_request_id,
                 e.instance_uuid, e.message, e.fields.get("traceback"), "{}", e.raw)).lastrowid
            conn.execute("INSERT INTO events_fts (rowid, message) SELECT id, message FROM events_text WHERE id = ?",
                         (rowid,))
    assert before.read().execute("SELECT count(*) FROM events_fts WHERE events_fts MATCH ?",
                                 (f'"{UUID}"',)).fetchone() == (1,)          # version 6: the message only
    before.close()

    db = Database(path)
    assert db.schema_version >= 7
    store = SqliteEventStore(db)
    assert [e.raw for e in store.trace(UUID)] == ["raw 1", "raw 2"]          # the column and the message
    assert [e.raw for e in store.trace(REQ)] == ["raw 1"]
    assert [e.raw for e in store.search("ValueError")] == ["raw 1"]          # the traceback, indexed
    assert [e.raw for e in store.search(filters={"request_id": "req-old"})] == ["raw 3"]
    assert store.search(REQ) == []                                           # ids are not message text
    store.add([Event(102.0, "log", "after the upgrade", "cmp-1", "nova", "nova-compute", "INFO", REQ, None,
                     None, {}, "raw 4")])
    assert [e.raw for e in store.trace(REQ)] == ["raw 1", "raw 4"]
    assert store.enforce_retention(200.0, 100.0) == 1                        # ts 50 goes, its index too
    assert store.trace("req-old") == [] and store.count() == 3
    db.read().execute("INSERT INTO events_fts (events_fts) VALUES ('integrity-check')")   # raises if out of step
    db.close()


def test_migration_9_indexes_each_id_as_one_token(tmp_path):
    """Version 8 indexed a UUID as five tokens; version 9 rebuilds the index with each id as one, and
    search, trace and deletes answer as before."""
    path = tmp_path / "events.db"
    before = Database(path, [m for m in MIGRATIONS if m[0] < 9])
    SqliteEventStore(before).add(events())
    assert before.read().execute("SELECT count(*) FROM events_fts WHERE events_fts MATCH ?",
                                 ('{ids} : "5c2d8f4e"',)).fetchone() == (1,)   # version 8: a piece of REQ
    before.close()

    db = Database(path)
    assert db.schema_version >= 9
    store = SqliteEventStore(db)
    assert db.read().execute("SELECT count(*) FROM events_fts WHERE events_fts MATCH ?",
                             ('{ids} : "5c2d8f4e"',)).fetchone() == (0,)       # one token now
    assert [e.raw for e in store.trace(UUID)] == ["raw 1", "raw 2"]
    assert [e.raw for e in store.trace(REQ)] == ["raw 1"]
    assert [e.raw for e in store.search(filters={"instance_uuid": UUID})] == ["raw 1"]
    assert store.enforce_retention(200.0, 100.0) == 1
    assert store.trace("req-old") == [] and store.count() == 2
    db.read().execute("INSERT INTO events_fts (events_fts) VALUES ('integrity-check')")
    db.close()
