"""The log ingest pipeline: raw messages from every input (syslog receivers, file tailers, `logs ingest`)
are parsed into records, stored as events in one durable write, and then counted (metrics from logs)
and matched (log pattern rules). `sink` is the `message.Sink` the inputs call: it returns only after the
store has the batch, so a receiver acknowledges only what is stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from operator import attrgetter
from typing import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from stackwatch.rsyslog.logmetrics import LogMetrics
from stackwatch.rsyslog.message import RawMessage
from stackwatch.rsyslog.parse import parse_lines, parse_syslog_message
from stackwatch.rsyslog.record import SEVERITY_NAMES, LogRecord
from stackwatch.rsyslog.timestamps import Clock
from stackwatch.store.interfaces import Event

log = logging.getLogger(__name__)

_FIELD_NAMES = ("pid", "logger", "user_id", "project_id", "traceback", "facility", "severity", "parsed",
                "truncated", "function", "location", "source")


_PARSE_SLICE = 256           # messages parsed at a time while the store writes the previous ones
_field_values = attrgetter(*_FIELD_NAMES)
_EMPTY = (None, "")
_SEVERITY_LEVELS = tuple(name.upper() for name in SEVERITY_NAMES)


def record_to_event(r: LogRecord, received_at: float, transport: str = "") -> Event:
    """A parsed record as the event store keeps it: ids as columns, the rest in `fields`, raw kept."""
    fields = {name: value for name, value in zip(_FIELD_NAMES, _field_values(r)) if value not in _EMPTY}
    if transport:
        fields["transport"] = transport
    ts = r.timestamp
    if ts is None:
        fields["time_from"] = "received"
        ts = received_at
    level = r.level
    if not level:
        sev = r.severity
        level = _SEVERITY_LEVELS[sev] if sev is not None and 0 <= sev < len(_SEVERITY_LEVELS) else ""
    return Event(ts, "log", r.message, r.host or "", r.service or "", r.program or "", level, r.request_id,
                 r.instance_uuid, r.global_request_id, fields, r.raw)


class LogIngest:
    def __init__(self, events, hostname: str, facility_services: dict[int, str] | None = None,
                 timezone: str = "UTC", logwatch=None, metric_store=None,
                 clock: Callable[[], float] = time.time):
        self.events = events
        self.hostname = hostname
        self.facility_services = facility_services or {}
        self.tz = ZoneInfo(timezone)
        self.logwatch = logwatch
        self.metric_store = metric_store
        self.clock = clock
        self.metrics = LogMetrics()
        self._syslog_clock = Clock(self.tz)
        self._peer_hosts: dict[str, str] = {}     # "10.0.0.5:41234" -> "10.0.0.5"
        self._lock = threading.Lock()
        self.received = 0
        self.stored = 0
        self.refused = 0

    def parse(self, batch: Iterable[RawMessage]) -> list[tuple[LogRecord, RawMessage]]:
        """Records of a batch, each with the message it came from. File lines of one file fold
        tracebacks and continuation lines within the batch (a tailer delivers whole writes together)."""
        out: list[tuple[LogRecord, RawMessage]] = []
        files: dict[str, list[RawMessage]] = defaultdict(list)
        hosts = self._peer_hosts
        clock, tz, services = self._syslog_clock, self.tz, self.facility_services
        for m in batch:
            if m.transport == "file":
                files[m.peer].append(m)
                continue
            peer_host = hosts.get(m.peer)
            if peer_host is None:
                if len(hosts) >= 4096:
                    hosts.clear()
                peer_host = hosts[m.peer] = m.peer.rsplit(":", 1)[0].strip("[]")
            out.append((parse_syslog_message(m.data, m.received_at, peer_host, tz, clock=clock,
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
        pairs: list[tuple[LogRecord, RawMessage]] = []
        self.events.add(self._events(batch, pairs))
        with self._lock:
            self.received += len(batch)
            self.stored += len(pairs)
            observe = self.metrics.observe
            for r, m in pairs:
                observe(r)
        if self.logwatch is not None and self.logwatch.active:
            for r, m in pairs:
                self.logwatch.observe(r, m.received_at)

    def _events(self, batch: list[RawMessage], pairs: list[tuple[LogRecord, RawMessage]]) -> Iterator[Event]:
        """The batch's events, parsed a slice at a time as the store reads them (its writes overlap the
        parsing); the records and their messages are collected in `pairs`."""
        for start in range(0, len(batch), _PARSE_SLICE):
            done = len(pairs)
            pairs.extend(self.parse(batch[start:start + _PARSE_SLICE]))
            for r, m in pairs[done:]:
                yield record_to_event(r, m.received_at, m.transport)

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
