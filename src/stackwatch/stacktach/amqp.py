"""Consume OpenStack notifications from RabbitMQ into a `NotificationSink` (adapter; the only module importing pika).

Topology, as OpenStack has it: each service publishes on its control exchange (`nova`, `glance`, `neutron`,
`keystone`, `openstack` for cinder...), a topic exchange that oslo.messaging declares with
`durable = amqp_durable_queues` (default False). Declaring an existing exchange with another durability
fails with 406 PRECONDITION_FAILED, so each exchange is declared passively first and, only when missing,
created the way oslo.messaging would create it (topic, non-durable, not auto-delete). Our own queue is
durable, with optional `x-max-length` / `x-message-ttl` so a stopped stackwatch cannot fill the broker,
bound to every (exchange, routing key) pair. Several consumers on one queue are competing consumers.
A non-durable exchange and its bindings vanish when the broker restarts; the setup is run again on every
(re)connection, so they come back with us.

Ack policy (the sink contract, `message.py`): `basic_qos(prefetch)` first; deliveries are gathered into
batches (`batch_max` messages, or what arrived within `batch_wait` seconds of the first), the sink is
called, and only once it returns is the batch acknowledged with one `basic_ack(last_tag, multiple=True)`.
With `pipeline` (the default) the sink runs on a thread of the consumer's own, one batch at a time, while
this thread goes on receiving the next batch (up to `prefetch` unacknowledged); the ack is still sent from
this thread, after the sink returned, and a connection lost meanwhile waits for the sink before reconnecting.
A sink that raises refuses the batch: everything delivered and not acknowledged is requeued with
`basic_nack(last, multiple=True, requeue=True)` and the consumer backs off (exponential, capped) before
the next try. Nothing is ever acknowledged before it is stored, so a crash or `kill -9` costs redeliveries
(the sink must be idempotent, e.g. INSERT OR IGNORE on the message id), never a loss. `stop()` drains what
was already delivered through the sink once, then closes; what the sink did not take is not acknowledged
and the broker requeues it.

Errors (pika's taxonomy): connection-level failures (`AMQPConnectionError`: refused, lost stream, missed
heartbeats, 320 CONNECTION_FORCED...) reconnect, cycling through `urls` (the nodes of a cluster): the next
URL is tried at once, a whole round that failed waits an exponential, capped, jittered delay. The broker
refusing our credentials or vhost (403 ACCESS_REFUSED, 530 NOT_ALLOWED) raises `AccessRefused`, and a
declaration the broker rejects as inequivalent (406 PRECONDITION_FAILED: our queue exists with other
arguments) raises `TopologyError`: retrying cannot fix either, an operator must. A 404 during setup (a
queue deleted while we declare and bind) is a reconnect. After setup, a channel the broker closes (e.g. 406 when an ack
arrives after `consumer_timeout`) or a consumer it cancels (queue deleted) is a reconnect.

Why `BlockingConnection` rather than `SelectConnection`: one consumer is one thread with one connection,
and the sink is synchronous anyway (it must return before we ack), so a callback state machine would buy
nothing but complexity. `process_data_events(time_limit)` gives the batch window; pika is not thread-safe,
so every pika call happens on the consumer's thread, and `stop()` only sets an event and wakes the loop
with `add_callback_threadsafe`. The cost: heartbeats are answered only between batches, so a sink call
longer than the heartbeat timeout (60 s by default) drops the connection (and redelivers the batch).
"""

from __future__ import annotations

import logging
from queue import SimpleQueue
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Sequence

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.exceptions import (AMQPChannelError, AMQPConnectionError, AuthenticationError, ChannelClosedByBroker,
                             ConnectionClosedByBroker, ProbableAccessDeniedError, ProbableAuthenticationError)

from .message import AmqpMessage, NotificationSink

log = logging.getLogger(__name__)

_REFUSED_CODES = {403, 530}          # ACCESS_REFUSED, NOT_ALLOWED (vhost)
_IDLE_POLL = 0.5                     # seconds between stop checks when nothing is buffered


class AccessRefused(RuntimeError):
    """The broker refused our credentials or permissions: fix the config, retrying will not help."""


class TopologyError(RuntimeError):
    """The broker rejected a declaration (e.g. our queue exists with other arguments)."""


class _ConsumerGone(AMQPChannelError):
    """The broker cancelled our consumer (queue deleted, node lost): reconnect and declare again."""


