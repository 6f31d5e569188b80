"""The log parser's front door: lines (of an OpenStack service's log file, or of rsyslog's files) or
single syslog messages -> `LogRecord`s, and a record -> a JSON-ready dict.

Input may be str or bytes. Bytes are decoded as UTF-8; invalid sequences become U+FFFD for parsing
while ``raw`` keeps them as backslash escapes. A line over MAX_LINE_CHARS is cut and its record flagged
``truncated``. Nothing here raises on bad input: what matches no format is an unparsed record.

Pure: stdlib only. The caller passes `now` (for RFC 3164's missing year) and `tz`.
"""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import datetime, timezone, tzinfo
from typing import Iterable, Iterator, Mapping

from stackwatch.rsyslog.assemble import Assembler, Origin, message_record
from stackwatch.rsyslog.draft import TRACEBACK
from stackwatch.rsyslog.oslo import PREFIX, is_context, parse_context, split_debug_suffix
from stackwatch.rsyslog.record import MAX_LINE_CHARS, LogRecord, facility_name, severity_name
from stackwatch.rsyslog.services import service_for
from stackwatch.rsyslog.syslog import RFC5424_PLAIN, SyslogMessage, parse_message, parse_pid
from stackwatch.rsyslog.timestamps import Clock

__all__ = ["LogRecord", "decode_line", "parse_lines", "parse_syslog_message", "to_json"]

_FIELDS = tuple(f.name for f in fields(LogRecord))
_RELAYED_OSLO = re.compile(RFC5424_PLAIN.pattern + " ?" + PREFIX.pattern)


def decode_line(line: str | bytes) -> tuple[str, str, bool]:
    """One input line -> (text to parse, raw text to keep, cut?). Strips one trailing line break."""
    if isinstance(line, str):
        if line.endswith("\n"):
            line = line[:-2] if line.endswith("\r\n") else line[:-1]
        cut = len(line) > MAX_LINE_CHARS
        if cut:
            line = line[:MAX_LINE_CHARS]
        return line, line, cut
    data = bytes(line)
    if data.endswith(b"\n"):
        data = data[:-2] if data.endswith(b"\r\n") else data[:-1]
    cut = len(data) > MAX_LINE_CHARS
    if cut:
        data = data[:MAX_LINE_CHARS]
    try:
        text = data.decode("utf-8")
        return text, text, cut
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), data.decode("utf-8", "backslashreplace"), cut


def parse_lines(lines: Iterable[str | bytes], syslog: bool, source: str = "", tz: tzinfo | None = None, *,
                host: str = "", now: float | None = None,
                facility_services: Mapping[int, str] | None = None) -> Iterator[LogRecord]:
    """Parse a stream of lines into records, multi-line events folded.

    syslog=False: an OpenStack service's own log file (oslo.log lines); `source` is its path (it names
    the program: /var/log/nova/nova-compute.log -> nova-compute) and `host` the machine it was read on.
    syslog=True: one syslog message per line, as rsyslog writes files; records are grouped per
    host+program+pid. `now` dates RFC 3164 times, which have no year (without it: 1970).
    Zone-less times are in `tz` (default UTC).
    """
    asm = Assembler(tz, facility_services=facility_services)
    if syslog:
        origin = Origin(source=source, host=host)
        clock = asm.clock
        feed_message = asm.feed_message
        for line in lines:
            text, raw, cut = decode_line(line)
            msg = parse_message(text, clock=clock, now=now)
            key = f"{msg.host}\0{msg.program}\0{msg.pid}"
            yield from feed_message(msg, key, raw=raw, cut=cut, origin=origin)
    else:
        origin = Origin.for_file(source, host)
        feed = asm.feed
        for line in lines:
            if line.__class__ is str and len(line) < MAX_LINE_CHARS and not line.endswith("\r\n"):
                text = line[:-1] if line.endswith("\n") else line    # the common case, inlined
                out = feed(text, source, origin=origin)
            else:
                text, raw, cut = decode_line(line)
                out = feed(text, source, origin=origin, raw=raw, cut=cut)
            if out:
                yield from out
    yield from asm.flush()


