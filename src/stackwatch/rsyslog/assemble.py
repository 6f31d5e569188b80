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
from dataclasses import dataclass
from datetime import tzinfo
from typing import Mapping

from stackwatch.rsyslog.oslo import OsloLine, parse_context, parse_line, split_debug_suffix
from stackwatch.rsyslog.record import MAX_RECORD_CHARS, MAX_RECORD_LINES, LogRecord
from stackwatch.rsyslog.services import program_from_path, service_for
from stackwatch.rsyslog.syslog import SyslogMessage
from stackwatch.rsyslog.timestamps import Clock

_TRACEBACK = "Traceback (most recent call last):"
_TRACE_LEVELS = ("TRACE", "ERROR")


@dataclass(frozen=True, slots=True)
class Origin:
    """What the input says about where lines come from (a file's path, the host it was read on)."""

    source: str = ""
    host: str = ""
    program: str = ""
    directory_service: str = ""

    @classmethod
    def for_file(cls, path: str, host: str = "") -> Origin:
        program, service = program_from_path(path) if path else ("", "")
        return cls(source=path, host=host, program=program, directory_service=service)


_NO_ORIGIN = Origin()


class _Source:
    __slots__ = ("open", "last")

    def __init__(self) -> None:
        self.open: dict[int | None, _Builder] = {}
        self.last: _Builder | None = None


class _Builder:
    """A record being assembled: its first line's parts, then its message, traceback and raw lines."""

    __slots__ = ("owner", "origin", "header", "first", "msg", "tb", "in_tb", "raw", "chars", "lines",
                 "instance", "cut", "is_open", "arrived", "seq")

    def __init__(self, owner: _Source, origin: Origin, header: SyslogMessage | None, first: OsloLine | None,
                 raw: str | None, cut: bool, text: str | None):
        self.owner, self.origin, self.header, self.first = owner, origin, header, first
        self.raw = [] if raw is None else [raw]
        self.chars = 0 if raw is None else len(raw) + 1
        self.cut = cut
        self.is_open = True
        self.arrived: float | None = None
        self.seq = 0
        self.instance = None if first is None else first.instance
        self.msg: list[str] = []
        self.tb: list[str] = []
        self.in_tb = False
        self.lines = 0 if text is None else 1
        if text is None:
            pass
        elif first is not None and first.context is None and (
                first.level == "TRACE" or (first.level == "ERROR" and text.startswith(_TRACEBACK))):
            self.tb.append(text)                 # a traceback line whose record we never saw
            self.in_tb = True
        else:
            self.msg.append(text)

    def fits(self, raw: str, lines: int) -> bool:
        return not self.raw or (self.chars + len(raw) + 1 <= MAX_RECORD_CHARS
                                and self.lines + lines <= MAX_RECORD_LINES)

    def add_raw(self, raw: str, cut: bool) -> None:
        self.raw.append(raw)
        self.chars += len(raw) + 1
        if cut:
            self.cut = True

    def add_text(self, text: str) -> None:
        """A line without prefix: part of the traceback once one has begun, else of the message."""
        if self.lines >= MAX_RECORD_LINES:
            self.cut = True                      # one syslog message with more lines than a record holds
            return
        self.lines += 1
        (self.tb if self.in_tb else self.msg).append(text)

    def add_trace(self, text: str, instance: str | None) -> None:
        if self.lines >= MAX_RECORD_LINES:
            self.cut = True
            return
        self.lines += 1
        self.tb.append(text)
        self.in_tb = True
        if self.instance is None:
            self.instance = instance

    def spawn(self) -> _Builder:
        """The record that takes the lines after this one was truncated: same header, no text yet."""
        b = _Builder(self.owner, self.origin, self.header, self.first, None, False, None)
        b.instance, b.in_tb, b.arrived = self.instance, self.in_tb, self.arrived
        return b

    def build(self, truncated: bool, facility_services: Mapping[int, str] | None = None) -> LogRecord:
        f, h, o = self.first, self.header, self.origin
        if self.lines == 1 and h is None and f is not None and self.msg and not (self.cut or truncated):
            text = self.msg[0]                   # the common case: one oslo.log line
            if not text.startswith(_TRACEBACK):
                function = location = None
                if f.level == "DEBUG":
                    text, function, location = split_debug_suffix(text)
                glob, req, user, project = parse_context(f.context)
                program = o.program if f.lead is None else program_from_path(f.lead)[0] or o.program
                return LogRecord(f.timestamp, o.host, service_for(program, f.logger, o.directory_service),
                                 program, f.pid, f.level, f.logger, req, glob, user, project, self.instance,
                                 text, None, self.raw[0], None, None, True, False, function, location, o.source)
        msg, tb = self.msg, self.tb
        parsed = f is not None or (h is not None and h.parsed)
        function = location = None
        if f is not None and f.level == "DEBUG" and msg:
            last, function, location = split_debug_suffix(msg[-1])
            if function is not None:
                msg = msg[:-1] + [last] if last or len(msg) == 1 else msg[:-1]
        if parsed and not tb and msg and (len(msg) > 1 or msg[0].startswith(_TRACEBACK)):
            for i, text in enumerate(msg):       # a traceback logged as message text
                if text.startswith(_TRACEBACK):
                    msg, tb = msg[:i], msg[i:]
                    break
        traceback = None
        if tb:
            end = len(tb)
            while end and not tb[end - 1].strip():
                end -= 1
            traceback = "\n".join(tb[:end]) or None
            if not msg and end:
                msg = [tb[end - 1].strip()]      # a traceback without its record: say what was raised
        if f is not None:
            glob, req, user, project = parse_context(f.context)
            timestamp = f.timestamp if f.timestamp is not None or h is None else h.timestamp
            pid = f.pid if f.pid is not None or h is None else h.pid
            level, logger = f.level, f.logger
        else:
            glob = req = user = project = level = logger = None
            timestamp = h.timestamp if h is not None else None
            pid = h.pid if h is not None else None
        if h is not None:
            host, program, facility, severity = h.host or o.host, h.program or o.program, h.facility, h.severity
        else:
            host, program, facility, severity = o.host, o.program, None, None
            if f is not None and f.lead is not None:
                program = program_from_path(f.lead)[0] or program
        return LogRecord(
            timestamp, host, service_for(program, logger, o.directory_service, facility, facility_services),
            program, pid, level, logger, req, glob, user, project, self.instance, "\n".join(msg), traceback,
            "\n".join(self.raw), facility, severity, parsed, truncated or self.cut, function, location, o.source)


