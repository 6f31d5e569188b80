"""The notification sink over a real SQLite store: normalized rows, duplicates dropped, bad bodies and
unknown event types dead-lettered with a reason, raw kept."""

import json

from stackwatch.stacktach.ingest import NotificationIngest
from stackwatch.stacktach.message import AmqpMessage

UUID = "9a1b2c3d-0000-4000-8000-00000000abcd"


def legacy(event_type, message_id, **payload):
    inner = {"message_id": message_id, "event_type": event_type, "publisher_id": "compute.cmp1",
             "priority": "INFO", "timestamp": "2026-11-25 10:00:00.000000", "_context_request_id": "req-1",
             "payload": {"instance_id": UUID, "tenant_id": "t1", "state": "active", **payload}}
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()


def msg(body, mid=None, exchange="nova"):
    return AmqpMessage(body, mid, exchange, "notifications.info", 1000.0, "region-one")


def test_sink_stores_dedupes_and_dead_letters(store):
    ingest = NotificationIngest(store.notifications)
    ingest.sink([msg(legacy("compute.instance.create.end", "m1")), msg(legacy("compute.instance.create.end", "m1")),
                 msg(b"not json at all"), msg(b'{"no": "event_type"}'),
                 msg(json.dumps({"event_type": "thing.happened", "publisher_id": "weird.host",
                                 "payload": {}}).encode(), exchange="weird")])
    ingest.sink([msg(legacy("compute.instance.create.end", "m1"))])  # a redelivery after a crash
    (row,) = store.notifications.query(instance=UUID)
    assert (row.message_id, row.name, row.service, row.host, row.tenant_id, row.request_id, row.deployment) == (
        "m1", "instance.create.end", "nova", "cmp1", "t1", "req-1", "region-one")
    assert json.loads(json.loads(row.raw)["oslo.message"])["event_type"] == "compute.instance.create.end"
    assert ingest.stored == 1 and ingest.duplicates == 2
    assert store.notifications.dead_letter_counts() == {"not JSON": 1, "no event_type": 1, "unknown event type": 1}
    assert {d.raw for d in store.notifications.dead_letters()} >= {b"not json at all"}


def test_trends_job_writes_boot_time_and_inventory(store, make_config):
    from stackwatch.notifications_runtime import NotificationRuntime
    from stackwatch.stacktach.times import parse_time

    config = make_config()
    rt = NotificationRuntime.build(config, store.notifications)
    start = legacy("compute.instance.create.start", "s1")
    end_doc = json.loads(json.loads(legacy("compute.instance.create.end", "e1", launched_at="2026-11-25T10:00:00"))
                         ["oslo.message"])
    end_doc["timestamp"] = "2026-11-25 10:00:42.000000"
    rt.ingest.sink([msg(start), msg(json.dumps(end_doc).encode())])
    now = parse_time("2026-11-25T10:01:00+00:00")
    assert rt.write_trends(now, store) > 0
    (info, ts, boot), = store.metrics.latest("stackwatch_operation_duration_seconds",
                                             {"operation": "create", "by": "flavor", "quantile": "0.95"})
    assert boot == 42.0
    (_, _, alive), = store.metrics.latest("stackwatch_instances", {"host": "cmp1"})
    assert alive == 1.0


def big_batch(n: int, prefix: str) -> list:
    """n notifications of n instances, with a bad body every 50 (dead letters keep their place)."""
    out = []
    for i in range(n):
        if i % 50 == 49:
            out.append(msg(b"<html>not a notification</html>"))
            continue
        inner = {"message_id": f"{prefix}-{i}", "event_type": "compute.instance.update", "publisher_id": "compute.c1",
                 "priority": "INFO", "timestamp": "2026-11-25 10:00:00.000000",
                 "payload": {"instance_id": f"00000000-0000-4000-8000-{i:012d}", "tenant_id": "t1",
                             "state": "active", "instance_type": "m1.small"}}
        out.append(msg(json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()))
    return out


def test_the_helper_process_decodes_big_batches_exactly_as_this_process_does(tmp_path):
    from stackwatch.config import MetricsConfig
    from stackwatch.store.sqlite import open_store

    rows = {}
    for use_helper in (True, False):
        store = open_store(tmp_path / f"{use_helper}.db", MetricsConfig())
        ingest = NotificationIngest(store.notifications, use_helper=use_helper)
        ingest.sink(big_batch(600, "h"))
        assert (ingest._helper is not None) == use_helper        # 600 >= HELPER_MIN_BATCH: the helper ran
        ingest.close()
        assert ingest.stored == 588 and sum(ingest.dead.values()) == 12
        rows[use_helper] = ([(r.message_id, r.name, r.instance_uuid, r.flavor, r.raw)
                             for r in store.notifications.query(limit=10_000)],
                            [(d.exchange, d.routing_key, d.reason, d.raw) for d in store.notifications.dead_letters()])
        store.close()
    assert rows[True] == rows[False] and len(rows[True][0]) == 588 and len(rows[True][1]) == 12


def test_the_sqlite_store_writes_big_batches_in_its_own_process_and_others_get_a_decode_helper(tmp_path):
    from stackwatch.config import MetricsConfig
    from stackwatch.stacktach.decode_helper import DecodeHelper
    from stackwatch.store.sqlite import open_store
    from stackwatch.store.sqlite.notification_writer import NotificationWriter

    store = open_store(tmp_path / "w.db", MetricsConfig())
    ingest = NotificationIngest(store.notifications)
    ingest.sink(big_batch(300, "w"))
    assert isinstance(ingest._helper, NotificationWriter) and store.notifications.count() == 294
    ingest.close()
    store.close()

    class ListStore:                         # a store without a writer of its own (as Elasticsearch's)
        def __init__(self):
            self.rows = []

        def add(self, rows, dead=()):
            before = len(self.rows)
            self.rows += list(rows)
            return len(self.rows) - before

    other = ListStore()
    ingest = NotificationIngest(other)
    ingest.sink(big_batch(300, "d"))
    assert isinstance(ingest._helper, DecodeHelper) and len(other.rows) == 294 == ingest.stored
    ingest.close()


def test_a_helper_that_died_is_replaced_and_nothing_is_lost(store):
    ingest = NotificationIngest(store.notifications)
    ingest.sink(big_batch(400, "first"))
    helper = ingest._helper
    assert helper is not None and helper.alive()
    helper._proc.kill()                      # the helper dies between batches
    helper._proc.wait()
    ingest.sink(big_batch(400, "second"))
    assert ingest.stored == 2 * 392 and store.notifications.count() == 784
    assert sum(ingest.dead.values()) == 16
    ingest.close()
