"""The log ingest pipeline: raw messages from every input (syslog receivers, file tailers, `logs ingest`)
are parsed into records, stored as events in one durable write, and then counted (metrics from logs)
and matched (log pattern rules). `sink` is the `message.Sink` the inputs call: it returns only after the
store has the batch, so a receiver acknowledges only what is stored.

A big batch of syslog messages goes elsewhere to be parsed:
- when the store has writer processes (`events.writer`: the embedded store), the whole batch goes to an idle
  one (`writers`), which parses it and stores it in one transaction with the batch's token; this process
  waits for its answer (the receiver gives it two batches at once, so two writers work). A writer that
  fails is stopped; if the token is in the store the batch was committed, else it is stored here.
- otherwise (Elasticsearch) the parse helper processes (`parseworker`) parse it a chunk at a time into event
  values, while this process stores the chunk before.
Small batches, file lines (folded per file across the batch) and anything the helpers cannot do are parsed
and stored here (as the store's own rows when it makes them: `add_rows`, `row_values`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from stackwatch.rsyslog.logevent import event_values, record_to_event
from stackwatch.rsyslog.logmetrics import LogMetrics
from stackwatch.rsyslog.message import RawMessage
from stackwatch.rsyslog.parse import parse_lines, parse_syslog_message
from stackwatch.rsyslog.parseworker import ParsePool, WorkerFailed, chunks, merge_metrics
from stackwatch.rsyslog.record import LogRecord
from stackwatch.rsyslog.timestamps import Clock
from stackwatch.rsyslog.writers import Writers
from stackwatch.store.interfaces import Event

__all__ = ["LogIngest", "event_values", "record_to_event"]

log = logging.getLogger(__name__)

#: Batches with at least this many syslog messages are parsed by the helper process.
WORKER_MIN_BATCH = 400
_RESTART_AFTER = 30.0        # seconds before starting a helper again after one failed
_WORKER_WAIT = 120.0         # seconds a big batch waits for the helper before being parsed here
_PART = 256                  # records parsed here handed to the store at a time


@dataclass
class _Parsed:
    """What a batch's parsing produced besides its events: records (parsed here) and metric deltas
    (counted by the helper), both applied once the batch is stored."""

    records: list[tuple[LogRecord, float]] = field(default_factory=list)   # (record, received_at), parsed here
    deltas: list[tuple] = field(default_factory=list)                      # the helper's metric counts
    watched: list[tuple[LogRecord, float]] = field(default_factory=list)   # the helper's records, for logwatch
    count: int = 0


class LogIngest:
    def __init__(self, events, hostname: str, facility_services: dict[int, str] | None = None,
                 timezone: str = "UTC", logwatch=None, metric_store=None,
                 clock: Callable[[], float] = time.time, helpers: int = 1):
        self.events = events
        self.hostname = hostname
        self.facility_services = facility_services or {}
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.logwatch = logwatch
        self.metric_store = metric_store
        self.clock = clock
        self.helpers = helpers                        # parse helper processes for big batches
        self.metrics = LogMetrics()
        # the store's own rows, made when parsing here (see the module docstring); else Events
        self._row_values = getattr(events, "row_values", None) if hasattr(events, "add_rows") else None
        self._syslog_clock = Clock(self.tz)
        self._peer_hosts: dict[str, str] = {}     # "10.0.0.5:41234" -> "10.0.0.5"
        self._lock = threading.Lock()
        self._worker: ParsePool | None = None        # the helper processes
        self._worker_lock = threading.Lock()          # one batch at a time talks to the helpers
        self._worker_failed_at = float("-inf")
        # the store's own writer processes, when it has them (the embedded store): parse and store a batch each
        self._writers = (Writers(lambda: events.writer(timezone, self.facility_services), helpers, _RESTART_AFTER)
                         if callable(getattr(events, "writer", None)) else None)
        self.received = 0
        self.stored = 0
        self.refused = 0

    def _peer_host(self, peer: str) -> str:
        hosts = self._peer_hosts
        host = hosts.get(peer)
        if host is None:
            if len(hosts) >= 4096:
                hosts.clear()
            host = hosts[peer] = peer.rsplit(":", 1)[0].strip("[]")
        return host

    def parse(self, batch: Iterable[RawMessage]) -> list[tuple[LogRecord, RawMessage]]:
        """Records of a batch, each with the message it came from. File lines of one file fold
        tracebacks and continuation lines within the batch (a tailer delivers whole writes together)."""
        out: list[tuple[LogRecord, RawMessage]] = []
        files: dict[str, list[RawMessage]] = defaultdict(list)
        peer_host = self._peer_host
        clock, tz, services = self._syslog_clock, self.tz, self.facility_services
        for m in batch:
            if m.transport == "file":
                files[m.peer].append(m)
                continue
            out.append((parse_syslog_message(m.data, m.received_at, peer_host(m.peer), tz, clock=clock,
                                             facility_services=services), m))
        for path, msgs in files.items():
            now = msgs[-1].received_at
            for record in parse_lines([m.data for m in msgs], syslog=False, source=path, tz=self.tz,
                                      host=self.hostname, now=now, facility_services=self.facility_services):
                out.append((record, msgs[-1]))
        return out

    def sink(self, batch: list[RawMessage]) -> None:
        """Parse and store `batch` durably, then count and match it; raises if the store refuses."""
        if not batch:
            return
        parsed = _Parsed()
        if not self._by_writer(batch, parsed):
            parts = self._parts(batch, parsed)
            try:
                if self._row_values is not None:
                    self.events.add_rows(parts)
                else:
                    self.events.add(Event(*v) for part in parts for v in part)
            finally:
                parts.close()                         # answers the helper still owes are read now
        with self._lock:
            self.received += len(batch)
            self.stored += parsed.count
            observe = self.metrics.observe
            for r, _ in parsed.records:
                observe(r)
            for delta in parsed.deltas:
                merge_metrics(self.metrics, delta)
        if self.logwatch is not None and self.logwatch.active:
            for r, received_at in parsed.watched + parsed.records:
                self.logwatch.observe(r, received_at)

    def _request(self, msgs: list[RawMessage]) -> list[tuple]:
        """Messages as a helper process gets them: (data, received_at, peer host, transport)."""
        peer_host = self._peer_host
        return [(m.data, m.received_at, peer_host(m.peer), m.transport) for m in msgs]

    def _by_writer(self, batch: list[RawMessage], parsed: _Parsed) -> bool:
        """A big batch of syslog messages, parsed and stored by one of the store's writer processes; False
        if it is to be done here (small, file lines, no writer to be had, or the writer failed before
        committing it)."""
        if (self._writers is None or len(batch) < WORKER_MIN_BATCH
                or any(m.transport == "file" for m in batch)):
            return False
        writer = self._writers.take(_WORKER_WAIT)
        if writer is None:
            return False
        want_records = self.logwatch is not None and self.logwatch.active
        token = int.from_bytes(os.urandom(8), "big") >> 1
        try:
            writer.send((self._request(batch), want_records, token))
            rows, delta, records = writer.receive()
        except WorkerFailed as exc:
            self._writers.lost(writer, exc)          # stopped: it commits nothing after this
            if not self.events.has_batch(token):
                return False
            # committed, only the answer was lost: count and watch it from a parse here
            parsed.records.extend((r, m.received_at) for r, m in self.parse(batch))
            parsed.count += len(batch)
            return True
        self._writers.give_back(writer)
        self.events.written()
        parsed.count += rows
        parsed.deltas.append(delta)
        if records is not None:
            parsed.watched.extend(zip((LogRecord(*t) for t in records), (m.received_at for m in batch)))
        return True

    def _parts(self, batch: list[RawMessage], parsed: _Parsed) -> Iterator[list]:
        """The batch's events a part at a time, produced as the store reads them: lists of event values,
        or flat lists of the store's row values (`_row_values`). The syslog messages of a big batch are
        parsed by the parse helpers, for a store without writers (whose events are Events: a store that makes
        its own rows has writers, and a batch they could not take is parsed here)."""
        syslog = [m for m in batch if m.transport != "file"]
        # A concurrent sink call (the receiver overlaps two batches) waits for the helper: that call is done
        # parsing with it before it stores, so this one's parse runs beside that store.
        if (self._writers is None and self._row_values is None and len(syslog) >= WORKER_MIN_BATCH
                and self._worker_lock.acquire(timeout=_WORKER_WAIT)):
            try:
                worker = self._helper()
                if worker is not None:
                    yield from self._from_worker(worker, syslog, parsed)
                    batch = [m for m in batch if m.transport == "file"]
            finally:
                self._worker_lock.release()
        yield from self._parsed_here(self.parse(batch), parsed)

    def _parsed_here(self, pairs: Iterable[tuple[LogRecord, RawMessage]], parsed: _Parsed) -> Iterator[list]:
        encode = self._row_values
        part: list = []
        add = part.extend if encode is not None else part.append
        for r, m in pairs:
            parsed.records.append((r, m.received_at))
            parsed.count += 1
            v = event_values(r, m.received_at, m.transport)
            add(encode(*v) if encode is not None else v)
            if parsed.count % _PART == 0:
                yield part
                part = []
                add = part.extend if encode is not None else part.append
        if part:
            yield part

    def _from_worker(self, worker: ParsePool, msgs: list[RawMessage], parsed: _Parsed) -> Iterator[list]:
        """Chunk i's values go to the store while the helper parses the next `worker.ahead` chunks."""
        want_records = self.logwatch is not None and self.logwatch.active
        parts = chunks(msgs)
        sent = 0

        def send_until(n: int) -> None:
            nonlocal sent
            while sent < min(n, len(parts)):
                worker.send(self._request(parts[sent]), want_records)
                sent += 1
        try:
            for i, chunk in enumerate(parts):
                try:
                    send_until(i + worker.ahead)
                    values, delta, records = worker.receive()
                    send_until(i + worker.ahead + 1)
                except WorkerFailed as exc:
                    self._worker_lost(exc)
                    yield from self._parsed_here(self.parse([m for c in parts[i:] for m in c]), parsed)
                    return
                parsed.deltas.append(delta)
                parsed.count += len(chunk)
                if records is not None:
                    parsed.watched.extend(zip(records, (m.received_at for m in chunk)))
                yield values
        finally:
            if worker is self._worker and worker.pending and not worker.drain():   # the store stopped reading
                self._worker_lost(WorkerFailed("no answer after a failed write"))

    def _helper(self) -> ParsePool | None:
        if self._worker is None or not self._worker.alive():
            if time.monotonic() - self._worker_failed_at < _RESTART_AFTER:
                return None
            try:
                self._worker = ParsePool(self.helpers, self.timezone, self.facility_services)
            except Exception as exc:                  # no processes here: parse in this one
                self._worker_lost(WorkerFailed(f"cannot start: {exc}"))
                return None
        return self._worker

    def _worker_lost(self, exc: Exception) -> None:
        log.warning("log parse helper process failed, parsing in this process for now: %s", exc)
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        self._worker_failed_at = time.monotonic()

    def close(self) -> None:
        """Stop the helper processes (they also stop by themselves when this process exits)."""
        if self._writers is not None:
            self._writers.close()
        with self._worker_lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None

    def store_records(self, records: Iterable[LogRecord], received_at: float, transport: str = "file") -> int:
        """Store already parsed records (used by `stackwatch logs ingest`)."""
        records = list(records)
        n = self.events.add(record_to_event(r, received_at, transport) for r in records)
        with self._lock:
            for r in records:
                self.metrics.observe(r)
            self.stored += n
        return n

    def flush_metrics(self, now: float) -> int:
        """Write the log-derived totals and latency quantiles into the trend store."""
        if self.metric_store is None:
            return 0
        with self._lock:
            samples = self.metrics.samples(now)
        return self.metric_store.write(samples)