def parse_syslog_message(msg: str | bytes, received_at: float, peer_host: str, tz: tzinfo | None = None, *,
                         clock: Clock | None = None,
                         facility_services: Mapping[int, str] | None = None) -> LogRecord:
    """One syslog message as received (one datagram or frame) -> exactly one record.

    oslo.log sends a record and its traceback as one message (lines joined by rsyslog's `#012`), so
    the message is the record. A missing time is `received_at`, a missing host `peer_host`.
    Pass a long-lived `clock` to keep its per-minute cache between calls.
    """
    clock = clock or Clock(tz)
    if msg.__class__ is bytes and len(msg) <= MAX_LINE_CHARS and not msg.endswith(b"\n"):
        try:
            text = msg.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            r = _relayed_oslo_line(text, received_at, peer_host, clock, facility_services)
            if r is not None:
                return r
    text, raw, cut = decode_line(msg)
    m = parse_message(text, clock=clock, now=received_at, peer_host=peer_host)
    if m.timestamp is None or not m.host:
        m = SyslogMessage(body=m.body, parsed=m.parsed, timestamp=received_at if m.timestamp is None else m.timestamp,
                          host=m.host or peer_host, program=m.program, pid=m.pid, facility=m.facility,
                          severity=m.severity, msgid=m.msgid, structured_data=m.structured_data)
    return message_record(m, raw=raw, cut=cut, clock=clock, facility_services=facility_services)


def _relayed_oslo_line(text: str, received_at: float, peer_host: str, clock: Clock,
                       facility_services: Mapping[int, str] | None) -> LogRecord | None:
    """The common case of a receiver in one regex match: an RFC 5424 message as rsyslog forwards it whose
    body is one oslo.log line. The record is the one the general path (`parse_message`, `parse_line`,
    `line_record`) makes; None for anything else, which takes that path."""
    m = _RELAYED_OSLO.match(text)
    if m is None or "#01" in text:                 # no match; or several lines, escapes: the general path
        return None
    (pri, second, frac, zone, host, app, procid, msgid,
     _, o_second, o_frac, o_zone, pid, level, logger, context, instance) = m.groups()
    pri = int(pri)
    body = text[m.end():]
    if pri > 191 or body.startswith(TRACEBACK) or (context is None and level == "TRACE"):
        return None
    if context is not None and not (context.startswith("req-") or is_context(context)):
        return None                                # "[Errno 111] ..." is message text: the general path
    ts = clock.seconds.get(o_second) if o_zone is None else None
    if ts is not None:
        if o_frac:
            ts += float("0." + o_frac)
    else:
        ts = clock.iso(o_second, o_frac, o_zone)
        if ts is None:
            ts = clock.zoned(second, frac, zone)
            if ts is None:
                ts = received_at
    if instance is not None:
        instance = instance.strip() or None
    function = location = None
    if level == "DEBUG":
        body, function, location = split_debug_suffix(body)
    glob, req, user, project = parse_context(context)
    if app == "-":
        app = ""
    facility = pri >> 3
    return LogRecord(ts, peer_host if host == "-" else host,
                     service_for(app, logger, "", facility, facility_services), app,
                     int(pid) if pid else parse_pid(procid), level, logger, req, glob, user, project, instance, body,
                     None, text, facility, pri & 7, True, False, function, location, "")


def to_json(record: LogRecord) -> dict:
    """A record as a JSON-ready dict (every field, plus `time` in ISO 8601 UTC and the syslog names)."""
    d = {name: getattr(record, name) for name in _FIELDS}
    ts = record.timestamp
    try:
        d["time"] = None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(
            timespec="milliseconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        d["time"] = None
    d["facility_name"] = facility_name(record.facility)
    d["severity_name"] = severity_name(record.severity)
    return d
