"""Queue hygiene (pure) and the management API adapter: real answers from the shared corpus
(kbudde/rabbitmq_exporter testdata, MIT, read in place), a table of readings, and a real broker with an
unconsumed notifications.info queue that grows."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import pika
import pytest

from stackwatch.stacktach.amqp import NotificationConsumer
from stackwatch.stacktach.queue_hygiene import QueueReading, parse_queues, unconsumed_growing
from stackwatch.stacktach.rabbitmq_mgmt import ManagementClient, ManagementError

from .rabbitmq_server import rabbitmq  # noqa: F401 (fixture)
from .test_amqp import oslo_body, publish, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _corpus_dir() -> Path:
    for base in (os.environ.get("STACKWATCH_CORPUS"), ROOT.parent / "shared" / "corpus", "/work/shared/corpus"):
        if base and (Path(base) / "rabbitmq").is_dir():
            return Path(base) / "rabbitmq" / "rabbitmq_exporter-testdata"
    if os.environ.get("CI"):
        pytest.fail("CI must provide the shared corpus (or set STACKWATCH_CORPUS)")
    pytest.skip("shared corpus not found")


def _load(name: str):
    return json.loads((_corpus_dir() / name).read_text())


# -- parsing real answers ------------------------------------------------------------------------------

def test_parse_rabbitmq_3_5_answer():
    queues = {q.name: q for q in parse_queues(_load("queues-3.5.1.json"))}
    assert len(queues) == 4
    q1 = queues["myQueue1"]
    assert (q1.messages, q1.messages_ready, q1.consumers, q1.published, q1.publish_rate) == (6, 6, 0, 6, 0.4)
    assert q1.state == "flow" and q1.policy is None and q1.durable        # policy "" read as none
    assert queues["myQueue2"].policy == "ha-2" and queues["myQueue2"].published is None
    assert queues["myQueue4"].vhost == "vhost4" and queues["myQueue4"].deliver_rate is None


@pytest.mark.parametrize("name", ["queues-3.6.8.json", "queues-3.7.0.json"])
def test_parse_rabbitmq_3_6_and_3_7_answers(name):
    doc = _load(name)
    queues = parse_queues(doc)
    assert [q.name for q in queues] == [q["name"] for q in doc]
    assert all(q.name.startswith("amq.gen-") and not q.durable for q in queues)
    assert [q.messages for q in queues] == [q["messages"] for q in doc]


def test_parse_max_length_argument():
    queues = {q.name: q for q in parse_queues(_load("queue-max-length.json"))}
    assert queues["QueueWithMaxLength55"].max_length == 55
    assert queues["QueueWithMaxBytes99"].max_length is None          # bytes, not a message count
    paged = {"items": _load("queue-max-length.json"), "page": 1, "page_count": 1}
    assert len(parse_queues(paged)) == 2


# -- the hygiene rule ------------------------------------------------------------------------------------

def q(name: str, messages: int, consumers: int = 0, published: int | None = None, max_length: int | None = None,
      vhost: str = "/") -> QueueReading:
    return QueueReading(vhost, name, messages, messages, 0, consumers, published, None, None, None, max_length,
                        None, "running", False)


@pytest.mark.parametrize("before, after, flagged", [
    ([q("notifications.info", 100)], [q("notifications.info", 160)], ["notifications.info"]),
    ([q("notifications.info", 100)], [q("notifications.info", 100)], []),                    # stable
    ([q("notifications.info", 100)], [q("notifications.info", 60)], []),                     # draining
    ([q("notifications.info", 100, 1)], [q("notifications.info", 160, 1)], []),              # consumed
    ([q("reply_abc", 100)], [q("reply_abc", 160)], []),                                      # not notifications
    ([], [q("versioned_notifications.info", 5)], ["versioned_notifications.info"]),          # new since
    ([q("monitor.info", 10, published=50, max_length=10)],
     [q("monitor.info", 10, published=90, max_length=10)], ["monitor.info"]),               # capped, fed
    ([q("monitor.info", 10, published=50, max_length=10)],
     [q("monitor.info", 10, published=50, max_length=10)], []),                              # capped, idle
    ([q("notifications.info", 0)], [q("notifications.info", 0)], []),
    ([q("notifications.error", 1, vhost="/"), q("notifications.error", 1, vhost="cell1")],
     [q("notifications.error", 1, vhost="/"), q("notifications.error", 9, vhost="cell1")], ["notifications.error"]),
])
def test_unconsumed_growing_table(before, after, flagged):
    assert [f.name for f in unconsumed_growing(before, after, elapsed=10.0)] == flagged


def test_findings_worst_first_with_reasons():
    before = [q("notifications.info", 10), q("notifications.error", 10), q("monitor.info", 5, published=1, max_length=5)]
    after = [q("notifications.info", 20), q("notifications.error", 110), q("monitor.info", 5, published=9, max_length=5)]
    found = unconsumed_growing(before, after, elapsed=10.0)
    assert [(f.name, f.growth_per_second, f.capped) for f in found] == [
        ("notifications.error", 10.0, False), ("notifications.info", 1.0, False), ("monitor.info", 0.0, True)]
    assert "no consumer" in found[0].reason and "max-length 5" in found[2].reason
    custom = unconsumed_growing([], [replace(after[0], name="ceilometer.sample")], 1.0, topics=("ceilometer",))
    assert [f.name for f in custom] == ["ceilometer.sample"]
    with pytest.raises(ValueError):
        unconsumed_growing(before, after, elapsed=0)


# -- against a real broker -------------------------------------------------------------------------------

def _declare_oslo_queue(broker, name: str, arguments: dict | None = None) -> None:
    """What oslo.messaging leaves behind: a non-durable topic exchange and a '<topic>.<priority>' queue."""
    conn = pika.BlockingConnection(pika.URLParameters(broker.url()))
    try:
        ch = conn.channel()
        ch.exchange_declare("nova", exchange_type="topic", durable=False)
        ch.queue_declare(name, durable=False, arguments=arguments)
        ch.queue_bind(name, "nova", routing_key=name)
    finally:
        conn.close()


def test_real_broker_unconsumed_notification_queue_is_flagged(rabbitmq, tmp_path):
    client = ManagementClient(rabbitmq.mgmt_url, rabbitmq.user, rabbitmq.password, page_size=2)
    assert client.overview()["rabbitmq_version"]
    for name in ("notifications.info", "monitor.info"):
        rabbitmq.delete_queue(name)
    _declare_oslo_queue(rabbitmq, "notifications.info")
    _declare_oslo_queue(rabbitmq, "monitor.info", {"x-max-length": 20})
    ours = "stackwatch.notifications.hygiene"
    consumer = NotificationConsumer("region-one", [rabbitmq.url()], [("nova", "notifications.info")], ours,
                                    lambda batch: None)
    consumer.start()
    try:
        def by_name(readings):
            return {r.name: r for r in readings}

        def batch(tag: str) -> list[tuple[str, str, bytes]]:
            return ([("nova", "notifications.info", oslo_body(f"{tag}-{i}")) for i in range(50)]
                    + [("nova", "monitor.info", oslo_body(f"{tag}-m{i}")) for i in range(30)])
        wait_until(lambda: by_name(client.queues("/")).get(ours, q(ours, 0)).consumers == 1, 30, "our consumer")
        publish(rabbitmq, batch("h1"))
        wait_until(lambda: by_name(client.queues())["notifications.info"].messages == 50
                   and by_name(client.queues())["monitor.info"].published == 30, 30, "first reading")
        t0, first = client.reading()
        time.sleep(0.2)
        publish(rabbitmq, batch("h2"))
        wait_until(lambda: by_name(client.queues())["notifications.info"].messages == 100
                   and by_name(client.queues())["monitor.info"].published == 60, 30, "second reading")
        t1, second = client.reading()
    finally:
        consumer.stop()
    assert consumer.stats.acked == 100                             # ours is consumed, so not flagged
    found = {f.name: f for f in unconsumed_growing(first, second, t1 - t0)}
    assert set(found) == {"notifications.info", "monitor.info"}
    info = found["notifications.info"]
    assert (info.messages_before, info.messages_after, info.capped) == (50, 100, False)
    assert found["monitor.info"].capped and found["monitor.info"].messages_after == 20
    assert len({(r.vhost, r.name) for r in second}) == len(second) >= 3        # paged 2 by 2, no repeat
    assert by_name(second)["monitor.info"].max_length == 20
    for name in ("notifications.info", "monitor.info", ours):
        rabbitmq.delete_queue(name)


def test_management_errors_are_readable(rabbitmq):
    with pytest.raises(ManagementError, match="HTTP 401"):
        ManagementClient(rabbitmq.mgmt_url, rabbitmq.user, "wrong").overview()
    with pytest.raises(ManagementError):
        ManagementClient("http://127.0.0.1:1", "u", "p", timeout=2).queues()
