"""The outbox with the real SQLite store: idempotent durable submit, in-order delivery per receiver,
retries with backoff, final failures, restarts that resume without resending, a hanging or failing
receiver that holds up nobody else, draining stop, and the delivery metrics."""

from __future__ import annotations

import threading
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from stackwatch.alerting.notification import DeliveryError
from stackwatch.alerting.notify.webhook import WebhookReceiver
from stackwatch.alerting.outbox import Outbox, RetryPolicy
from stackwatch.store.sqlite.database import Database
from stackwatch.store.sqlite.outbox import SqliteOutboxStore, from_json, to_json

from .notify.sinks import HttpSink, notification as sample, snapshot

FAST = RetryPolicy(max_attempts=4, max_age=3600, initial_backoff=0.01, max_backoff=0.05)


class Recorder:
    """A Receiver that records what it was sent; `script` holds what each next send does (None =
    deliver, an exception = raise it), then it delivers."""

    kind = "test"

    def __init__(self, name: str, script=()):
        self.name, self.script, self.sent = name, list(script), []
        self.lock = threading.Lock()

    def send(self, n) -> None:
        with self.lock:
            step = self.script.pop(0) if self.script else None
            if step is not None:
                raise step
            self.sent.append(n.notification_id)


def notification(**changes):
    """A sample page made now (the outbox gives up on pages older than max_age)."""
    changes.setdefault("created_at", time.time())
    return sample(**changes)


def wait_until(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "store.db")
    yield d
    d.close()


@pytest.fixture
def outboxes(db):
    made = []

    def make(*receivers, policy=FAST, store_db=None):
        box = Outbox(SqliteOutboxStore(store_db or db), receivers, policy)
        made.append(box)
        return box
    yield make
    for box in made:
        box.stop(timeout=5)


def states(box, receiver=None):
    return {d.notification_id: d.state for d in box.deliveries(receiver, limit=1000)}


