"""NotificationConsumer against a real RabbitMQ node (tests/stacktach/rabbitmq_server.py): batches and acks,
refusals and redelivery, competing consumers, cluster URLs, access refused, queue arguments, exchanges
declared as oslo.messaging declares them, reconnects, a clean stop, and kill -9 of a consumer process
while 100,000 notifications flow (every message stored exactly once)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pika
import pytest

from stackwatch.stacktach.amqp import AccessRefused, NotificationConsumer, TopologyError, redact
from stackwatch.stacktach.message import AmqpMessage

from .rabbitmq_server import RabbitBroker, free_port, rabbitmq  # noqa: F401 (fixture)

NOVA = [("nova", "notifications.info"), ("nova", "notifications.error")]


# -- helpers -------------------------------------------------------------------------------------------

def oslo_body(message_id: str, event_type: str = "compute.instance.update", priority: str = "INFO") -> bytes:
    """An oslo.messaging v2 envelope, as nova's messagingv2 driver publishes it."""
    inner = {"message_id": message_id, "publisher_id": "compute.host-1", "event_type": event_type,
             "priority": priority, "timestamp": "2024-05-01 12:00:00.000000",
             "payload": {"instance_id": "4f1b3c9e-0d5a-4a59-9c0c-1f0e6c2b7a11", "tenant_id": "t1",
                         "state": "active"},
             "_context_request_id": "req-" + message_id}
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()


def message_id_of(body: bytes) -> str:
    doc = json.loads(body)
    if "oslo.message" in doc:
        doc = json.loads(doc["oslo.message"])
    return doc["message_id"]


def declare_exchange_like_oslo(broker: RabbitBroker, name: str, durable: bool = False) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(broker.url()))
    try:
        conn.channel().exchange_declare(name, exchange_type="topic", durable=durable, auto_delete=False)
    finally:
        conn.close()


def publish(broker: RabbitBroker, messages: list[tuple[str, str, bytes]]) -> None:
    """(exchange, routing key, body) triples, persistent, as oslo.messaging sends notifications."""
    conn = pika.BlockingConnection(pika.URLParameters(broker.url()))
    try:
        ch = conn.channel()
        props = pika.BasicProperties(delivery_mode=2, content_type="application/json")
        for exchange, key, body in messages:
            ch.basic_publish(exchange, key, body, props)
    finally:
        conn.close()


def nova_notifications(n: int, prefix: str) -> list[tuple[str, str, bytes]]:
    out = []
    for i in range(n):
        key, prio = ("notifications.error", "ERROR") if i % 5 == 0 else ("notifications.info", "INFO")
        out.append(("nova", key, oslo_body(f"{prefix}-{i:06d}", priority=prio)))
    return out


def queue_depth(broker: RabbitBroker, queue: str) -> int:
    """Ready messages, from a passive declare (immediate, unlike the management API's sampled stats)."""
    conn = pika.BlockingConnection(pika.URLParameters(broker.url()))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


