"""The notification pipeline: AMQP deliveries are decoded and normalized, stored in one durable write
(the archive, one row per message_id; bad bodies and unknown event types raw in the dead-letter table
with their reason), and counted. `sink` is the `message.NotificationSink` the consumer calls: it returns
only after the commit, so the consumer acknowledges only what is stored, and a bad body never blocks the
queue (it is stored as a dead letter and acknowledged like any other).

A big batch goes to a helper process: with the embedded store, the store's own writer
(`store.sqlite.notification_writer`), which decodes the batch and stores it itself, so that this process
only reads AMQP; with Elasticsearch, a decode helper (`decode_helper`) a chunk ahead, its rows fed to the
store's bulk insert as they come back. A small batch, or any trouble with the helper, is decoded and
stored here. The archive is whichever `NotificationStore` it is given (SQLite's, or Elasticsearch's).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Iterator

from stackwatch.stacktach.archive import DeadLetter
from stackwatch.stacktach.decode_helper import (KNOWN_SERVICES, DecodeHelper, HelperFailed, message_id_of,  # noqa: F401
                                                normalize, notification_row, sort_answers)
from stackwatch.stacktach.message import AmqpMessage
from stackwatch.stacktach.notification import MalformedNotification, Notification, decode

log = logging.getLogger(__name__)

HELPER_MIN_BATCH = 200       # batches this big are decoded by the helper process, a chunk at a time
_FIRST_CHUNK = 50            # only waited for: small, so storing starts early
_CHUNK = 150
_RESTART_AFTER = 30.0        # seconds before starting a helper again after one failed


def notifications_of(rows) -> list[Notification]:
    """Stored rows back into Notifications: the raw body is kept, so decoding it again is exact (a row
    that no longer decodes, which the sink would have dead-lettered, is skipped)."""
    out = []
    for r in rows:
        try:
            out.append(decode(r.raw.encode("utf-8", "backslashreplace"), exchange=r.service, cell=r.deployment))
        except MalformedNotification:
            continue
    return out


class NotificationIngest:
    def __init__(self, store, max_bytes: int = 1 << 20, use_helper: bool = True):
        self.store = store
        self.max_bytes = max_bytes
        self.use_helper = use_helper
        self._lock = threading.Lock()
        self._helper_lock = threading.Lock()     # one batch at a time talks to the helper
        # the helper process: the store's own writer when it has one (SQLite: decodes and stores), else a
        # decode helper whose rows are stored here (Elasticsearch)
        self._writes_itself = callable(getattr(store, "writer", None))
        self._helper = None
        self._helper_failed_at = -_RESTART_AFTER
        self.received = 0
        self.stored = 0
        self.duplicates = 0
        self.dead = Counter()   # reason -> count
        self.totals = Counter()  # (service, name) -> stored
        self.errors = Counter()  # (service, host, name) -> stored error notifications

    def sink(self, batch: list[AmqpMessage]) -> None:
        if self._writes_itself and self._big(batch) and self._helper_lock.acquire(blocking=False):
            try:
                if self._by_writer(batch):
                    return
            finally:
                self._helper_lock.release()
        dead: list[DeadLetter] = []
        kinds: list[tuple] = []
        # the rows are decoded while the store inserts them; the dead letters are complete once it has
        inserted = self.store.add(self._rows(batch, dead, kinds), dead)  # raises: no ack, the broker redelivers
        self._count(len(batch), inserted, kinds, [d.reason for d in dead])

    def _big(self, batch: list[AmqpMessage]) -> bool:
        return self.use_helper and len(batch) >= HELPER_MIN_BATCH

    def _by_writer(self, batch: list[AmqpMessage]) -> bool:
        """The store's own writer process decodes and stores the batch; False if it could not (then the
        caller does both here: a batch it committed before failing is then all duplicates)."""
        helper = self._start_helper()
        if helper is None:
            return False
        try:
            helper.send([(m.body, m.message_id, m.exchange, m.routing_key, m.deployment, m.received_at)
                         for m in batch])
            inserted, kinds, dead = helper.receive()
        except HelperFailed as exc:
            self._helper_lost(exc)
            return False
        self._count(len(batch), inserted, kinds, dead)
        return True

    def _count(self, received: int, inserted: int, kinds: list, dead_reasons: list[str]) -> None:
        with self._lock:
            self.received += received
            self.stored += inserted
            self.duplicates += len(kinds) - inserted
            for reason in dead_reasons:
                self.dead[reason] += 1
            if inserted == len(kinds):  # duplicates would count twice; totals are approximate only then
                for service, host, name, is_error in kinds:
                    self.totals[(service, name)] += 1
                    if is_error:
                        self.errors[(service, host, name)] += 1

    def _rows(self, batch: list[AmqpMessage], dead: list[DeadLetter], kinds: list[tuple]) -> Iterator[tuple]:
        return sort_answers((((m.received_at, m.deployment, m.exchange, m.routing_key, m.body), answer)
                             for m, answer in self._answers(batch)), dead, kinds)

    def _answers(self, batch: list[AmqpMessage]) -> Iterator[tuple[AmqpMessage, tuple]]:
        """Each message with its `normalize` answer: a big batch from the helper process, a chunk ahead."""
        if not self._writes_itself and self._big(batch) and self._helper_lock.acquire(blocking=False):
            try:
                helper = self._start_helper()
                if helper is not None:
                    yield from self._from_helper(helper, batch)
                    return
            finally:
                self._helper_lock.release()
        for m in batch:
            yield m, normalize(_item(m), self.max_bytes)

    def _from_helper(self, helper: DecodeHelper, batch: list[AmqpMessage]) -> Iterator[tuple[AmqpMessage, tuple]]:
        chunks = [batch[:_FIRST_CHUNK]] + [batch[i:i + _CHUNK] for i in range(_FIRST_CHUNK, len(batch), _CHUNK)]
        sent = 0

        def send_until(n: int) -> None:
            nonlocal sent
            while sent < min(n, len(chunks)):
                helper.send([_item(m) for m in chunks[sent]])
                sent += 1
        try:
            for i, chunk in enumerate(chunks):
                try:
                    send_until(i + helper.ahead)
                    answers = helper.receive()
                    send_until(i + helper.ahead + 1)
                except HelperFailed as exc:
                    self._helper_lost(exc)
                    for m in (m for c in chunks[i:] for m in c):                 # the rest, here
                        yield m, normalize(_item(m), self.max_bytes)
                    return
                yield from zip(chunk, answers)
        finally:
            if helper is self._helper and helper.pending and not helper.drain():   # the store stopped reading
                self._helper_lost(HelperFailed("no answer after a failed write"))

    def _start_helper(self):
        if self._helper is None or not self._helper.alive():
            if time.monotonic() - self._helper_failed_at < _RESTART_AFTER:
                return None
            try:
                self._helper = (self.store.writer(self.max_bytes) if self._writes_itself
                                else DecodeHelper(self.max_bytes))
            except Exception as exc:                  # no processes here: decode in this one
                self._helper_lost(HelperFailed(f"cannot start: {exc}"))
                return None
        return self._helper

    def _helper_lost(self, exc: Exception) -> None:
        log.warning("notification helper process failed, decoding and storing in this process for now: %s", exc)
        if self._helper is not None:
            self._helper.close()
            self._helper = None
        self._helper_failed_at = time.monotonic()

    def close(self) -> None:
        """Stop the helper process (it also stops by itself when this process exits)."""
        with self._helper_lock:
            if self._helper is not None:
                self._helper.close()
                self._helper = None


def _item(m: AmqpMessage) -> tuple:
    return (m.body, m.message_id, m.exchange, m.deployment, m.received_at)
