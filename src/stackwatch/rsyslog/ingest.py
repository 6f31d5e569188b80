"""The log ingest pipeline: raw messages from every input (syslog receivers, file tailers, `logs ingest`)
are parsed into records, stored as events in one durable write, and then counted (metrics from logs)
and matched (log pattern rules). `sink` is the `message.Sink` the inputs call: it returns only after the
store has the batch, so a receiver acknowledges only what is stored.

A big batch of syslog messages is parsed by a helper process (`ParseWorker`) a chunk at a time, while
this process stores the chunk before: parsing and SQLite's work then run on two cores. Small batches, file
lines (folded per file across the batch) and anything the helper cannot do are parsed here.
"""

from __future__ import annotations

import fcntl
import gc
import json
import logging
import marshal
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from stackwatch.rsyslog.logmetrics import LogMetrics
from stackwatch.rsyslog.message import RawMessage
from stackwatch.rsyslog.parse import parse_lines, parse_syslog_message
from stackwatch.rsyslog.record import SEVERITY_NAMES, LogRecord
from stackwatch.rsyslog.timestamps import Clock
from stackwatch.store.interfaces import Event

log = logging.getLogger(__name__)

#: Batches with at least this many syslog messages are parsed by the helper process.
WORKER_MIN_BATCH = 400
# The helper parses chunk i+1 while this process stores chunk i; the first chunk is small, as this process
# can only wait for it.
_FIRST_CHUNK, _CHUNK = 100, 300
_CHUNK_BYTES = 128 * 1024    # a chunk's answer is ~2.5 times its messages: two of them fit in _PIPE_SIZE
_PIPE_SIZE = 1 << 20
_ANSWER_TIMEOUT = 60.0       # seconds the helper may take for a chunk before it is given up
_RESTART_AFTER = 30.0        # seconds before starting a helper again after one failed
_LEVELS = tuple(name.upper() for name in SEVERITY_NAMES)


def event_values(r: LogRecord, received_at: float, transport: str = "") -> tuple:
    """`Event(*event_values(...))`: a parsed record as the event store keeps it (ids as columns, the rest
    in `fields`, raw kept). Spelled out field by field: it runs once per log line."""
    f: dict = {}
    if r.pid is not None:
        f["pid"] = r.pid
    if r.logger:
        f["logger"] = r.logger
    if r.user_id:
        f["user_id"] = r.user_id
    if r.project_id:
        f["project_id"] = r.project_id
    if r.traceback:
        f["traceback"] = r.traceback
    if r.facility is not None:
        f["facility"] = r.facility
    if r.severity is not None:
        f["severity"] = r.severity
    f["parsed"] = r.parsed
    f["truncated"] = r.truncated
    if r.function:
        f["function"] = r.function
    if r.location:
        f["location"] = r.location
    if r.source:
        f["source"] = r.source
    if transport:
        f["transport"] = transport
    ts = r.timestamp
    if ts is None:
        f["time_from"] = "received"
        ts = received_at
    level = r.level
    if not level:
        sev = r.severity
        level = _LEVELS[sev] if sev is not None and 0 <= sev < len(_LEVELS) else ""
    return (ts, "log", r.message, r.host or "", r.service or "", r.program or "", level, r.request_id,
            r.instance_uuid, r.global_request_id, f, r.raw)


