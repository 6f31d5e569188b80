"""Notification consumption from a real RabbitMQ: NotificationConsumer + a SQLite sink against a bare pika
consumer, on the same queue contents, in the same run.

A RabbitMQ node is started as the tests start it (tests/stacktach/rabbitmq_server.py: Debian's
rabbitmq-server, own epmd, free ports, tmp dir). N notifications (100,000 at BENCH_SCALE=1) are published,
persistent, to the topic exchange `nova` with routing key notifications.info: oslo.messaging v2 envelopes
around a legacy compute.instance.update of realistic size (~1.6 KB). Each contender drains a queue holding
the same N messages; timed from the start of consuming until the last message is handled:

  (a) a bare pika BlockingConnection consumer, prefetch 1000, that json-decodes each envelope and its inner
      message and acks each delivery (`basic_ack` per message, the obvious bare consumer; for information);
  (a') the baseline: the same bare consumer acking with multiple=True every 500, the same acking work as
      ours (ack-multiple in batches), so the fair one;
  (b) capture into the embedded store: NotificationConsumer (prefetch 1000, batches of 500, ack multiple per
      batch, the sink on a thread of its own while the next batch arrives) into stackwatch's
      NotificationIngest sink, which hands each batch to the SQLite store's writer process: it decodes and
      normalizes each notification (JSON by orjson) and stores it in the archive (one row per message_id,
      raw kept, indexes, one transaction per batch); the batch is acked once that answers. As `stackwatch
      serve` does.

Then checked: N distinct message ids stored, queue empty. Each contender runs BENCH_REPEAT times (3),
interleaved; the best run of each is compared (the machine is shared: the best run is the one least
disturbed), the medians printed too. Target (the issue): (b) >= 0.6 x (a').
BENCH_HELPER=0 (decode and store in-process) and BENCH_PIPELINE=0 (sink on the consumer thread) measure the parts.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pika

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stackwatch.stacktach.amqp import NotificationConsumer  # noqa: E402
from tests.stacktach.rabbitmq_server import RabbitBroker, ensure_installed  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
N = max(5_000, int(100_000 * SCALE))
TARGET = 0.6
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "3")))   # runs of each contender; the best counts
BINDING = ("nova", "notifications.info")


def payload(i: int) -> dict:
    inst = str(uuid.UUID(int=i))
    return {
        "tenant_id": "6d4e1e6c0b5c4f1e9c3f2b9a7f5d1e20", "user_id": "fa60d7e2a1b54c3d8e9f0a1b2c3d4e5f",
        "instance_id": inst, "instance_type": "m1.small", "instance_type_id": 2, "display_name": f"vm-{i}",
        "reservation_id": f"r-{i:08x}", "hostname": f"vm-{i}", "host": f"compute-{i % 40:02d}",
        "node": f"compute-{i % 40:02d}", "architecture": "x86_64", "os_type": "linux",
        "image_ref_url": "http://127.0.0.1:9292/images/3c5a1f0e-7d1b-4c59-9b0e-5e6c7a8b9c0d",
        "state": "active", "old_state": "building", "state_description": "", "old_task_state": "spawning",
        "new_task_state": None, "memory_mb": 2048, "disk_gb": 20, "root_gb": 20, "ephemeral_gb": 0, "vcpus": 1,
        "created_at": "2024-05-01 12:00:00+00:00", "launched_at": "2024-05-01T12:00:09.000000",
        "terminated_at": "", "deleted_at": "", "access_ip_v4": None, "access_ip_v6": None,
        "availability_zone": "nova", "cell_name": "", "progress": "",
        "metadata": {}, "image_meta": {"base_image_ref": "3c5a1f0e-7d1b-4c59-9b0e-5e6c7a8b9c0d",
                                       "container_format": "bare", "disk_format": "qcow2", "min_disk": "20"},
        "audit_period_beginning": "2024-05-01T12:00:00.000000", "audit_period_ending": "2024-05-01T12:00:09.000000",
        "bandwidth": {}, "kernel_id": "", "ramdisk_id": "",
    }


def body(i: int, run: str) -> bytes:
    inner = {"message_id": f"{run}-{uuid.UUID(int=i)}", "publisher_id": f"compute.compute-{i % 40:02d}",
             "event_type": "compute.instance.update", "priority": "INFO",
             "timestamp": "2024-05-01 12:00:09.123456", "payload": payload(i),
             "_context_request_id": f"req-{uuid.UUID(int=i)}", "_context_project_id": "6d4e1e6c0b5c4f1e",
             "_context_user_id": "fa60d7e2a1b54c3d", "_unique_id": uuid.UUID(int=i).hex}
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()


def decode(raw: bytes) -> dict:
    doc = json.loads(raw)
    return json.loads(doc["oslo.message"]) if "oslo.message" in doc else doc


def fill(broker: RabbitBroker, queue: str, run: str) -> float:
    """Declare `queue` as NotificationConsumer does, publish N persistent messages; returns msgs/s."""
    conn = pika.BlockingConnection(pika.URLParameters(broker.url()))
    ch = conn.channel()
    ch.exchange_declare(BINDING[0], exchange_type="topic", durable=False)
    ch.queue_declare(queue, durable=True)
    ch.queue_bind(queue, BINDING[0], routing_key=BINDING[1])
    props = pika.BasicProperties(delivery_mode=2, content_type="application/json")
    bodies = [body(i, run) for i in range(N)]
    t0 = time.perf_counter()
    for b in bodies:
        ch.basic_publish(BINDING[0], BINDING[1], b, props)
    while ch.queue_declare(queue, passive=True).method.message_count < N:
        conn.sleep(0.05)
    rate = N / (time.perf_counter() - t0)
    conn.close()
    return rate


def bare(broker: RabbitBroker, queue: str, ack_every: int) -> float:
    conn = pika.BlockingConnection(pika.URLParameters(broker.url()))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=1000)
    seen = [0]

    def on_message(channel, method, _props, raw):
        decode(raw)
        seen[0] += 1
        if seen[0] % ack_every == 0 or seen[0] == N:
            channel.basic_ack(method.delivery_tag, multiple=ack_every > 1)

    t0 = time.perf_counter()
    ch.basic_consume(queue, on_message)
    while seen[0] < N:
        conn.process_data_events(time_limit=1)
    elapsed = time.perf_counter() - t0
    conn.close()
    return N / elapsed


def ours(broker: RabbitBroker, queue: str, db_path: Path, helper: bool | None = None) -> float:
    from stackwatch.config import MetricsConfig
    from stackwatch.stacktach.ingest import NotificationIngest
    from stackwatch.store.sqlite import open_store

    store = open_store(db_path, MetricsConfig())
    if helper is None:
        helper = os.environ.get("BENCH_HELPER", "1") == "1"
    ingest = NotificationIngest(store.notifications, use_helper=helper)
    consumer = NotificationConsumer("bench", [broker.url()], [BINDING], queue, ingest.sink,
                                    pipeline=os.environ.get("BENCH_PIPELINE", "1") == "1")
    t0 = time.perf_counter()
    consumer.start()
    while ingest.stored < N:
        if consumer.error:
            raise consumer.error
        time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    consumer.stop()
    ingest.close()
    distinct = store.db.read().execute("SELECT count(DISTINCT message_id) FROM notifications").fetchone()[0]
    store.close()
    assert distinct == N and consumer.stats.acked == N and not ingest.dead, (distinct, consumer.stats, ingest.dead)
    return N / elapsed


def main() -> int:
    why = ensure_installed()
    if why:
        print(f"skipped: {why}")
        return 0
    base = Path(tempfile.mkdtemp(prefix="stackwatch-bench-consume-"))
    broker = RabbitBroker(base / "rabbitmq").start()
    try:
        print(f"RabbitMQ {broker.api('GET', '/api/overview')['rabbitmq_version']} on 127.0.0.1:{broker.port}, "
              f"N={N} notifications (~{len(body(0, 'x'))} bytes each)", flush=True)
        contenders = {
            "a": ("bare pika, json-decode + ack each", lambda q: bare(broker, q, ack_every=1)),
            "a'": ("bare pika, json-decode + ack/500", lambda q: bare(broker, q, ack_every=500)),
            "b": ("capture into the embedded store (NotificationConsumer + NotificationIngest)", lambda q: ours(broker, q, base / f"{q}.db")),
        }
        if os.environ.get("BENCH_ABLATION"):        # the decode helper process on and off, side by side
            contenders["b0"] = ("  the same, decoding and storing in this process", lambda q: ours(broker, q, base / f"{q}.db", False))
            contenders["b1"] = ("  the same, in the store's writer process", lambda q: ours(broker, q, base / f"{q}.db", True))
        runs: dict[str, list[float]] = {key: [] for key in contenders}
        for rep in range(REPEAT):                   # interleaved, so a busy spell of the machine hits all alike
            for key, (label, consume) in contenders.items():
                queue = f"bench.{rep}.{key.replace(chr(39), 'p')}"
                published = fill(broker, queue, run=queue)
                runs[key].append(consume(queue))
                with pika.BlockingConnection(pika.URLParameters(broker.url())) as conn:
                    left = conn.channel().queue_declare(queue, passive=True).method.message_count
                    conn.channel().queue_delete(queue)
                print(f"  run {rep + 1} ({key}) {label}: published at {published:,.0f} msgs/s, consumed at "
                      f"{runs[key][-1]:,.0f} msgs/s, left in queue {left}", flush=True)
        best = {key: max(r) for key, r in runs.items()}
        median = {key: statistics.median(r) for key, r in runs.items()}
        for key, (label, _) in contenders.items():
            print(f"{'(' + key + ')':5} {label:38} best {best[key]:>9,.0f} msgs/s   median {median[key]:>9,.0f} msgs/s")
        ratio, ratio_median = best["b"] / best["a'"], median["b"] / median["a'"]
        print(f"ratio (b)/(a') = {ratio:.2f}x best of {REPEAT}, {ratio_median:.2f}x of the medians "
              f"(target >= {TARGET}x: {'met' if ratio >= TARGET else 'NOT met'}); "
              f"(b)/(a) = {best['b'] / best['a']:.2f}x (against the per-message-ack consumer, for information)")
        return 0
    finally:
        broker.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