def wait_until(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class SqliteSink:
    """A test-local sink storing into a real SQLite table: message_id PRIMARY KEY, INSERT OR IGNORE."""

    def __init__(self, path: Path, fail: int = 0, store_then_fail: int = 0, delay: float = 0.0):
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("CREATE TABLE IF NOT EXISTS notes (message_id TEXT PRIMARY KEY, exchange TEXT,"
                        " routing_key TEXT, deployment TEXT, body BLOB NOT NULL)")
        self.lock = threading.Lock()
        self.fail, self.store_then_fail, self.delay = fail, store_then_fail, delay
        self.batches: list[list[AmqpMessage]] = []
        self.refused = 0
        self.redelivered = self.duplicates = 0

    def __call__(self, batch: list[AmqpMessage]) -> None:
        with self.lock:
            if self.delay:
                time.sleep(self.delay)
            if self.fail > 0:
                self.fail -= 1
                self.refused += 1
                raise RuntimeError("store unavailable (test)")
            rows = [(message_id_of(m.body), m.exchange, m.routing_key, m.deployment, m.body) for m in batch]
            with self.db:
                cur = self.db.executemany("INSERT OR IGNORE INTO notes VALUES (?, ?, ?, ?, ?)", rows)
            self.duplicates += len(rows) - cur.rowcount
            self.redelivered += sum(m.redelivered for m in batch)
            if self.store_then_fail > 0:      # stored, but the ack is lost: like a crash before the ack
                self.store_then_fail -= 1
                self.refused += 1
                raise RuntimeError("crashed after commit (test)")
            self.batches.append(batch)

    def count(self) -> int:
        with self.lock:
            return self.db.execute("SELECT count(*) FROM notes").fetchone()[0]

    def ids(self) -> set[str]:
        with self.lock:
            return {r[0] for r in self.db.execute("SELECT message_id FROM notes")}


@pytest.fixture
def queue_name(rabbitmq, request):
    name = f"stackwatch.notifications.{request.node.name[:40]}.{uuid.uuid4().hex[:6]}"
    yield name
    rabbitmq.delete_queue(name)


def make_consumer(broker: RabbitBroker, queue: str, sink, urls=None, bindings=NOVA, **kw) -> NotificationConsumer:
    kw.setdefault("backoff_base", 0.1)
    kw.setdefault("backoff_max", 1.0)
    return NotificationConsumer("region-one", urls or [broker.url()], bindings, queue, sink, **kw)


def running(consumer: NotificationConsumer, broker: RabbitBroker, queue: str, consumers: int = 1) -> None:
    """Start and wait until the broker shows the queue consumed (bindings exist before we publish)."""
    consumer.start()

    def ready() -> bool:
        assert consumer.error is None, consumer.error
        conn = pika.BlockingConnection(pika.URLParameters(broker.url()))
        try:
            return conn.channel().queue_declare(queue, passive=True).method.consumer_count >= consumers
        except pika.exceptions.ChannelClosedByBroker:
            return False
        finally:
            if conn.is_open:
                conn.close()
    wait_until(ready, 30, "the consumer to be consuming")


# -- tests -----------------------------------------------------------------------------------------------

def test_notifications_arrive_in_batches_and_are_acked(rabbitmq, queue_name, tmp_path):
    declare_exchange_like_oslo(rabbitmq, "nova")               # as nova's first notification leaves it
    sink = SqliteSink(tmp_path / "notes.db")
    consumer = make_consumer(rabbitmq, queue_name, sink, batch_max=100, prefetch=200)
    running(consumer, rabbitmq, queue_name)
    sent = nova_notifications(1000, "batch")
    sent.append(("nova", "notifications.warn", oslo_body("not-bound")))   # not a binding of ours
    publish(rabbitmq, sent)
    wait_until(lambda: sink.count() == 1000, 60, "1000 stored")
    consumer.stop()
    assert not consumer.is_alive() and consumer.error is None
    s = consumer.stats
    assert (s.delivered, s.acked, s.refused) == (1000, 1000, 0)
    assert s.batches == len(sink.batches) and s.batches >= 10
    assert all(1 <= len(b) <= 100 for b in sink.batches)
    routed = {(m.exchange, m.routing_key) for b in sink.batches for m in b}
    assert routed == set(NOVA)
    assert {m.deployment for b in sink.batches for m in b} == {"region-one"}
    assert sink.ids() == {f"batch-{i:06d}" for i in range(1000)}
    assert queue_depth(rabbitmq, queue_name) == 0              # all acked: nothing came back on close


def test_batch_wait_flushes_a_partial_batch(rabbitmq, queue_name, tmp_path):
    sink = SqliteSink(tmp_path / "notes.db")
    consumer = make_consumer(rabbitmq, queue_name, sink, batch_max=500, batch_wait=0.2)
    running(consumer, rabbitmq, queue_name)
    t0 = time.monotonic()
    publish(rabbitmq, nova_notifications(7, "partial"))
    wait_until(lambda: sink.count() == 7, 10, "7 stored")
    assert time.monotonic() - t0 < 5
    consumer.stop()
    assert consumer.stats.acked == 7


def test_exchanges_are_declared_as_oslo_messaging_declares_them(rabbitmq, queue_name, tmp_path):
    declare_exchange_like_oslo(rabbitmq, "glance", durable=True)     # a cloud with amqp_durable_queues=True
    if _exists(rabbitmq, "openstack"):
        rabbitmq.api("DELETE", "/api/exchanges/%2F/openstack")
    bindings = [("glance", "notifications.info"), ("openstack", "notifications.*"), ("nova", "monitor.*")]
    sink = SqliteSink(tmp_path / "notes.db")
    consumer = make_consumer(rabbitmq, queue_name, sink, bindings=bindings)
    running(consumer, rabbitmq, queue_name)
    assert rabbitmq.api("GET", "/api/exchanges/%2F/glance")["durable"] is True        # left as it was
    created = rabbitmq.api("GET", "/api/exchanges/%2F/openstack")
    assert (created["type"], created["durable"], created["auto_delete"]) == ("topic", False, False)
    publish(rabbitmq, [("openstack", "notifications.info", oslo_body("cinder-1")),
                       ("glance", "notifications.info", oslo_body("glance-1")),
                       ("nova", "monitor.info", oslo_body("monitor-1"))])
    wait_until(lambda: sink.count() == 3, 10, "3 stored")
    consumer.stop()
    assert sink.ids() == {"cinder-1", "glance-1", "monitor-1"}


def _exists(broker: RabbitBroker, exchange: str) -> bool:
    try:
        broker.api("GET", f"/api/exchanges/%2F/{exchange}")
        return True
    except OSError:
        return False


def test_refused_batches_are_not_acked_then_redelivered_and_stored_once(rabbitmq, queue_name, tmp_path):
    sink = SqliteSink(tmp_path / "notes.db", fail=10**9)
    consumer = make_consumer(rabbitmq, queue_name, sink, batch_max=100, prefetch=300)
    running(consumer, rabbitmq, queue_name)
    publish(rabbitmq, nova_notifications(300, "refused"))
    wait_until(lambda: consumer.stats.refused >= 3, 30, "three refusals")
    assert consumer.stats.acked == 0 and sink.count() == 0
    wait_until(lambda: rabbitmq.queue(queue_name).get("messages") == 300, 10, "300 in the queue (sampled)")
    assert rabbitmq.queue(queue_name).get("message_stats", {}).get("ack", 0) == 0     # the broker saw no ack
    with sink.lock:
        sink.fail, sink.store_then_fail = 0, 2                  # the store comes back, twice losing the ack
    wait_until(lambda: sink.count() == 300 and consumer.stats.acked >= 300, 60, "300 stored and acked")
    consumer.stop()
    assert sink.ids() == {f"refused-{i:06d}" for i in range(300)}
    assert sink.redelivered > 0 and sink.duplicates > 0         # redelivered, and ignored when already stored
    assert queue_depth(rabbitmq, queue_name) == 0


def test_two_competing_consumers_share_the_load(rabbitmq, queue_name, tmp_path):
    sink = SqliteSink(tmp_path / "notes.db", delay=0.01)
    one = make_consumer(rabbitmq, queue_name, sink, prefetch=50, batch_max=50)
    two = make_consumer(rabbitmq, queue_name, sink, prefetch=50, batch_max=50)
    running(one, rabbitmq, queue_name)
    running(two, rabbitmq, queue_name, consumers=2)
    publish(rabbitmq, nova_notifications(3000, "compete"))
    wait_until(lambda: sink.count() == 3000, 60, "3000 stored")
    one.stop()
    two.stop()
    a, b = one.stats.acked, two.stats.acked
    assert a + b == 3000 and sink.duplicates == 0
    assert min(a, b) >= 500, (a, b)                            # both did real work


def test_next_url_is_tried_when_the_first_node_refuses_connections(rabbitmq, queue_name, tmp_path):
    dead = rabbitmq.url(port=free_port())                      # nothing listens there
    sink = SqliteSink(tmp_path / "notes.db")
    consumer = make_consumer(rabbitmq, queue_name, sink, urls=[dead, rabbitmq.url()])
    running(consumer, rabbitmq, queue_name)
    publish(rabbitmq, nova_notifications(50, "failover"))
    wait_until(lambda: sink.count() == 50, 20, "50 stored")
    consumer.stop()
    assert consumer.stats.reconnects >= 1


def test_access_refused_stops_with_a_clear_error(rabbitmq, queue_name, tmp_path):
    bad = rabbitmq.url(password="not-the-password")
    consumer = make_consumer(rabbitmq, queue_name, SqliteSink(tmp_path / "n.db"), urls=[bad])
    t0 = time.monotonic()
    with pytest.raises(AccessRefused) as info:
        consumer.run()
    assert time.monotonic() - t0 < 10                          # no retry loop
    assert "ACCESS_REFUSED" in str(info.value) and "not-the-password" not in str(info.value)
    assert "***" in redact(bad)
    rabbitmq.add_user("no-vhost", "pw-no-vhost", permissions=False)
    consumer = make_consumer(rabbitmq, queue_name, SqliteSink(tmp_path / "n.db"),
                             urls=[rabbitmq.url("no-vhost", "pw-no-vhost")])
    consumer.start()                                           # in a thread: it ends by itself
    wait_until(lambda: not consumer.is_alive(), 10, "the thread to end")
    assert isinstance(consumer.error, AccessRefused) and "NOT_ALLOWED" in str(consumer.error)


def test_queue_arguments_cap_the_queue(rabbitmq, queue_name, tmp_path):
    sink = SqliteSink(tmp_path / "notes.db")
    consumer = make_consumer(rabbitmq, queue_name, sink, queue_max_length=10000, queue_ttl=3600)
    running(consumer, rabbitmq, queue_name)
    consumer.stop()
    q = rabbitmq.queue(queue_name)
    assert q["durable"] is True
    assert q["arguments"] == {"x-max-length": 10000, "x-message-ttl": 3_600_000}
    other = make_consumer(rabbitmq, queue_name, sink, queue_max_length=20000)
    with pytest.raises(TopologyError, match="PRECONDITION_FAILED"):
        other.run()


def test_reconnects_after_the_broker_closes_the_connection(rabbitmq, queue_name, tmp_path):
    sink = SqliteSink(tmp_path / "notes.db")
    consumer = make_consumer(rabbitmq, queue_name, sink)
    running(consumer, rabbitmq, queue_name)
    publish(rabbitmq, nova_notifications(100, "before"))
    wait_until(lambda: sink.count() == 100, 20, "100 stored")
    name = f"stackwatch region-one {queue_name}"

    def our_connections() -> list[dict]:
        return [c for c in rabbitmq.api("GET", "/api/connections")
                if c.get("client_properties", {}).get("connection_name") == name]
    wait_until(lambda: our_connections(), 20, "the connection in the management API")
    for c in our_connections():                                 # 320 CONNECTION_FORCED, as an operator does
        rabbitmq.api("DELETE", "/api/connections/" + urllib.parse.quote(c["name"], safe=""))
    wait_until(lambda: consumer.stats.reconnects >= 1 and _consumers(rabbitmq, queue_name) == 1, 20,
               "a reconnect")
    publish(rabbitmq, nova_notifications(100, "after"))
    wait_until(lambda: sink.count() == 200, 30, "200 stored")
    rabbitmq.delete_queue(queue_name)                           # the broker cancels our consumer
    wait_until(lambda: consumer.stats.reconnects >= 2, 20, "a second reconnect")
    wait_until(lambda: _consumers(rabbitmq, queue_name) == 1, 20, "the queue declared and consumed again")
    publish(rabbitmq, nova_notifications(10, "redeclared"))
    wait_until(lambda: sink.count() == 210, 30, "210 stored")
    consumer.stop()
    assert consumer.error is None


def test_stop_acks_only_what_was_stored(rabbitmq, queue_name, tmp_path):
    sink = SqliteSink(tmp_path / "notes.db", delay=0.02)
    consumer = make_consumer(rabbitmq, queue_name, sink, prefetch=100, batch_max=50)
    running(consumer, rabbitmq, queue_name)
    publish(rabbitmq, nova_notifications(3000, "stop"))
    wait_until(lambda: sink.count() >= 300, 30, "300 stored")
    consumer.stop()
    assert not consumer.is_alive()
    stored = sink.count()
    assert stored < 3000 and consumer.stats.acked == stored
    assert stored + queue_depth(rabbitmq, queue_name) == 3000   # nothing lost, nothing acked unstored


# -- kill -9 while 100,000 notifications flow ------------------------------------------------------------

CHILD = r"""
import json, os, signal, sqlite3, sys, time
from stackwatch.stacktach.amqp import NotificationConsumer

db_path, url, queue, pause_at, marker = sys.argv[1:6]
pause_at = int(pause_at)
db = sqlite3.connect(db_path, check_same_thread=False)   # the sink runs on the consumer's sink thread
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE IF NOT EXISTS notes (message_id TEXT PRIMARY KEY, body BLOB NOT NULL)")
db.execute("CREATE TABLE IF NOT EXISTS deliveries (pid INTEGER, delivered INTEGER, inserted INTEGER,"
           " redelivered INTEGER)")
db.commit()

def sink(batch):
    rows = [(json.loads(json.loads(m.body)["oslo.message"])["message_id"], m.body) for m in batch]
    with db:
        cur = db.executemany("INSERT OR IGNORE INTO notes VALUES (?, ?)", rows)
        db.execute("INSERT INTO deliveries VALUES (?, ?, ?, ?)",
                   (os.getpid(), len(rows), cur.rowcount, sum(m.redelivered for m in batch)))
    global pause_at
    if pause_at and db.execute("SELECT count(*) FROM notes").fetchone()[0] >= pause_at:
        pause_at = 0                      # the worst moment for a kill: committed, not yet acked
        open(marker, "w").close()
        time.sleep(60)

consumer = NotificationConsumer("crash-test", [url], [("nova", "notifications.info")], queue, sink)
signal.signal(signal.SIGTERM, lambda *_: consumer.stop(timeout=0))
consumer.run()
"""

CRASH_N = 100_000


def _count(db_path: Path, sql: str = "SELECT count(*) FROM notes") -> int:
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            return db.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _spawn(tmp_path: Path, db_path: Path, url: str, queue: str, tag: str, pause_at: int = 0) -> subprocess.Popen:
    """The consumer as a process of its own; with `pause_at`, it stops for a minute right after the commit
    that reaches that count, before the ack, having created `tmp_path/tag.paused`."""
    script = tmp_path / "consumer_child.py"
    script.write_text(CHILD)
    with (tmp_path / f"{tag}.out").open("wb") as out:
        return subprocess.Popen([sys.executable, str(script), str(db_path), url, queue, str(pause_at),
                                 str(tmp_path / f"{tag}.paused")], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)


def test_kill_9_mid_flow_then_restart_stores_every_message_exactly_once(rabbitmq, queue_name, tmp_path):
    db_path = tmp_path / "crash.db"
    first = _spawn(tmp_path, db_path, rabbitmq.url(), queue_name, "first", pause_at=20_000)
    try:
        wait_until(lambda: first.poll() is None and _consumers(rabbitmq, queue_name) == 1, 30, "first consumer")
        ids = [f"crash-{i:06d}-{uuid.uuid4().hex[:8]}" for i in range(CRASH_N)]
        published = threading.Event()

        def publisher() -> None:
            chunk = 5000
            for start in range(0, CRASH_N, chunk):
                publish(rabbitmq, [("nova", "notifications.info", oslo_body(i)) for i in ids[start:start + chunk]])
            published.set()
        pub = threading.Thread(target=publisher, daemon=True)
        pub.start()
        wait_until(lambda: (tmp_path / "first.paused").exists(), 120, "20,000 stored by the first consumer")
        os.kill(first.pid, signal.SIGKILL)                      # between its last commit and its ack
        first.wait(10)
        at_kill = _count(db_path)
        mid_flow = not published.is_set()
        pub.join(300)
        assert published.is_set()
        second = _spawn(tmp_path, db_path, rabbitmq.url(), queue_name, "second")
        try:
            wait_until(lambda: _count(db_path) == CRASH_N, 240, f"{CRASH_N} stored")
            wait_until(lambda: _count(db_path, "SELECT coalesce(sum(delivered), 0) FROM deliveries")
                       >= CRASH_N, 60, "the last batch recorded")
            second.send_signal(signal.SIGTERM)                   # clean stop: acks done, connection closed
            assert second.wait(30) == 0
        finally:
            if second.poll() is None:
                second.kill()
    finally:
        if first.poll() is None:
            first.kill()
    with sqlite3.connect(db_path) as db:
        total, distinct = db.execute("SELECT count(*), count(DISTINCT message_id) FROM notes").fetchone()
        stored = {r[0] for r in db.execute("SELECT message_id FROM notes")}
        delivered, inserted, redelivered = db.execute(
            "SELECT sum(delivered), sum(inserted), sum(redelivered) FROM deliveries").fetchone()
    depth = queue_depth(rabbitmq, queue_name)
    print(f"\ncrash test: {CRASH_N} published, killed (-9) at {at_kill} stored "
          f"(publisher still running: {mid_flow}); after restart: {total} rows, {distinct} distinct ids, "
          f"{delivered} deliveries to sinks, {redelivered} flagged redelivered, "
          f"{delivered - inserted} duplicates ignored, queue depth {depth}")
    assert total == distinct == CRASH_N
    assert stored == set(ids)
    assert inserted == CRASH_N
    assert delivered - inserted > 0          # the batch committed but not acked came back, and was ignored
    assert depth == 0


def _consumers(broker: RabbitBroker, queue: str) -> int:
    conn = pika.BlockingConnection(pika.URLParameters(broker.url()))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.consumer_count
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        if conn.is_open:
            conn.close()
