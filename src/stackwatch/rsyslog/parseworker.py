"""The log ingest's parse helper process: a fresh interpreter that parses chunks of syslog messages into
event values and metric counts, while the process that started it stores the chunk before (used with a store
that has no writer processes of its own: Elasticsearch). Parsing and the store's work then run on two cores.

Talks over two pipes in marshal'ed plain values; exits when its parent closes the pipes or exits. A helper
that dies, hangs or fails on a chunk raises `WorkerFailed` in the parent, which then parses that chunk
itself: nothing is lost and nothing is stored twice.
"""

from __future__ import annotations

import json
from typing import Callable
from zoneinfo import ZoneInfo

from stackwatch import helperprocess
from stackwatch.helperprocess import HelperFailed, HelperProcess

from stackwatch.rsyslog.logevent import event_values
from stackwatch.rsyslog.logmetrics import LogMetrics
from stackwatch.rsyslog.message import RawMessage
from stackwatch.rsyslog.parse import parse_syslog_message
from stackwatch.rsyslog.record import LogRecord
from stackwatch.rsyslog.timestamps import Clock

# The helper parses chunk i+1 while the parent stores chunk i; the first chunk is small, as the parent can
# only wait for it.
FIRST_CHUNK, CHUNK = 100, 300
CHUNK_BYTES = 128 * 1024     # a chunk's answer is ~2.5 times its messages: two of them fit in the pipe

WorkerFailed = HelperFailed  # the parse helper died, hung or failed on a chunk: the caller parses that chunk


class ParseWorker(HelperProcess):
    """The parent's end: `send` a chunk, `receive` the answer of the oldest chunk sent (`ahead` chunks may
    be in flight)."""

    def __init__(self, timezone: str, facility_services: dict[int, str]):
        super().__init__("stackwatch.rsyslog.parseworker:serve", [timezone, facility_arg(facility_services)])

    def send(self, messages: list[tuple[bytes, float, str, str]], want_records: bool) -> None:
        """A chunk of (data, received_at, peer host, transport)."""
        super().send((messages, want_records))

    def receive(self) -> tuple[list, tuple, list[LogRecord] | None]:
        """(event values, metric counts, records or None) of the oldest chunk sent."""
        values, delta, records = super().receive()
        return values, delta, None if records is None else [LogRecord(*t) for t in records]


class ParsePool:
    """Several helpers as one `ParseWorker`: chunks go round-robin, answers come back in the order sent."""

    def __init__(self, size: int, timezone: str, facility_services: dict[int, str]):
        self.workers: list[ParseWorker] = []
        try:
            for _ in range(max(1, size)):
                self.workers.append(ParseWorker(timezone, facility_services))
        except Exception:
            self.close()
            raise
        self.ahead = len(self.workers) * min(w.ahead for w in self.workers)
        self._sent = self._received = 0

    @property
    def pending(self) -> int:
        return sum(w.pending for w in self.workers)

    def alive(self) -> bool:
        return all(w.alive() for w in self.workers)

    def send(self, messages: list[tuple[bytes, float, str, str]], want_records: bool) -> None:
        self.workers[self._sent % len(self.workers)].send(messages, want_records)
        self._sent += 1

    def receive(self) -> tuple[list, tuple, list[LogRecord] | None]:
        worker = self.workers[self._received % len(self.workers)]
        self._received += 1
        return worker.receive()

    def drain(self) -> bool:
        ok = all([w.drain() for w in self.workers])
        self._received = self._sent
        return ok

    def close(self) -> None:
        for w in self.workers:
            w.close()


def chunks(msgs: list[RawMessage]) -> list[list[RawMessage]]:
    """A small first chunk (only waited for), then up to CHUNK messages or CHUNK_BYTES bytes each."""
    out, chunk, size, limit = [], [], 0, FIRST_CHUNK
    for m in msgs:
        chunk.append(m)
        size += len(m.data)
        if len(chunk) >= limit or size >= CHUNK_BYTES:
            out.append(chunk)
            chunk, size, limit = [], 0, CHUNK
    if chunk:
        out.append(chunk)
    return out


def chunk_parser(timezone: str, facility_services: dict[int, str], make: Callable | None = None,
                 flat: bool = False) -> Callable[[tuple], tuple]:
    """The helper's work on one request (a chunk of (data, received_at, peer host, transport), and whether
    the records are wanted): (each record's `make(record, received_at, transport)` (default: its event
    values) in a list, or with `flat` one after the other; metric counts; the records as tuples, or None).
    Also used by the store's own log writer processes."""
    tz = ZoneInfo(timezone)
    clock = Clock(tz)
    record_fields = LogRecord.__slots__
    make = make or event_values

    def parse(request):
        messages, want_records = request[0], request[1]
        metrics = LogMetrics()
        observe = metrics.observe
        values, records = [], []
        add = values.extend if flat else values.append
        for data, received_at, peer_host, transport in messages:
            r = parse_syslog_message(data, received_at, peer_host, tz, clock=clock,
                                     facility_services=facility_services)
            observe(r)
            add(make(r, received_at, transport))
            if want_records:
                records.append(tuple(getattr(r, name) for name in record_fields))
        return (values, (tuple(metrics.totals.items()), tuple(metrics.latencies.items())),
                records if want_records else None)

    return parse


def facility_map(text: str) -> dict[int, str]:
    """The facility map as the helpers get it on their command line (`facility_arg`)."""
    return {int(k): v for k, v in json.loads(text)}


def facility_arg(facility_services: dict[int, str]) -> str:
    return json.dumps(sorted(facility_services.items()))


def serve(argv: list[str]) -> None:
    """The helper's entry point: a chunk of (data, received_at, peer host, transport) in, its events' values
    and metric counts (and records, when asked) out. argv: the two pipe ends, the zone, the facility map."""
    helperprocess.serve(argv, chunk_parser(argv[2], facility_map(argv[3])))


def merge_metrics(metrics: LogMetrics, delta: tuple) -> None:
    """Add a helper's counts (LogMetrics.totals and .latencies of its chunk) to `metrics`."""
    totals, latencies = delta
    for key, value in totals:
        metrics.totals[key] += value
    room = metrics.max_window_samples
    for key, values in latencies:
        window = metrics.latencies[key]
        window.extend(values[:max(0, room - len(window))])