def _seq(b: _Builder) -> int:
    return b.seq


def _continues(b: _Builder, o: OsloLine) -> bool:
    """Is `o` a traceback line of the record `b` (same pid already: `b` is that pid's open record)?"""
    f = b.first
    if o.context is not None or o.logger != f.logger:
        return False
    if o.level == "TRACE":
        return True
    return (o.level == "ERROR" or o.level == f.level) and o.stamp == f.stamp


class Assembler:
    """Feed lines per source; get back the records they complete. `flush()` at end of input."""

    def __init__(self, tz: tzinfo | None = None, *, clock: Clock | None = None, max_open: int = 1024,
                 facility_services: Mapping[int, str] | None = None):
        self.clock = clock or Clock(tz)
        self.max_open = max_open
        self.facility_services = facility_services
        self._sources: dict[str, _Source] = {}
        self._lru: OrderedDict[_Builder, None] = OrderedDict()   # open records, least recently fed first
        self._last: _Builder | None = None       # the record the previous input went to, if still open
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
            self._start(_Builder(src, origin or _NO_ORIGIN, None, o, raw, cut, o.text), b, out, now)
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
        lines = msg.body.split("\n")
        src = self._sources.get(source_key) or self._new_source(source_key)
        o = parse_line(lines[0], self.clock)
        if o is None:
            b = src.last
            if b is None or not b.is_open:
                out.append(self._standalone(origin, msg, lines, raw, cut))
                return out
            b = self._continue(b, raw, cut, out, now, len(lines))
            for text in lines:
                b.add_text(text)
            return out
        b = src.open.get(o.pid)
        if b is not None and _continues(b, o):
            b = self._continue(b, raw, cut, out, now, len(lines))
            b.add_trace(o.text, o.instance)
        else:
            b = self._start(_Builder(src, origin or _NO_ORIGIN, msg, o, raw, cut, o.text), b, out, now)
        for text in lines[1:]:
            t = parse_line(text, self.clock) if text[:1].isdigit() or text[:1].isupper() else None
            if t is not None and t.context is None and t.logger == o.logger:
                b.add_trace(t.text, t.instance)  # an oslo traceback line inside the message
            else:
                b.add_text(text)
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

    def _start(self, b: _Builder, old: _Builder | None, out: list[LogRecord], now: float | None) -> _Builder:
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

    def _continue(self, b: _Builder, raw: str, cut: bool, out: list[LogRecord], now: float | None,
                  lines: int) -> _Builder:
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

    def _close(self, b: _Builder) -> LogRecord:
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
        b = _Builder(_Source(), origin or _NO_ORIGIN, header, None, raw, cut, None)
        for text in lines:
            b.add_text(text)
        b.is_open = False
        return b.build(False, self.facility_services)
