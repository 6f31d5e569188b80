"""The outbox: routing submits notifications, the outbox delivers them, durably and patiently.

`submit(n)` stores the notification (idempotent on its notification_id) and returns at once. One worker
thread per receiver delivers that receiver's notifications in submission order with retries: exponential
backoff with jitter, up to `max_attempts` and `max_age`; a DeliveryError with retryable=False (an HTTP
400, bad credentials) is not retried. Every attempt is recorded (time, duration, outcome, error), shown by
`deliveries()`/`attempts()` and counted in stackwatch_notifications_sent_total{receiver,outcome}. A
receiver that fails or hangs holds up only its own worker. A restart resumes pending deliveries; a
delivered notification is never sent again (an attempt cut short by a crash between the receiver's
answer and the commit is sent again: delivery is at least once, and PagerDuty's dedup_key absorbs it).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from stackwatch.alerting.notification import DeliveryError, GroupNotification
from stackwatch.alerting.notify.retry import RetryPolicy
from stackwatch.store.sqlite.outbox import Attempt, Delivery, SqliteOutboxStore

log = logging.getLogger(__name__)

OUTCOMES = ("success", "retry", "failed")
__all__ = ["Outbox", "RetryPolicy", "OUTCOMES"]


class _Worker:
    def __init__(self, receiver):
        self.receiver = receiver
        self.wake = threading.Event()
        self.sending = threading.Lock()
        self.exiting = False
        self.thread: threading.Thread | None = None


class Outbox:
    def __init__(self, store: SqliteOutboxStore, receivers: Iterable, policy: RetryPolicy = RetryPolicy(),
                 clock: Callable[[], float] = time.time, rng: Callable[[], float] = random.random):
        self.store, self.policy, self.clock, self.rng = store, policy, clock, rng
        self._workers = {r.name: _Worker(r) for r in receivers}
        self._counts = {(name, o): 0 for name in self._workers for o in OUTCOMES}
        self._lock = threading.Lock()
        self._state = threading.Lock()    # start() and a worker deciding to exit never interleave
        self._stopping = threading.Event()
        self._drain_until = float("inf")
        self._started = False

    @property
    def receivers(self) -> tuple[str, ...]:
        return tuple(self._workers)

    def start(self) -> None:
        """One delivery thread per receiver; pending notifications from before a restart go first."""
        if self._started:
            return
        self._started = True
        orphans = set(self.store.pending_by_receiver()) - set(self._workers)
        for name in sorted(orphans):
            log.warning("notifications pending for receiver %s, which is no longer configured: they stay pending",
                        name)
        with self._state:
            self._stopping.clear()
            self._drain_until = float("inf")
            for name, w in self._workers.items():
                if w.thread is not None and w.thread.is_alive() and not w.exiting:
                    continue              # left behind by stop() in a hanging send: it carries on as the worker
                w.exiting = False
                w.thread = threading.Thread(target=self._run, args=(w,), name=f"outbox:{name}", daemon=True)
                w.thread.start()

    def submit(self, n: GroupNotification) -> bool:
        """Store `n` for delivery and return (True if new, False if this notification_id was already
        submitted). Durable when it returns; never waits for a receiver."""
        added = self.store.add(n, self.clock())
        if not added:
            return False
        worker = self._workers.get(n.receiver)
        if worker is None:
            reason = f"no receiver named {n.receiver!r} in alerting.receivers"
            log.error("notification %s: %s", n.notification_id, reason)
            self.store.record(n.notification_id, self.clock(), 0.0, "failed", reason)
            self._count(n.receiver, "failed")
        else:
            worker.wake.set()
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Drain: each worker finishes its attempt in flight and sends what is due, for at most `timeout`
        seconds in all; what is still pending (backing off, or behind a hanging receiver) is delivered
        after the next start."""
        if not self._started:
            return
        self._drain_until = time.monotonic() + timeout
        self._stopping.set()
        for w in self._workers.values():
            w.wake.set()
        for w in self._workers.values():
            if w.thread is not None:
                w.thread.join(max(0.0, self._drain_until - time.monotonic()))
                if w.thread.is_alive():
                    log.warning("receiver %s is still sending after %gs; leaving it (the notification stays "
                                "pending unless the answer arrives)", w.receiver.name, timeout)
        self._started = False

    def retry(self, notification_id: str) -> bool:
        """Send a failed notification again (after fixing its receiver); True if it was failed."""
        delivery = self.store.get(notification_id)
        if delivery is None or not self.store.requeue(notification_id, self.clock()):
            return False
        worker = self._workers.get(delivery.receiver)
        if worker is not None:
            worker.wake.set()
        return True

    def deliveries(self, receiver: str | None = None, state: str | None = None, limit: int = 100) -> list[Delivery]:
        """The newest notifications and where their delivery stands (for the web UI and the CLI)."""
        return self.store.deliveries(receiver, state, limit)

    def attempts(self, notification_id: str) -> list[Attempt]:
        return self.store.attempts(notification_id)

    def collect(self) -> Iterator[Metric]:
        """prometheus-client Collector: register the outbox in the registry /metrics serves."""
        sent = CounterMetricFamily("stackwatch_notifications_sent",
                                   "Delivery attempts per receiver by outcome (success, retry, failed)",
                                   labels=["receiver", "outcome"])
        with self._lock:
            counts = dict(self._counts)
        for (receiver, outcome), value in sorted(counts.items()):
            sent.add_metric([receiver, outcome], value)
        yield sent
        pending = GaugeMetricFamily("stackwatch_notifications_pending", "Notifications waiting for delivery",
                                    labels=["receiver"])
        oldest = GaugeMetricFamily("stackwatch_notifications_oldest_pending_age_seconds",
                                   "Age of the oldest notification waiting for delivery", labels=["receiver"])
        by_receiver = self.store.pending_by_receiver()
        now = self.clock()
        for receiver in sorted(set(self._workers) | set(by_receiver)):
            count, first = by_receiver.get(receiver, (0, None))
            pending.add_metric([receiver], count)
            oldest.add_metric([receiver], max(0.0, now - first) if first is not None else 0.0)
        yield pending
        yield oldest

    # -- delivery threads --------------------------------------------------------------------------

    def _run(self, w: _Worker) -> None:
        while True:
            w.wake.clear()
            if self._stopping.is_set() and time.monotonic() >= self._drain_until and self._exit(w):
                return
            with w.sending:               # a thread left behind by stop() and its successor never both send
                pause = self._step(w)
            if pause == 0.0:
                continue
            if self._stopping.is_set() and self._exit(w):
                return                    # idle or backing off: what is pending resumes after the next start
            w.wake.wait(pause)

    def _exit(self, w: _Worker) -> bool:
        """Whether this worker ends now (still stopping, checked against a concurrent start())."""
        with self._state:
            if self._stopping.is_set():
                w.exiting = True
                return True
            return False

    def _step(self, w: _Worker) -> float | None:
        """Deliver the receiver's next notification if it is due; how long to pause before looking again
        (0: at once, None: until woken)."""
        try:
            item = self.store.next_pending(w.receiver.name)
        except Exception:
            log.exception("outbox worker %s cannot read the outbox", w.receiver.name)
            return 5.0
        if item is None:
            return None
        wait = item.next_attempt_at - self.clock()
        if wait > 0:
            return wait
        return 0.0 if self._attempt(w.receiver, item) else 5.0

    def _attempt(self, receiver, item: Delivery) -> bool:
        """Send `item` once and record how it went; False if the outcome could not be recorded."""
        started, t0 = self.clock(), time.perf_counter()
        try:
            receiver.send(item.notification)
            outcome, error, retryable = "success", "", False
        except DeliveryError as exc:
            outcome, error, retryable = "retry", exc.reason, exc.retryable
        except Exception as exc:      # a bug in a payload builder: keep it visible, do not spin on it
            log.exception("receiver %s failed on notification %s", receiver.name, item.notification_id)
            outcome, error, retryable = "retry", f"internal error: {type(exc).__name__}: {exc}", False
        duration = time.perf_counter() - t0
        next_at = None
        if outcome == "retry":
            attempts = item.attempts + 1
            why = "not retryable" if not retryable else self.policy.gives_up(attempts, self.clock() - item.created_at)
            if why:
                outcome, error = "failed", f"{error} ({why})"
                log.error("notification %s to %s failed: %s", item.notification_id, receiver.name, error)
            else:
                next_at = self.clock() + self.policy.delay(attempts, self.rng())
                log.warning("notification %s to %s: attempt %d failed, retrying in %.0fs: %s",
                            item.notification_id, receiver.name, attempts, next_at - self.clock(), error)
        self._count(receiver.name, outcome)
        try:
            self.store.record(item.notification_id, started, duration, outcome, error, next_at)
        except Exception:
            # the store is gone or broken: the notification stays pending and is sent again later
            log.exception("cannot record the delivery of %s to %s", item.notification_id, receiver.name)
            return False
        return True

    def _count(self, receiver: str, outcome: str) -> None:
        with self._lock:
            self._counts[(receiver, outcome)] = self._counts.get((receiver, outcome), 0) + 1
