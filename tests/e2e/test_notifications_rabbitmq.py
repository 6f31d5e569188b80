"""A real RabbitMQ into a running `stackwatch serve`: every notification file of the corpus, published
in both envelopes (oslo.messaging v2 and bare) on the exchanges OpenStack uses, is consumed, stored once
and normalized; the legacy and versioned forms of one event share its name and instance; bad bodies are
dead-lettered and acknowledged, never blocking the queue.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import pika
import pytest
import yaml

from tests.conftest import CORPUS
from tests.e2e.test_serve import free_port, shipped_config_with_free_ports, start
from tests.stacktach.rabbitmq_server import rabbitmq  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
LAB = Path(__file__).resolve().parents[1] / "fixtures" / "notifications" / "lab-2026"
EXCHANGE_OF = {"nova": "nova", "glance": "glance", "cinder": "openstack", "keystone": "keystone",
               "neutron": "neutron"}


def corpus_bodies() -> list[tuple[str, bytes]]:
    """(name, body) of every corpus notification file that holds one notification object."""
    root = CORPUS / "notifications"
    if not root.is_dir():
        pytest.fail(f"the notification corpus is missing at {root}")
    out = []
    for path in sorted(root.rglob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(doc, dict) and "event_type" in doc:
            out.append((str(path.relative_to(root)), json.dumps(doc).encode()))
    return out


def envelope(body: bytes) -> bytes:
    return json.dumps({"oslo.version": "2.0", "oslo.message": body.decode()}).encode()


def test_corpus_through_rabbitmq_into_serve(rabbitmq, tmp_path):  # noqa: F811
    config = shipped_config_with_free_ports(tmp_path / "config.yaml")
    raw = yaml.safe_load(config.read_text())
    raw["notifications"] = {"deployments": [{
        "name": "region-one", "urls": [f"amqp://{rabbitmq.user}@127.0.0.1:{rabbitmq.port}/%2F"],
        "password": {"env": "STACKWATCH_TEST_AMQP_PASSWORD"}, "queue": f"stackwatch.e2e.{tmp_path.name}",
        "max_length": 1000000}]}
    config.write_text(yaml.safe_dump(raw))
    data = tmp_path / "data"
    os.environ["STACKWATCH_TEST_AMQP_PASSWORD"] = rabbitmq.password  # the config references it, never holds it
    serve = start(data, free_port(), config=config)
    try:
        bodies = corpus_bodies()
        messages = []
        for i, (name, body) in enumerate(bodies):
            doc = json.loads(body)
            # each form gets its own message_id, so both are stored: they are two deliveries of one event
            for form, wire in (("bare", body), ("v2", None)):
                d = dict(doc, message_id=f"{form}-{i}")
                b = json.dumps(d).encode()
                messages.append(("nova", "notifications.info", b if form == "bare" else envelope(b)))
        for path in sorted(LAB.glob("*.json")):  # the lab's legacy and versioned create.end, one instance
            doc = json.loads(path.read_text())
            service = path.name.split("-")[0]
            key = "versioned_notifications.info" if "versioned" in path.name else "notifications.info"
            messages.append((EXCHANGE_OF[service], key, envelope(json.dumps(doc).encode())))
        messages += [("nova", "notifications.error", b"\xff\xfe not json"), ("nova", "notifications.info", b"{}")]
        deadline = time.time() + 60
        while not (data / "stackwatch.db").exists() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # the consumer declares its queue and bindings after start
        conn = pika.BlockingConnection(pika.URLParameters(rabbitmq.url()))
        ch = conn.channel()
        for exchange, key, body in messages:
            ch.basic_publish(exchange, key, body, pika.BasicProperties(delivery_mode=2))
        conn.close()

        db = sqlite3.connect(data / "stackwatch.db")
        expected = len(messages) - 2
        deadline = time.time() + 120
        while time.time() < deadline:
            stored = db.execute("SELECT count(*) FROM notifications").fetchone()[0]
            dead = db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
            if stored + dead >= len(messages):
                break
            time.sleep(0.5)
        dead_reasons = dict(db.execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason"))
        assert stored + sum(dead_reasons.values()) == len(messages), (stored, dead_reasons)
        assert dead_reasons.get("not UTF-8") == 1 and dead_reasons.get("no event_type") == 1
        assert stored >= expected - sum(n for r, n in dead_reasons.items() if r == "unknown event type")
        # bare and enveloped forms of one file normalize alike
        pairs = db.execute("SELECT a.name, b.name, a.instance_uuid IS b.instance_uuid FROM notifications a "
                           "JOIN notifications b ON substr(a.message_id, 6) = substr(b.message_id, 4) "
                           "WHERE a.message_id LIKE 'bare-%' AND b.message_id LIKE 'v2-%'").fetchall()
        assert pairs and all(x == y and same for x, y, same in pairs)
        # the lab's legacy compute.instance.create.end and versioned instance.create.end: one name, one instance
        lab = db.execute("SELECT event_type, name, instance_uuid FROM notifications WHERE name = 'instance.create.end' "
                         "AND deployment = 'region-one' AND event_type IN ('compute.instance.create.end', "
                         "'instance.create.end') AND instance_uuid LIKE 'e7c49870%'").fetchall()
        assert {r[0] for r in lab} == {"compute.instance.create.end", "instance.create.end"}
        assert len({r[2] for r in lab}) == 1
        qname = raw["notifications"]["deployments"][0]["queue"]
        deadline = time.time() + 30
        while "messages" not in rabbitmq.queue(qname) and time.time() < deadline:
            time.sleep(0.5)  # the management API fills in queue statistics a moment after declaration
        assert rabbitmq.queue(qname)["messages"] == 0  # everything acknowledged, bad bodies included
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=60)
    assert serve.returncode == 0, err


def test_unconsumed_growing_notification_queue_is_flagged(rabbitmq, tmp_path):  # noqa: F811
    """Queue hygiene against the real broker: a queue bound to notifications.info that nobody consumes."""
    from stackwatch.config import MetricsConfig, build_config
    from stackwatch.notifications_runtime import NotificationRuntime
    from stackwatch.store.sqlite import open_store
    from tests.conftest import minimal_raw

    raw = minimal_raw(tmp_path, notifications={"deployments": [{
        "name": "r1", "urls": [f"amqp://{rabbitmq.user}@127.0.0.1:{rabbitmq.port}/%2F"],
        "password": {"env": "AMQP_PW"}, "management_url": rabbitmq.mgmt_url}]})
    config = build_config(raw, tmp_path / "c.yaml", environ={"AMQP_PW": rabbitmq.password})
    conn = pika.BlockingConnection(pika.URLParameters(rabbitmq.url()))
    ch = conn.channel()
    ch.exchange_declare("nova", "topic", passive=False, durable=False)
    name = f"notifications.info.forgotten-{tmp_path.name[-8:]}"
    ch.queue_declare(name, durable=True)
    ch.queue_bind(name, "nova", "notifications.info")
    store = open_store(tmp_path / "s.db", MetricsConfig())
    rt = NotificationRuntime.build(config, store.notifications)
    try:
        rt.check_queues(1000.0, store.metrics)
        for i in range(50):
            ch.basic_publish("nova", "notifications.info", b'{"event_type": "x"}')
        deadline = time.time() + 30
        while rabbitmq.queue(name).get("messages", 0) < 50 and time.time() < deadline:
            time.sleep(0.5)
        rt.check_queues(1010.0, store.metrics)
        (_, _, flag), = store.metrics.latest("stackwatch_rabbitmq_queue_unconsumed_growing", {"queue": name})
        assert flag == 1.0
    finally:
        store.close()
        rabbitmq.delete_queue(name)
        conn.close()