def test_retry_policy_backs_off_exponentially_with_jitter():
    p = RetryPolicy(max_attempts=5, max_age=600, initial_backoff=10, max_backoff=60, jitter=0.2)
    assert [p.delay(k, 0.5) for k in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    assert p.delay(1, 0.0) == pytest.approx(8) and p.delay(1, 0.999999) == pytest.approx(12, abs=1e-4)
    assert p.gives_up(4, 100) == "" and "after 5 attempts" in p.gives_up(5, 100)
    assert "older than 600s" in p.gives_up(1, 600)


def test_notification_json_round_trip():
    n = notification(alerts=(snapshot("c1"), snapshot("c2", status="resolved", ends_at=1_764_000_200.0)))
    assert from_json(to_json(n)) == n


def test_submit_is_durable_and_idempotent(outboxes):
    hook = Recorder("hook")
    box = outboxes(hook)
    assert box.submit(notification(nid="a")) is True
    assert box.submit(notification(nid="a")) is False          # routing recomputed the same page
    assert states(box) == {"a": "pending"}                     # stored before any worker runs
    box.start()
    assert wait_until(lambda: states(box) == {"a": "delivered"})
    assert box.submit(notification(nid="a")) is False
    box.stop()
    assert hook.sent == ["a"]


def test_each_receiver_delivers_in_submission_order(outboxes):
    hook = Recorder("hook", [DeliveryError("flaky")])
    box = outboxes(hook)
    ids = [f"n{i}" for i in range(8)]
    for nid in ids:
        box.submit(notification(nid=nid))
    box.start()
    assert wait_until(lambda: len(hook.sent) == 8)
    assert hook.sent == ids                                    # the retried first one still goes first


def test_retries_with_backoff_until_delivered_and_every_attempt_is_recorded(outboxes):
    hook = Recorder("hook", [DeliveryError("HTTP 500 Internal Server Error"), DeliveryError("no answer within 10s")])
    box = outboxes(hook)
    box.start()
    box.submit(notification(nid="a"))
    assert wait_until(lambda: states(box) == {"a": "delivered"})
    attempts = box.attempts("a")
    assert [(a.outcome, a.error) for a in attempts] == [("retry", "HTTP 500 Internal Server Error"),
                                                        ("retry", "no answer within 10s"), ("success", "")]
    assert attempts[0].ts <= attempts[1].ts <= attempts[2].ts
    (d,) = box.deliveries()
    assert d.attempts == 3 and d.last_error == "" and d.finished_at is not None


def test_non_retryable_error_fails_at_once_and_the_queue_moves_on(outboxes):
    hook = Recorder("hook", [DeliveryError("HTTP 400 Bad Request: invalid event", retryable=False)])
    box = outboxes(hook)
    box.submit(notification(nid="bad"))
    box.submit(notification(nid="next"))
    box.start()
    assert wait_until(lambda: states(box) == {"bad": "failed", "next": "delivered"})
    bad = box.store.get("bad")
    assert bad.attempts == 1 and "HTTP 400" in bad.last_error and "not retryable" in bad.last_error


def test_gives_up_after_max_attempts_and_can_be_retried_by_hand(outboxes):
    hook = Recorder("hook", [DeliveryError("HTTP 503")] * 4)
    box = outboxes(hook)
    box.start()
    box.submit(notification(nid="a"))
    assert wait_until(lambda: states(box) == {"a": "failed"})
    assert [a.outcome for a in box.attempts("a")] == ["retry", "retry", "retry", "failed"]
    assert "gave up after 4 attempts" in box.store.get("a").last_error
    assert box.retry("a") is True and box.retry("a") is False
    assert wait_until(lambda: states(box) == {"a": "delivered"})
    assert hook.sent == ["a"]


def test_gives_up_on_a_page_older_than_max_age(outboxes):
    hook = Recorder("hook", [DeliveryError("HTTP 503")])
    box = outboxes(hook)
    box.start()
    box.submit(notification(nid="old", created_at=time.time() - 7200))
    assert wait_until(lambda: states(box) == {"old": "failed"})
    assert "older than 3600s" in box.store.get("old").last_error and hook.sent == []


def test_unknown_receiver_is_kept_and_marked_failed(outboxes):
    box = outboxes(Recorder("hook"))
    box.submit(notification(receiver="nobody", nid="x"))
    d = box.store.get("x")
    assert d.state == "failed" and "no receiver named 'nobody'" in d.last_error


def test_restart_resumes_pending_and_never_resends_delivered(tmp_path):
    path = tmp_path / "restart.db"
    db1 = Database(path)
    first = Recorder("hook")
    box1 = Outbox(SqliteOutboxStore(db1), [first], FAST)
    box1.start()
    box1.submit(notification(nid="delivered-before"))
    assert wait_until(lambda: first.sent == ["delivered-before"])
    box1.stop()
    box1.submit(notification(nid="pending-at-restart"))     # stored, but the worker is gone
    db1.close()                                               # stackwatch stops (or dies) here

    db2 = Database(path)
    second = Recorder("hook")
    box2 = Outbox(SqliteOutboxStore(db2), [second], FAST)
    box2.start()
    assert wait_until(lambda: second.sent == ["pending-at-restart"])
    assert box2.submit(notification(nid="delivered-before")) is False   # recomputed after restart: ignored
    box2.stop()
    db2.close()
    assert second.sent == ["pending-at-restart"] and first.sent == ["delivered-before"]


def test_a_hanging_and_a_failing_receiver_block_nobody(outboxes):
    hanging, failing, healthy = HttpSink(), HttpSink(status=500), HttpSink()
    for s in (hanging, failing, healthy):
        s.start()
    hanging.hang.set()
    try:
        box = outboxes(WebhookReceiver("hanging", hanging.url, timeout=60),
                       WebhookReceiver("failing", failing.url, timeout=60),
                       WebhookReceiver("healthy", healthy.url, timeout=60),
                       policy=RetryPolicy(max_attempts=1000, initial_backoff=0.05, max_backoff=0.1))
        box.start()
        for i in range(3):
            for name in ("hanging", "failing", "healthy"):
                assert box.submit(notification(receiver=name, nid=f"{name}-{i}")) is True
        hanging.wait_for(1)                                   # its worker is stuck in the first request
        assert wait_until(lambda: states(box, "healthy") == {f"healthy-{i}": "delivered" for i in range(3)})
        assert wait_until(lambda: len(box.attempts("failing-0")) >= 2)
        assert all(a.outcome == "retry" and "HTTP 500" in a.error for a in box.attempts("failing-0"))
        assert set(states(box, "hanging").values()) == {"pending"} and box.attempts("hanging-0") == []
        assert len(hanging.requests) == 1
        hanging.release.set()                                 # the hanging receiver answers at last
        assert wait_until(lambda: set(states(box, "hanging").values()) == {"delivered"})
    finally:
        for s in (hanging, failing, healthy):
            s.stop()


def test_stop_drains_what_is_due(outboxes):
    hook = Recorder("hook")
    box = outboxes(hook)
    box.start()
    for i in range(20):
        box.submit(notification(nid=f"n{i}"))
    box.stop(timeout=60)
    assert hook.sent == [f"n{i}" for i in range(20)]
    assert set(states(box).values()) == {"delivered"}


def test_stop_does_not_wait_forever_for_a_hanging_receiver(outboxes):
    class Stuck:
        name, kind = "stuck", "test"
        entered, release = threading.Event(), threading.Event()
        calls = 0

        def send(self, n):
            self.calls += 1
            self.entered.set()
            self.release.wait(30)

    stuck = Stuck()
    box = outboxes(stuck)
    box.start()
    box.submit(notification(receiver="stuck", nid="s"))
    assert stuck.entered.wait(20)
    box.stop(timeout=0.2)                                    # returns although the send is in flight
    assert states(box) == {"s": "pending"}
    box.start()                                              # started again while that send still hangs
    box.submit(notification(receiver="stuck", nid="t"))
    stuck.release.set()
    assert wait_until(lambda: states(box) == {"s": "delivered", "t": "delivered"})
    assert stuck.calls == 2                                  # "s" was not sent a second time


def test_metrics(outboxes):
    hook = Recorder("hook", [DeliveryError("HTTP 500")])
    dead = Recorder("dead", [DeliveryError("HTTP 400", retryable=False)])
    box = outboxes(hook, dead, Recorder("idle"))
    registry = CollectorRegistry()
    registry.register(box)
    box.submit(notification(nid="a"))
    box.submit(notification(receiver="dead", nid="b"))
    box.submit(notification(receiver="idle", nid="c"))
    text = generate_latest(registry).decode()
    assert 'stackwatch_notifications_pending{receiver="hook"} 1.0' in text
    box.start()
    assert wait_until(lambda: set(states(box).values()) == {"delivered", "failed"})
    text = generate_latest(registry).decode()
    for line in ('stackwatch_notifications_sent_total{outcome="retry",receiver="hook"} 1.0',
                 'stackwatch_notifications_sent_total{outcome="success",receiver="hook"} 1.0',
                 'stackwatch_notifications_sent_total{outcome="failed",receiver="dead"} 1.0',
                 'stackwatch_notifications_sent_total{outcome="success",receiver="idle"} 1.0',
                 'stackwatch_notifications_pending{receiver="hook"} 0.0'):
        assert line in text, text


def test_retention_forgets_finished_notifications_only(outboxes):
    hook = Recorder("hook")
    box = outboxes(hook)
    box.start()
    box.submit(notification(nid="old"))
    assert wait_until(lambda: states(box) == {"old": "delivered"})
    box.stop()
    box.submit(notification(nid="waiting"))
    assert box.store.enforce_retention(time.time() + 10, retention=5) == 1
    assert states(box) == {"waiting": "pending"} and box.attempts("old") == []
