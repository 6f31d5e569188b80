"""Syslog receivers (adapter): TCP (RFC 6587), UDP (RFC 5426), TLS (RFC 5425) and RELP (rsyslog's
omrelp), plain or over TLS (omrelp tls="on": the TLS handshake right after connecting), feeding `RawMessage` batches to a `Sink` and acknowledging RELP frames only once stored.

Threads: one background thread runs an asyncio event loop for every socket (thousands of idle
forwarder connections cost a coroutine each, not a thread each), and one more worker thread runs
the sink, which blocks on a durable write; one worker keeps batches in arrival order and the sink
single-threaded. Everything received goes through one queue, bounded in messages, to a batcher that
hands the sink up to `batch_max` messages (and at most one read more), or what came within `batch_wait`
of the first one. The queue's unit is what one read of a connection framed (RELP: its syslog frames), so
the per-message cost on the event loop is the framing alone.

Back-pressure: a connection waits while the queue is full, so it stops reading, its kernel buffer fills
and the sender blocks (rsyslog then holds messages in its disk-assisted queue). UDP cannot wait: a
datagram arriving at a full queue is dropped and counted. Memory stays bounded: the queue (in messages,
plus one read per connection), one 64 KiB message per stream, and at most `RELP_PENDING` groups of
unanswered RELP frames per connection (their data is in the queue or in the batch being stored).

Refusals (the sink raises): RELP frames are not answered and their connection is closed (no `500`:
librelp forgets a frame answered with an error, but resends every unanswered one after reconnecting);
frames from the same connection still queued are skipped, so nothing is stored twice. TCP, TLS and UDP
have no acknowledgement, so their messages are offered again with a growing pause, holding the
queue (and so the senders) back until the store is back or the receiver stops.

`stop()` closes the listeners; stops reading RELP (unanswered frames get resent); sends a FIN to TCP
peers and reads what they still send for `stop_grace` seconds; stores what was read; answers the RELP
frames stored; sends RELP's `serverclose`; and closes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
import threading
import time

from stackwatch.rsyslog.framing import MAX_MESSAGE, SyslogFramer, datagram_message
from stackwatch.rsyslog.message import RawMessage, Sink
from stackwatch.rsyslog.connection import Conn, Item, peer_name
from stackwatch.rsyslog.relp_session import serve_relp

log = logging.getLogger(__name__)

class SyslogReceiver:
    """`start()`, `stop()`; `bound_ports` ({"tcp": 5140, ...}, the real ones when 0 was asked); counters."""

    def __init__(self, sink: Sink, tcp: tuple[str, int] | None = None, udp: tuple[str, int] | None = None,
                 tls: tuple[str, int, ssl.SSLContext] | None = None, relp: tuple[str, int] | None = None,
                 relp_tls: tuple[str, int, ssl.SSLContext] | None = None,
                 batch_max: int = 1000, batch_wait: float = 0.05, max_message: int = MAX_MESSAGE,
                 stop_grace: float = 1.0, stop_timeout: float = 10.0, overlap: int = 1):
        self._sink = sink
        self._listen = {"tcp": tcp, "udp": udp, "tls": tls, "relp": relp, "relp_tls": relp_tls}
        self.batch_max, self.batch_wait, self.max_message = batch_max, batch_wait, max_message
        self.stop_grace, self.stop_timeout = stop_grace, stop_timeout
        self.bound_ports: dict[str, int] = {}
        self.received = self.stored = self.refused = self.dropped = 0
        self.framing_errors = self.oversized = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # `overlap` batches may be in the sink at once (each in its own worker thread): a sink that parses
        # and then stores (the log ingest) parses the next batch while it stores one. 1: one at a time, in order.
        self.overlap = max(1, overlap)
        self._executor = concurrent.futures.ThreadPoolExecutor(self.overlap, thread_name_prefix="stackwatch-sink")
        self._servers: list[asyncio.AbstractServer] = []
        self._udp: asyncio.DatagramTransport | None = None
        self.conns: set[Conn] = set()                # open connections (RELP sessions add theirs too)
        self.stopping = False

    # -- public, called from any thread ----------------------------------------------------------
    def counters(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in
                ("received", "stored", "refused", "dropped", "framing_errors", "oversized")}

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="stackwatch-syslog", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._startup(), self._loop).result(timeout=30)
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._executor.shutdown(wait=False)
            raise
        log.info("syslog receiver listening on %s", self.bound_ports)

    def stop(self) -> None:
        if self._loop is None or not self._thread or not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(self.stop_timeout + 5)
        except Exception:
            log.warning("syslog receiver did not stop cleanly", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._executor.shutdown(wait=False)

    def __enter__(self) -> "SyslogReceiver":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- event loop thread -------------------------------------------------------------------------
    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            tasks = asyncio.all_tasks(loop)
            for t in tasks:
                t.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        finally:
            loop.close()

    async def _startup(self) -> None:
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        # messages held (queued, or in the sink) before readers wait: a batch more than the sink may hold
        self._limit = max((self.overlap + 1) * self.batch_max, 64)
        self._queued = 0                                 # messages queued or in batches being stored
        self._waiting = 0                                # messages queued or being batched, not yet stored
        self._slots = asyncio.Semaphore(self.overlap)
        self._storing: set[asyncio.Task] = set()
        self._room = asyncio.Event()
        self._full = asyncio.Event()
        self._flusher = asyncio.create_task(self._flush_loop())
        for name, cb in (("tcp", self._serve_tcp), ("tls", self._serve_tls), ("relp", self._serve_relp),
                         ("relp_tls", self._serve_relp_tls)):
            spec = self._listen[name]
            if spec:
                server = await asyncio.start_server(cb, spec[0], spec[1], ssl=spec[2] if len(spec) > 2 else None,
                                                    limit=self.max_message, reuse_address=True)
                self._servers.append(server)
                self.bound_ports[name] = server.sockets[0].getsockname()[1]
        if self._listen["udp"]:
            self._udp, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                lambda: _Datagrams(self), local_addr=self._listen["udp"])
            self.bound_ports["udp"] = self._udp.get_extra_info("sockname")[1]

    async def put(self, item: Item) -> None:
        """Queue what one read brought, waiting while the queue is full (back-pressure on that connection)."""
        while self._queued >= self._limit:
            self._room.clear()
            await self._room.wait()
        self._enqueue(item)

    def _put_nowait(self, item: Item) -> None:
        if self._queued >= self._limit:
            self.dropped += len(item.msgs)
            return
        self._enqueue(item)

    def _enqueue(self, item: Item) -> None:
        self._queue.put_nowait(item)
        self._queued += len(item.msgs)
        self._waiting += len(item.msgs)
        if self._waiting >= self.batch_max:
            self._full.set()

    async def _flush_loop(self) -> None:
        queue, loop = self._queue, asyncio.get_running_loop()
        while True:
            await self._slots.acquire()                       # a sink worker is free
            batch = [await queue.get()]
            if self._waiting < self.batch_max and not self.stopping:
                self._full.clear()
                try:
                    await asyncio.wait_for(self._full.wait(), self.batch_wait)
                except asyncio.TimeoutError:
                    pass
            n = len(batch[0].msgs)
            while n < self.batch_max and not queue.empty():
                item = queue.get_nowait()
                batch.append(item)
                n += len(item.msgs)
            self._waiting -= n
            task = asyncio.create_task(self._store_batch(batch, n, loop))
            self._storing.add(task)
            task.add_done_callback(self._storing.discard)

    async def _store_batch(self, batch: list[Item], n: int, loop: asyncio.AbstractEventLoop) -> None:
        try:
            await self._store(batch, loop)
        finally:
            self._queued -= n
            self._room.set()
            for _ in batch:
                self._queue.task_done()
            self._slots.release()

    async def _store(self, batch: list[Item], loop: asyncio.AbstractEventLoop) -> None:
        pause = 0.1
        live = []
        for it in batch:
            if it.conn is not None and it.conn.closed:        # cannot be answered: the sender resends it
                if it.stored is not None:
                    it.stored.cancel()
            else:
                live.append(it)
        while live:
            msgs = [m for it in live for m in it.msgs]
            try:
                await loop.run_in_executor(self._executor, self._sink, msgs)
            except Exception as exc:
                self.refused += len(msgs)
                log.warning("sink refused %d messages: %s", len(msgs), exc)
                for it in live:
                    if it.stored is not None:
                        it.stored.cancel()                    # RELP: no answer, the sender resends
                live = [it for it in live if it.stored is None]
                if live and self.stopping:
                    lost = sum(len(it.msgs) for it in live)
                    self.dropped += lost
                    log.error("stopping: %d TCP/UDP messages the sink refused are lost", lost)
                    return
                if live:
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 5.0)
                continue
            self.stored += len(msgs)
            for it in live:
                if it.stored is not None and not it.stored.done():
                    it.stored.set_result(None)
            return

    # -- TCP and TLS ---------------------------------------------------------------------------
    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._serve_stream(reader, writer, "tcp")

    async def _serve_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._serve_stream(reader, writer, "tls")

    async def _serve_stream(self, reader, writer, transport: str) -> None:
        if self.stopping:
            writer.close()
            return
        conn = Conn(peer_name(writer.get_extra_info("peername")), transport, writer, asyncio.current_task())
        self.conns.add(conn)
        framer = SyslogFramer(self, self.max_message)
        try:
            while True:
                data = await reader.read(65536)
                frames = framer.feed(data) if data else framer.finish()
                if frames:
                    now, peer = time.time(), conn.peer
                    self.received += len(frames)
                    await self.put(Item([RawMessage(frame, now, peer, transport) for frame in frames]))
                if not data:
                    break
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            log.debug("%s connection from %s ended: %s", transport, conn.peer, exc)
        except asyncio.CancelledError:
            pass                       # stopping; asyncio's stream callback must not see a cancelled task
        finally:
            self.conns.discard(conn)
            writer.close()

    # -- RELP ----------------------------------------------------------------------------------
    async def _serve_relp_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await serve_relp(self, reader, writer, "relp-tls")

    async def _serve_relp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await serve_relp(self, reader, writer, "relp")

    # -- shutdown ------------------------------------------------------------------------------
    async def _shutdown(self) -> None:
        self.stopping = True
        self._full.set()
        for server in self._servers:
            server.close()
        if self._udp is not None:
            self._udp.close()
        streams = [c for c in self.conns if c.transport != "relp" and c.reader_task]
        for conn in streams:
            if conn.writer.can_write_eof():
                conn.writer.write_eof()                       # a FIN: rsyslog stops sending here
        for conn in self.conns:
            if conn.transport == "relp" and conn.reader_task:
                conn.reader_task.cancel()
        if streams:
            await asyncio.wait([c.reader_task for c in streams], timeout=self.stop_grace)
            for conn in streams:
                conn.reader_task.cancel()
        try:
            await asyncio.wait_for(self._queue.join(), self.stop_timeout)
        except asyncio.TimeoutError:
            log.error("stopping: %d messages not stored in %.0fs", self._queue.qsize(), self.stop_timeout)
        tasks = [c.reader_task for c in self.conns if c.reader_task]
        if tasks:
            await asyncio.wait(tasks, timeout=self.stop_timeout)
        self._flusher.cancel()
        while not self._queue.empty():                        # not stored in time: never answered
            item = self._queue.get_nowait()
            if item.stored is not None:
                item.stored.cancel()
        for conn in list(self.conns):
            conn.writer.close()


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, receiver: SyslogReceiver):
        self.r = receiver

    def datagram_received(self, data: bytes, addr) -> None:
        frame = datagram_message(data, self.r, self.r.max_message)
        if frame is not None:
            self.r.received += 1
            self.r._put_nowait(Item([RawMessage(frame, time.time(), peer_name(addr), "udp")]))

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP receive error: %s", exc)