@dataclass
class _Inflight:
    batch: list[AmqpMessage]
    last_tag: int
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class ConsumerStats:
    delivered: int = 0     # deliveries received (redeliveries count again)
    acked: int = 0         # messages acknowledged after the sink stored them
    batches: int = 0       # batches the sink took
    refused: int = 0       # batches the sink refused (requeued)
    reconnects: int = 0    # connection attempts after a failure


def _sink_loop(jobs: SimpleQueue) -> None:
    while (job := jobs.get()) is not None:
        job()


def redact(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class NotificationConsumer:
    """Consumes `queue` (bound to `bindings`) on the first reachable of `urls` into `sink`, in batches."""

    def __init__(self, deployment: str, urls: Sequence[str], bindings: Sequence[tuple[str, str]], queue: str,
                 sink: NotificationSink, *, prefetch: int = 1000, batch_max: int = 500, batch_wait: float = 0.2,
                 queue_max_length: int | None = None, queue_ttl: float | None = None,
                 exchange_type: str = "topic", backoff_base: float = 1.0, backoff_max: float = 30.0,
                 pipeline: bool = True):
        if not urls:
            raise ValueError("at least one AMQP URL is needed")
        if batch_max < 1 or (prefetch and prefetch < batch_max):
            raise ValueError(f"need 1 <= batch_max <= prefetch (or prefetch 0), got {batch_max=} {prefetch=}")
        self.deployment, self.urls, self.queue, self.sink = deployment, list(urls), queue, sink
        self.bindings = [(exchange, key) for exchange, key in bindings]
        self.prefetch, self.batch_max, self.batch_wait = prefetch, batch_max, batch_wait
        self.exchange_type, self.backoff_base, self.backoff_max = exchange_type, backoff_base, backoff_max
        self.pipeline = pipeline
        self._sink_thread: threading.Thread | None = None     # pipelined: one thread calling the sink
        self._sink_jobs: SimpleQueue = SimpleQueue()
        self.queue_arguments: dict[str, int] = {}
        if queue_max_length is not None:
            self.queue_arguments["x-max-length"] = int(queue_max_length)
        if queue_ttl is not None:
            self.queue_arguments["x-message-ttl"] = int(queue_ttl * 1000)      # seconds -> ms
        self.error: BaseException | None = None       # why a start()ed consumer ended on its own
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: BlockingConnection | None = None
        self._url_index = 0
        self._consuming = False
        self._delivered = self._acked = self._batches = self._refused = self._reconnects = 0

    @property
    def stats(self) -> ConsumerStats:
        return ConsumerStats(self._delivered, self._acked, self._batches, self._refused, self._reconnects)

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Run in a daemon thread; `stop()` ends it, `error` tells why it ended by itself."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("consumer already running")
        self._stopping.clear()
        self.error = None
        self._thread = threading.Thread(target=self._run_in_thread, name=f"amqp-{self.deployment}", daemon=True)
        self._thread.start()

    def _run_in_thread(self) -> None:
        try:
            self.run()
        except BaseException as exc:          # noqa: BLE001 - kept for the owner, logged here
            self.error = exc
            log.error("consumer %s stopped: %s", self.deployment, exc)
        finally:
            if self._sink_thread is not None:
                self._sink_jobs.put(None)                        # the sink thread ends
                self._sink_thread = None

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop consuming: what was delivered goes through the sink once more, nothing unstored is acked."""
        self._stopping.set()
        conn = self._conn
        if conn is not None:
            try:
                conn.add_callback_threadsafe(lambda: None)       # wake process_data_events now
            except Exception:                                    # noqa: BLE001 - already closing
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> None:
        """Consume until `stop()`; reconnects on its own; raises AccessRefused / TopologyError."""
        failures = 0
        while not self._stopping.is_set():
            url = self.urls[self._url_index]
            self._consuming = False
            try:
                self._session(url)
                return                                           # a clean stop
            except (ProbableAuthenticationError, ProbableAccessDeniedError, AuthenticationError) as exc:
                raise AccessRefused(f"{redact(url)}: broker refused access: {exc}") from exc
            except ConnectionClosedByBroker as exc:
                if exc.reply_code in _REFUSED_CODES:
                    raise AccessRefused(f"{redact(url)}: {exc.reply_code} {exc.reply_text}") from exc
                why = exc
            except (AMQPConnectionError, AMQPChannelError, OSError) as exc:
                why = exc
            finally:
                self._conn = None
            if self._stopping.is_set():
                return
            failures = 1 if self._consuming else failures + 1   # it worked: start afresh
            self._url_index = (self._url_index + 1) % len(self.urls)
            self._reconnects += 1
            delay = 0.0
            if failures % len(self.urls) == 0:                   # a whole round of URLs failed
                rounds = failures // len(self.urls)
                delay = min(self.backoff_max, self.backoff_base * 2 ** (rounds - 1)) * random.uniform(0.5, 1.0)
            log.warning("AMQP %s (%s) failed: %r; next %s in %.1fs", self.deployment, redact(url), why,
                        redact(self.urls[self._url_index]), delay)
            self._stopping.wait(delay)

    # -- one connection ---------------------------------------------------------------------------
    def _session(self, url: str) -> None:
        params = pika.URLParameters(url)
        params.client_properties = {"connection_name": f"stackwatch {self.deployment} {self.queue}"}
        conn = BlockingConnection(params)
        self._conn = conn
        try:
            if not self._stopping.is_set():      # stop() may have come while we were connecting
                self._consume(conn, self._setup(conn))
        finally:
            if conn.is_open:
                try:
                    conn.close()                 # unacknowledged deliveries go back to the queue
                except Exception:                # noqa: BLE001 - closing a broken connection
                    log.debug("closing AMQP connection failed", exc_info=True)

    def _channel(self, conn: BlockingConnection) -> BlockingChannel:
        ch = conn.channel()
        ch.basic_qos(prefetch_count=self.prefetch)              # first, before anything is delivered
        return ch

    def _setup(self, conn: BlockingConnection) -> BlockingChannel:
        ch = self._channel(conn)
        try:
            for exchange in dict.fromkeys(e for e, _ in self.bindings if e):
                ch = self._declare_exchange(conn, ch, exchange)
            ch.queue_declare(self.queue, durable=True, arguments=self.queue_arguments or None)
            for exchange, key in self.bindings:
                ch.queue_bind(self.queue, exchange, routing_key=key)
        except ChannelClosedByBroker as exc:
            if exc.reply_code in _REFUSED_CODES:
                raise AccessRefused(f"{self.deployment}: {exc.reply_code} {exc.reply_text}") from exc
            if exc.reply_code != 406:            # e.g. 404: the queue was deleted under us; declare again
                raise
            raise TopologyError(f"{self.deployment}: queue {self.queue!r} with arguments {self.queue_arguments}: "
                                f"{exc.reply_code} {exc.reply_text}") from exc
        log.info("AMQP %s: consuming %s (%s) bound to %s", self.deployment, self.queue,
                 self.queue_arguments or "no arguments", self.bindings)
        return ch

    def _declare_exchange(self, conn: BlockingConnection, ch: BlockingChannel, name: str) -> BlockingChannel:
        try:
            ch.exchange_declare(name, passive=True)
            return ch
        except ChannelClosedByBroker as exc:
            if exc.reply_code != 404:
                raise
        ch = self._channel(conn)                               # a failed declare closes the channel
        try:
            ch.exchange_declare(name, exchange_type=self.exchange_type, durable=False, auto_delete=False)
            log.info("created exchange %s (%s, non-durable, as oslo.messaging does)", name, self.exchange_type)
        except ChannelClosedByBroker as exc:
            if exc.reply_code != 406:
                raise
            ch = self._channel(conn)                           # a service created it its way meanwhile
            ch.exchange_declare(name, passive=True)
        return ch

    def _consume(self, conn: BlockingConnection, ch: BlockingChannel) -> None:
        buf: list[AmqpMessage] = []
        tags: list[int] = []
        deployment = self.deployment

        def on_delivery(_ch, method, props, body: bytes) -> None:
            buf.append(AmqpMessage(body, props.message_id, method.exchange, method.routing_key, time.time(),
                                   deployment, method.redelivered))
            tags.append(method.delivery_tag)
            self._delivered += 1

        ch.basic_consume(self.queue, on_delivery)
        self._consuming = True
        first_at: float | None = None
        refusals = 0
        inflight: _Inflight | None = None     # pipelined: the batch the sink thread is storing
        try:
            while not self._stopping.is_set():
                if inflight is not None and inflight.done.is_set():
                    ok, inflight = self._settle(ch, inflight, tags), None
                    if ok:
                        refusals = 0
                    else:
                        buf.clear()
                        tags.clear()
                        refusals += 1
                        self._pause(conn, refusals)
                        first_at = None
                        continue
                if inflight is not None:                           # woken when the sink returns
                    wait = _IDLE_POLL
                elif buf:
                    now = time.monotonic()
                    if first_at is None:
                        first_at = now
                    wait = first_at + self.batch_wait - now
                    if len(buf) >= self.batch_max or wait <= 0:
                        if self.pipeline:
                            n = min(len(buf), self.batch_max)
                            inflight = self._submit(conn, buf[:n], tags[n - 1])
                            del buf[:n]
                        elif self._flush(ch, buf, tags):
                            refusals = 0
                        else:
                            refusals += 1
                            self._pause(conn, refusals)
                        first_at = time.monotonic() if buf else None
                        continue
                else:
                    wait = _IDLE_POLL
                conn.process_data_events(time_limit=max(wait, 0.0))
                if not ch.consumer_tags:
                    raise _ConsumerGone(f"broker cancelled the consumer of {self.queue!r}")
            if inflight is not None:                               # stopping: settle what is being stored
                inflight.done.wait()
                ok, inflight = self._settle(ch, inflight, tags), None
                if not ok:
                    return
            while buf and self._flush(ch, buf, tags):              # drain on stop; a refusal requeues the rest
                pass
        finally:
            if inflight is not None:     # the connection failed: let the sink finish (unacked: redelivered)
                inflight.done.wait()

    def _submit(self, conn: BlockingConnection, batch: list[AmqpMessage], last_tag: int) -> "_Inflight":
        job = _Inflight(batch, last_tag)

        def store() -> None:
            try:
                self.sink(batch)
            except BaseException as exc:       # noqa: BLE001 - a refusal: settled on the consumer thread
                job.error = exc
            job.done.set()
            try:
                conn.add_callback_threadsafe(lambda: None)       # wake process_data_events
            except Exception:                                    # noqa: BLE001 - connection closing
                pass
        if self._sink_thread is None or not self._sink_thread.is_alive():
            self._sink_jobs = SimpleQueue()
            self._sink_thread = threading.Thread(target=_sink_loop, args=(self._sink_jobs,), daemon=True,
                                                 name=f"sink-{self.deployment}")
            self._sink_thread.start()
        self._sink_jobs.put(store)
        return job

    def _settle(self, ch: BlockingChannel, job: "_Inflight", tags: list[int]) -> bool:
        """Ack a stored batch (multiple, up to its last tag); nack everything delivered after a refusal."""
        n = len(job.batch)                     # its tags lead `tags`: later deliveries follow them
        if job.error is None:
            ch.basic_ack(delivery_tag=job.last_tag, multiple=True)
            del tags[:n]
            self._acked += len(job.batch)
            self._batches += 1
            return True
        log.warning("sink refused %d notifications of %s; requeueing %d", len(job.batch), self.deployment,
                    len(tags), exc_info=job.error)
        ch.basic_nack(delivery_tag=tags[-1], multiple=True, requeue=True)
        tags.clear()
        self._refused += 1
        return False

    def _flush(self, ch: BlockingChannel, buf: list[AmqpMessage], tags: list[int]) -> bool:
        n = min(len(buf), self.batch_max)
        try:
            self.sink(buf[:n])
        except Exception:                      # noqa: BLE001 - any refusal: requeue, never ack
            log.warning("sink refused %d notifications of %s; requeueing %d", n, self.deployment, len(buf),
                        exc_info=True)
            ch.basic_nack(delivery_tag=tags[-1], multiple=True, requeue=True)
            buf.clear()
            tags.clear()
            self._refused += 1
            return False
        ch.basic_ack(delivery_tag=tags[n - 1], multiple=True)
        del buf[:n], tags[:n]
        self._acked += n
        self._batches += 1
        return True

    def _pause(self, conn: BlockingConnection, refusals: int) -> None:
        """Back off after a refused batch, answering heartbeats and watching for stop()."""
        deadline = time.monotonic() + min(self.backoff_max, self.backoff_base * 2 ** (refusals - 1))
        while not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            conn.process_data_events(time_limit=min(left, _IDLE_POLL))
