"""The SQLite log writer process (store.sqlite.log_writer): a batch of syslog messages in, parsed and stored with
its token in one transaction, the answer once committed; old tokens pruned; a failed write stores nothing; its
rows (fields' JSON kept per key) the same as the generic path's for every corpus record."""

from __future__ import annotations

import sqlite3

import pytest

from stackwatch.config import MetricsConfig
from stackwatch.rsyslog.parse import parse_syslog_message
from stackwatch.store.sqlite import open_store
from stackwatch.rsyslog.logevent import event_values
from stackwatch.store.sqlite.events import row_values
from stackwatch.store.sqlite.log_writer import _TOKEN_KEEP, connect, lock_path, row_maker, store_batch
from tests.rsyslog.conftest import corpus, parse_file  # noqa: F401  (the shared corpus fixture)

HEADER = "<134>1 2025-11-25T10:00:01+00:00 compute-1 nova-compute 4242 - -  "
T0 = 1764064801.0


def message(i: int) -> bytes:
    return (HEADER + f"2025-11-25 10:00:01.{i:03d} 4242 INFO nova.compute.manager [req-{i:08d}-aaaa-4bbb-8ccc-"
            f"000000000000 u p - - -] [instance: 9f1e7a4c-3d2b-4c5e-8f6a-1b2c3d4e5f60] spawned #{i}").encode()


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "stackwatch.db", MetricsConfig())
    yield s
    s.close()


def test_a_batch_is_parsed_stored_and_answered_with_its_token(store):
    writer = store.events.writer("UTC", {16: "nova"})
    try:
        batch = [(message(i), T0 + 5, "10.0.0.5", "tcp") for i in range(50)]
        writer.send((batch, True, 12345))
        rows, delta, records = writer.receive()
    finally:
        writer.close()
    assert rows == 50 and store.events.count() == 50
    assert store.events.has_batch(12345) and not store.events.has_batch(54321)
    totals = dict(delta[0])
    assert sum(v for (name, _), v in totals.items() if name == "stackwatch_log_records_total") == 50
    expected = parse_syslog_message(message(7), T0 + 5, "10.0.0.5")
    assert tuple(records[7]) == tuple(getattr(expected, f) for f in expected.__slots__)
    (e,) = store.events.trace("req-00000007-aaaa-4bbb-8ccc-000000000000")
    assert e.raw == message(7).decode() and e.instance_uuid == "9f1e7a4c-3d2b-4c5e-8f6a-1b2c3d4e5f60"
    assert e.fields["transport"] == "tcp" and e.host == "compute-1"


def test_old_tokens_are_pruned_when_asked(store):

    conn = connect(str(store.db.path))
    with open(lock_path(store.db.path), "a") as lock:
        row = list(row_values(T0, "log", "m", "h", "nova", "nova-compute", "INFO", None, None, None, {}, "raw"))
        store_batch(conn, lock, row, 1, T0)
        store_batch(conn, lock, row, 2, T0 + _TOKEN_KEEP - 1)
        assert store.events.has_batch(1)
        store_batch(conn, lock, row, 3, T0 + _TOKEN_KEEP + 1, prune=True)
    conn.close()
    assert [store.events.has_batch(t) for t in (1, 2, 3)] == [False, True, True]
    assert store.events.count() == 3


def test_a_failed_write_stores_nothing_and_releases_the_lock(store):

    conn = connect(str(store.db.path))
    row = list(row_values(T0, "log", "m", "h", "nova", "nova-compute", "INFO", None, None, None, {}, "raw"))
    with open(lock_path(store.db.path), "a") as lock:
        store_batch(conn, lock, row, 1, T0)
        with pytest.raises(sqlite3.IntegrityError):
            store_batch(conn, lock, row + row, 1, T0)       # the same token again: the transaction fails whole
        store_batch(conn, lock, row, 2, T0)                  # the lock was given back
    conn.close()
    assert store.events.count() == 2


def test_rows_are_those_of_the_generic_path_for_every_corpus_record(corpus):  # noqa: F811
    make = row_maker(cache_size=64)                          # small: the cache fills and starts over too
    files = sorted(p for p in (corpus / "logs").rglob("*") if p.is_file())
    syslog_files = sorted(p for p in (corpus / "syslog").rglob("*") if p.is_file())
    records = [r for p in files for r in parse_file(p)] + [r for p in syslog_files for r in parse_file(p, True)]
    assert len(records) > 10000, len(records)
    for transport in ("tcp", "file", ""):
        for r in records:
            expected = row_values(*event_values(r, T0, transport))
            assert make(r, T0, transport) == expected
            assert make(r, T0, transport) == expected          # the second time from the cache