def record_to_event(r: LogRecord, received_at: float, transport: str = "") -> Event:
    """A parsed record as the event store keeps it: ids as columns, the rest in `fields`, raw kept."""
    return Event(*event_values(r, received_at, transport))


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
                 clock: Callable[[], float] = time.time):
        self.events = events
        self.hostname = hostname
        self.facility_services = facility_services or {}
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.logwatch = logwatch
        self.metric_store = metric_store
        self.clock = clock
        self.metrics = LogMetrics()
        self._syslog_clock = Clock(self.tz)
        self._peer_hosts: dict[str, str] = {}     # "10.0.0.5:41234" -> "10.0.0.5"
        self._lock = threading.Lock()
        self._worker: ParseWorker | None = None
        self._worker_lock = threading.Lock()          # one batch at a time talks to the helper
        self._worker_failed_at = float("-inf")
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
        events = self._events(batch, parsed)
        try:
            self.events.add(events)
        finally:
            events.close()                            # answers the helper still owes are read now
        with self._lock:
            self.received += len(batch)
            self.stored += parsed.count
            observe = self.metrics.observe
            for r, _ in parsed.records:
                observe(r)
            for delta in parsed.deltas:
                _merge_metrics(self.metrics, delta)
        if self.logwatch is not None and self.logwatch.active:
            for r, received_at in parsed.watched + parsed.records:
                self.logwatch.observe(r, received_at)

    def _events(self, batch: list[RawMessage], parsed: _Parsed) -> Iterator[Event]:
        """The batch's events, produced as the store reads them; the syslog messages of a big batch parsed
        by the helper process."""
        syslog = [m for m in batch if m.transport != "file"]
        if len(syslog) >= WORKER_MIN_BATCH and self._worker_lock.acquire(blocking=False):
            try:                                      # (a concurrent sink call parses here instead)
                worker = self._helper()
                if worker is not None:
                    yield from self._from_worker(worker, syslog, parsed)
                    batch = [m for m in batch if m.transport == "file"]
            finally:
                self._worker_lock.release()
        for r, m in self.parse(batch):
            parsed.records.append((r, m.received_at))
            parsed.count += 1
            yield record_to_event(r, m.received_at, m.transport)

    def _from_worker(self, worker: ParseWorker, msgs: list[RawMessage], parsed: _Parsed) -> Iterator[Event]:
        """Chunk i's events go to the store while the helper parses the next `worker.ahead` chunks."""
        want_records = self.logwatch is not None and self.logwatch.active
        peer_host = self._peer_host
        chunks = _chunks(msgs)
        sent = 0

        def send_until(n: int) -> None:
            nonlocal sent
            while sent < min(n, len(chunks)):
                worker.send([(m.data, m.received_at, peer_host(m.peer), m.transport) for m in chunks[sent]],
                            want_records)
                sent += 1
        try:
            for i, chunk in enumerate(chunks):
                try:
                    send_until(i + worker.ahead)
                    values, delta, records = worker.receive()
                    send_until(i + worker.ahead + 1)
                except WorkerFailed as exc:
                    self._worker_lost(exc)
                    for r, m in self.parse([m for c in chunks[i:] for m in c]):      # the rest, here
                        parsed.records.append((r, m.received_at))
                        parsed.count += 1
                        yield record_to_event(r, m.received_at, m.transport)
                    return
                parsed.deltas.append(delta)
                parsed.count += len(values)
                if records is not None:
                    parsed.watched.extend(zip(records, (m.received_at for m in chunk)))
                for v in values:
                    yield Event(*v)
        finally:
            if worker is self._worker and worker.pending and not worker.drain():   # the store stopped reading
                self._worker_lost(WorkerFailed("no answer after a failed write"))

    def _helper(self) -> ParseWorker | None:
        if self._worker is None or not self._worker.alive():
            if time.monotonic() - self._worker_failed_at < _RESTART_AFTER:
                return None
            try:
                self._worker = ParseWorker(self.timezone, self.facility_services)
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
        """Stop the helper process (it also stops by itself when this process exits)."""
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


# -- the helper process ------------------------------------------------------------------------------

class WorkerFailed(Exception):
    """The parse helper died, hung or failed on a chunk: that chunk is parsed in this process."""


