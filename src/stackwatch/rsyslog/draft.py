"""A record under assembly (`Draft`): its first line's parts, then its message, traceback and raw
lines, and how it becomes a `LogRecord`; `Origin`, what the input says about where lines come from.

Pure: stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from stackwatch.rsyslog.oslo import OsloLine, parse_context, split_debug_suffix
from stackwatch.rsyslog.record import MAX_RECORD_CHARS, MAX_RECORD_LINES, LogRecord
from stackwatch.rsyslog.services import program_from_path, service_for
from stackwatch.rsyslog.syslog import SyslogMessage

TRACEBACK = "Traceback (most recent call last):"


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


NO_ORIGIN = Origin()


def is_single(first: OsloLine) -> bool:
    """Does an oslo.log line that is a whole record (one line, not cut) make a record of its own through
    `line_record`? Not when it is the start (or a piece) of a traceback: a `Draft` folds those."""
    return not first.text.startswith(TRACEBACK) and (first.context is not None or first.level != "TRACE")


def line_record(f: OsloLine, h: SyslogMessage | None, o: Origin, text: str, instance: str | None, raw: str,
                facility_services: Mapping[int, str] | None) -> LogRecord:
    """The record of one oslo.log line (`text`, its message part) with nothing folded into it."""
    function = location = None
    if f.level == "DEBUG":
        text, function, location = split_debug_suffix(text)
    glob, req, user, project = parse_context(f.context)
    if h is None:
        program = o.program if f.lead is None else program_from_path(f.lead)[0] or o.program
        return LogRecord(f.timestamp, o.host, service_for(program, f.logger, o.directory_service),
                         program, f.pid, f.level, f.logger, req, glob, user, project, instance,
                         text, None, raw, None, None, True, False, function, location, o.source)
    program = h.program or o.program
    return LogRecord(
        h.timestamp if f.timestamp is None else f.timestamp, h.host or o.host,
        service_for(program, f.logger, o.directory_service, h.facility, facility_services), program,
        h.pid if f.pid is None else f.pid, f.level, f.logger, req, glob, user, project, instance,
        text, None, raw, h.facility, h.severity, True, False, function, location, o.source)


class Draft:
    """A record being assembled: its first line's parts, then its message, traceback and raw lines."""

    __slots__ = ("owner", "origin", "header", "first", "msg", "tb", "in_tb", "raw", "chars", "lines",
                 "instance", "cut", "is_open", "arrived", "seq")

    def __init__(self, owner: object, origin: Origin, header: SyslogMessage | None, first: OsloLine | None,
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
                first.level == "TRACE" or (first.level == "ERROR" and text.startswith(TRACEBACK))):
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

    def spawn(self) -> Draft:
        """The record that takes the lines after this one was truncated: same header, no text yet."""
        b = Draft(self.owner, self.origin, self.header, self.first, None, False, None)
        b.instance, b.in_tb, b.arrived = self.instance, self.in_tb, self.arrived
        return b

    def build(self, truncated: bool, facility_services: Mapping[int, str] | None = None) -> LogRecord:
        f, h, o = self.first, self.header, self.origin
        if self.lines == 1 and f is not None and self.msg and not (self.cut or truncated):
            text = self.msg[0]                   # the common case: one oslo.log line
            if not text.startswith(TRACEBACK):
                return line_record(f, h, o, text, self.instance, self.raw[0], facility_services)
        msg, tb = self.msg, self.tb
        parsed = f is not None or (h is not None and h.parsed)
        function = location = None
        if f is not None and f.level == "DEBUG" and msg:
            last, function, location = split_debug_suffix(msg[-1])
            if function is not None:
                msg = msg[:-1] + [last] if last or len(msg) == 1 else msg[:-1]
        if parsed and not tb and msg and (len(msg) > 1 or msg[0].startswith(TRACEBACK)):
            for i, text in enumerate(msg):       # a traceback logged as message text
                if text.startswith(TRACEBACK):
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
