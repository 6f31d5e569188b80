"""Folding lines into records (NOTES.md section 1, "Multi-line records"): a stateful but pure
`Assembler` fed one line (or one syslog message) at a time, per source.

What belongs to the record before it:
- pre-Liberty TRACE lines: same pid and logger, level TRACE;
- Liberty+ ERROR-style traceback lines: same time (as written), pid and logger, level ERROR (or the
  record's own level), and no context bracket; chained tracebacks ("During handling of the above
  exception...") are more of the same lines;
- lines with no prefix at all (multi-line DEBUG bodies, tracebacks logged as text);
- in a syslog message, every line after the first (rsyslog's `#012`): one message is one record.

A record is open per (source, pid) so that workers writing one file can interleave. It is closed when
its pid starts a new record, when any record starts with a different time (its continuation lines
would carry its own time), on `flush`/`expire`, or when more than `max_open` records are open. It
stops growing at MAX_RECORD_CHARS / MAX_RECORD_LINES: it is emitted with ``truncated=True`` and the
rest continues in a record with the same header. Records from different sources never mix.

Pure: stdlib only.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import tzinfo
from typing import Mapping

from stackwatch.rsyslog.draft import NO_ORIGIN, TRACEBACK, Draft, Origin, is_single, line_record
from stackwatch.rsyslog.oslo import OsloLine, parse_line
from stackwatch.rsyslog.record import LogRecord
from stackwatch.rsyslog.services import service_for
from stackwatch.rsyslog.syslog import SyslogMessage
from stackwatch.rsyslog.timestamps import Clock

__all__ = ["Assembler", "Origin", "message_record"]

_TRACE_LEVELS = ("TRACE", "ERROR")


class _Source:
    __slots__ = ("open", "last")

    def __init__(self) -> None:
        self.open: dict[int | None, Draft] = {}
        self.last: Draft | None = None


def _seq(b: Draft) -> int:
    return b.seq


def _continues(b: Draft, o: OsloLine) -> bool:
    """Is `o` a traceback line of the record `b` (same pid already: `b` is that pid's open record)?"""
    f = b.first
    if o.context is not None or o.logger != f.logger:
        return False
    if o.level == "TRACE":
        return True
    return (o.level == "ERROR" or o.level == f.level) and o.stamp == f.stamp


def _add_message_lines(b: Draft, o: OsloLine, lines: list[str], clock: Clock) -> None:
    """The lines after the first of one syslog message: all of them belong to its record."""
    for text in lines[1:]:
        t = parse_line(text, clock) if text[:1].isdigit() or text[:1].isupper() else None
        if t is not None and t.context is None and t.logger == o.logger:
            b.add_trace(t.text, t.instance)      # an oslo traceback line inside the message
        else:
            b.add_text(text)


class Assembler:
    """Feed lines per source; get back the records they complete. `flush()` at end of input."""

    def __init__(self, tz: tzinfo | None = None, *, clock: Clock | None = None, max_open: int = 1024,
                 facility_services: Mapping[int, str] | None = None):
        self.clock = clock or Clock(tz)
        self.max_open = max(1, max_open)
        self.facility_services = facility_services
        self._sources: dict[str, _Source] = {}
        self._lru: OrderedDict[Draft, None] = OrderedDict()   # open records, least recently fed first
        self._last: Draft | None = None       # the record the previous input went to, if still open
        self._seq = 0                            # input order, to emit records closed together in order

    @property
    def open_records(self) -> int:
        return len(self._lru)

    # -- input ---------------------------------------------------------------------------------

    def feed(self, line: str, source_key: str = "", *, origin: Origin | None = None, raw: str | None = None,
             cut: bool = False, now: float | None = None) -> list[LogRecord]:
        """One line of an oslo.log file (or any text log). `raw` is the line as read, if it differs."""
        out: list[LogRecord] = []
        if raw is None:
            raw = line
        src = self._sources.get(source_key) or self._new_source(source_key)
        o = parse_line(line, self.clock)
        if o is None:
            b = src.last
            if b is not None and b.is_open:
                self._continue(b, raw, cut, out, now, 1).add_text(line)
            else:
                out.append(self._standalone(origin, None, [line], raw, cut))
            return out
        b = src.open.get(o.pid)
        if b is not None and o.context is None and _continues(b, o):
            self._continue(b, raw, cut, out, now, 1).add_trace(o.text, o.instance)
        else:
            self._start(Draft(src, origin or NO_ORIGIN, None, o, raw, cut, o.text), b, out, now)
        return out

    def feed_message(self, msg: SyslogMessage, source_key: str = "", *, raw: str, cut: bool = False,
                     origin: Origin | None = None, now: float | None = None) -> list[LogRecord]:
        """One syslog message. A body that is not oslo.log continues the source's open oslo record
        (a line-per-message transport such as journald) or stands alone."""
        out: list[LogRecord] = []
        if not msg.parsed:                       # no syslog header: continues what the last line began
            b = self._last
            if b is not None and b.is_open:
                self._continue(b, raw, cut, out, now, 1).add_text(msg.body)
            else:
                out.append(self._standalone(origin, msg, [msg.body], raw, cut))
            return out
        body = msg.body
        lines = body.split("\n") if "\n" in body else [body]
        o = parse_line(lines[0], self.clock)
        src = self._sources.get(source_key)
        if o is None:
            b = src.last if src is not None else None
            if b is None or not b.is_open:
                out.append(self._standalone(origin, msg, lines, raw, cut))
                return out
            b = self._continue(b, raw, cut, out, now, len(lines))
            for text in lines:
                b.add_text(text)
            return out
        if src is None:
            src = self._new_source(source_key)
        b = src.open.get(o.pid)
        if b is not None and _continues(b, o):
            b = self._continue(b, raw, cut, out, now, len(lines))
            b.add_trace(o.text, o.instance)
        else:
            b = self._start(Draft(src, origin or NO_ORIGIN, msg, o, raw, cut, o.text), b, out, now)
        if len(lines) > 1:
            _add_message_lines(b, o, lines, self.clock)
        return out

    # -- output --------------------------------------------------------------------------------

    def flush(self, source_key: str | None = None) -> list[LogRecord]:
        """Close and return the open records (of one source, or all), least recently fed first."""
        if source_key is None:
            builders = list(self._lru)
            self._sources.clear()
        else:
            src = self._sources.pop(source_key, None)
            builders = [b for b in self._lru if b.owner is src] if src is not None else []
        return [self._close(b) for b in builders]

    def expire(self, before: float) -> list[LogRecord]:
        """Close the records last fed (with `now=`) before `before`: a quiet source's last record."""
        return [self._close(b) for b in list(self._lru) if b.arrived is not None and b.arrived < before]

    # -- internals -----------------------------------------------------------------------------

    def _new_source(self, key: str) -> _Source:
        if len(self._sources) >= 4 * self.max_open:
            for k in [k for k, s in self._sources.items() if not s.open]:
                del self._sources[k]
        src = self._sources[key] = _Source()
        return src

    def _start(self, b: Draft, old: Draft | None, out: list[LogRecord], now: float | None) -> Draft:
        """`b` begins; `old` is the open record of its pid, which it completes."""
        src, first = b.owner, b.first
        lru = self._lru
        opened = src.open
        if len(opened) > (old is not None) and (first.context is not None or first.level not in _TRACE_LEVELS):
            # A record begins: other workers' records, stamped with another time, are complete. (An
            # orphan traceback line does not close them: that is how interleaved workers look.)
            done = [x for x in opened.values() if x is old or x.first.stamp != first.stamp]
            done.sort(key=_seq)                  # oldest first, as they were read
            for x in done:
                out.append(self._close(x))
        elif old is not None:
            out.append(self._close(old))
        opened[first.pid] = b
        self._seq += 1
        b.seq = self._seq
        lru[b] = None
        if now is not None:
            b.arrived = now
        src.last = self._last = b
        if len(lru) > self.max_open:
            out.append(self._close(next(iter(lru))))
        return b

    def _continue(self, b: Draft, raw: str, cut: bool, out: list[LogRecord], now: float | None,
                  lines: int) -> Draft:
        """Add `raw` to `b`; if `b` is full, emit it truncated and go on in a record with its header."""
        lru = self._lru
        if b.fits(raw, lines):
            lru.move_to_end(b)
        else:
            nb = b.spawn()
            b.is_open = False
            del lru[b]
            b.owner.open[b.first.pid] = nb
            out.append(b.build(True, self.facility_services))
            b = nb
            lru[b] = None
        b.add_raw(raw, cut)
        self._seq += 1
        b.seq = self._seq
        if now is not None:
            b.arrived = now
        b.owner.last = self._last = b
        return b

    def _close(self, b: Draft) -> LogRecord:
        b.is_open = False
        self._lru.pop(b, None)
        opened = b.owner.open
        pid = b.first.pid
        if opened.get(pid) is b:
            del opened[pid]
        return b.build(False, self.facility_services)

    def _standalone(self, origin: Origin | None, header: SyslogMessage | None, lines: list[str], raw: str,
                    cut: bool) -> LogRecord:
        self._last = None
        return _standalone(origin, header, lines, raw, cut, self.facility_services)


def _standalone(origin: Origin | None, header: SyslogMessage | None, lines: list[str], raw: str, cut: bool,
                facility_services: Mapping[int, str] | None) -> LogRecord:
    """A record that nothing before it takes and nothing after it can continue."""
    o = origin or NO_ORIGIN
    if header is not None and len(lines) == 1 and not lines[0].startswith(TRACEBACK):
        h = header                               # the common case: one plain syslog message
        program = h.program or o.program
        return LogRecord(h.timestamp, h.host or o.host,
                         service_for(program, None, o.directory_service, h.facility, facility_services),
                         program, h.pid, None, None, None, None, None, None, None, lines[0], None, raw,
                         h.facility, h.severity, h.parsed, cut, None, None, o.source)
    b = Draft(None, o, header, None, raw, cut, None)
    for text in lines:
        b.add_text(text)
    b.is_open = False
    return b.build(False, facility_services)


def message_record(msg: SyslogMessage, *, raw: str, clock: Clock, cut: bool = False, origin: Origin | None = None,
                   facility_services: Mapping[int, str] | None = None) -> LogRecord:
    """A syslog message on its own, as a receiver gets it: exactly one record, and no state kept."""
    body = msg.body
    lines = body.split("\n") if "\n" in body else [body]
    o = parse_line(lines[0], clock) if msg.parsed else None
    if o is None:
        return _standalone(origin, msg, lines, raw, cut, facility_services)
    if len(lines) == 1 and not cut and is_single(o):
        return line_record(o, msg, origin or NO_ORIGIN, o.text, o.instance, raw, facility_services)
    b = Draft(None, origin or NO_ORIGIN, msg, o, raw, cut, o.text)
    if len(lines) > 1:
        _add_message_lines(b, o, lines, clock)
    return b.build(False, facility_services)