class ParseWorker:
    """A helper process parsing syslog messages into event values and metric counts (`_serve`): a fresh
    interpreter (no fork of a process running threads, no re-import of the caller's main module) talking
    over two pipes in marshal'ed plain values. It exits when this process closes the pipes or exits."""

    def __init__(self, timezone: str, facility_services: dict[int, str]):
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", "import sys; from stackwatch.rsyslog.ingest import _serve; _serve(sys.argv[1:])",
                 str(to_child), str(from_child), timezone, json.dumps(sorted(facility_services.items()))],
                stdin=subprocess.DEVNULL, pass_fds=(to_child, from_child), close_fds=True)
        finally:
            os.close(to_child)
            os.close(from_child)
        # Two chunks in flight when the pipes hold two chunks and their answers, else one (then neither
        # side can be stuck writing to the other while it writes too).
        self.ahead = 2 if all([_widen_pipe(fd) for fd in (from_parent, to_parent)]) else 1
        self._out = Connection(from_parent, readable=False)
        self._in = Connection(to_parent, writable=False)
        self.pending = 0

    def alive(self) -> bool:
        return self._proc.poll() is None

    def send(self, messages: list[tuple[bytes, float, str, str]], want_records: bool) -> None:
        try:
            self._out.send_bytes(marshal.dumps((messages, want_records)))
        except (OSError, ValueError) as exc:
            raise WorkerFailed(f"cannot send: {exc}") from None
        self.pending += 1

    def receive(self) -> tuple[list[tuple], tuple, list[LogRecord] | None]:
        """(event values, metric counts, records or None) of the oldest chunk sent."""
        try:
            if not self._in.poll(_ANSWER_TIMEOUT):
                raise WorkerFailed(f"no answer in {_ANSWER_TIMEOUT:.0f} s")
            data = self._in.recv_bytes()
        except (OSError, EOFError, ValueError) as exc:
            raise WorkerFailed(f"cannot receive: {exc or type(exc).__name__}") from None
        self.pending -= 1
        answer = marshal.loads(data)
        if answer[0] == "error":
            raise WorkerFailed(answer[1])
        values, delta, records = answer
        return values, delta, None if records is None else [LogRecord(*t) for t in records]

    def drain(self) -> bool:
        """Read the answers still due; False if the helper cannot give them."""
        try:
            while self.pending:
                self.receive()
        except WorkerFailed:
            return False
        return True

    def close(self) -> None:
        self._out.close()
        self._in.close()
        try:
            self._proc.wait(2)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(2)


def _widen_pipe(fd: int) -> bool:
    """Make the pipe hold _PIPE_SIZE bytes (Linux); False where it cannot."""
    try:
        return fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_SIZE) >= _PIPE_SIZE
    except OSError:
        return False


def _chunks(msgs: list[RawMessage]) -> list[list[RawMessage]]:
    """A small first chunk (only waited for), then up to _CHUNK messages or _CHUNK_BYTES bytes each."""
    out, chunk, size, limit = [], [], 0, _FIRST_CHUNK
    for m in msgs:
        chunk.append(m)
        size += len(m.data)
        if len(chunk) >= limit or size >= _CHUNK_BYTES:
            out.append(chunk)
            chunk, size, limit = [], 0, _CHUNK
    if chunk:
        out.append(chunk)
    return out


def _serve(argv: list[str]) -> None:
    """The helper's loop: a chunk of (data, received_at, peer host, transport) in, its events' values and
    metric counts (and records, when asked) out. argv: the two pipe ends, the zone, the facility map."""
    conn_in, conn_out = Connection(int(argv[0]), writable=False), Connection(int(argv[1]), readable=False)
    tz = ZoneInfo(argv[2])
    facility_services = {int(k): v for k, v in json.loads(argv[3])}
    clock = Clock(tz)
    record_fields = LogRecord.__slots__
    gc.disable()                  # what a chunk allocates holds no cycles: collect now and then, not per 700
    chunks = 0
    while True:
        try:
            messages, want_records = marshal.loads(conn_in.recv_bytes())
        except (EOFError, OSError):
            return
        chunks += 1
        if chunks % 1000 == 0:
            gc.collect()
        try:
            metrics = LogMetrics()
            observe = metrics.observe
            values, records = [], []
            for data, received_at, peer_host, transport in messages:
                r = parse_syslog_message(data, received_at, peer_host, tz, clock=clock,
                                         facility_services=facility_services)
                observe(r)
                values.append(event_values(r, received_at, transport))
                if want_records:
                    records.append(tuple(getattr(r, name) for name in record_fields))
            answer = (values, (tuple(metrics.totals.items()), tuple(metrics.latencies.items())),
                      records if want_records else None)
        except Exception as exc:                        # a parser bug: this chunk is parsed by the caller
            answer = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn_out.send_bytes(marshal.dumps(answer))
        except (OSError, ValueError):
            return


def _merge_metrics(metrics: LogMetrics, delta: tuple) -> None:
    """Add a helper's counts (LogMetrics.totals and .latencies of its chunk) to `metrics`."""
    totals, latencies = delta
    for key, value in totals:
        metrics.totals[key] += value
    room = metrics.max_window_samples
    for key, values in latencies:
        window = metrics.latencies[key]
        window.extend(values[:max(0, room - len(window))])
