"""One syslog message -> header fields and body: RFC 3164 and RFC 5424, with or without `<PRI>`,
as received on the wire or as rsyslog writes it to files (traditional `Mmm dd hh:mm:ss host tag:`
and RSYSLOG_FileFormat's RFC 3339 time), with rsyslog's `#012`/`#011` control-character escapes
decoded. Never raises: what does not look like syslog comes back with ``parsed=False``.

Pure: stdlib only.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from stackwatch.rsyslog.timestamps import Clock

_PRI = re.compile(r"<(\d{1,3})>")
_RFC5424 = re.compile(r"1 (\S+) (\S+) (\S+) (\S+) (\S+) ?")
_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?(?: +|$)")
_BSD = re.compile(r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(?: +|$)")
_HOST = re.compile(r"([^\s\[\]]+)(?: +|$)")
_TAG = re.compile(r"([^\s\[\]:]{1,128})(?:\[([^\]\s]{0,32})\])?:(?: |$)")
_BOM = "\ufeff"
# The common case in one match: [<PRI>]Mmm dd hh:mm:ss host tag[pid]: (rsyslog's traditional format)
_TRADITIONAL = re.compile(r"(?:<(\d{1,3})>)?([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d:\d\d:\d\d) "
                          r"([^\s\[\]]*[^\s\[\]:]) ([^\s\[\]:]{1,128})(?:\[(\d{1,9})\])?:(?: |$)")
# The common case of RFC 5424 in one match: a time with its zone, '-' for STRUCTURED-DATA (rsyslog's
# RSYSLOG_SyslogProtocol23Format, which stackwatch's generated client config forwards with)
RFC5424_PLAIN = re.compile(
    r"<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) (\S+) (\S+) (\S+) (\S+) - ?")
_make = tuple.__new__


class SyslogMessage(NamedTuple):
    """The header of one syslog message and its body (escapes decoded; may hold several lines)."""

    body: str
    parsed: bool = True                 # False: no syslog header found, body is the whole line
    timestamp: float | None = None      # header time; None when absent or invalid
    host: str = ""
    program: str = ""
    pid: int | None = None
    facility: int | None = None
    severity: int | None = None
    msgid: str | None = None            # RFC 5424 only
    structured_data: str | None = None  # RFC 5424 only, as written


def decode_escapes(text: str) -> str:
    """rsyslog's control-character escapes: `#012` is a newline, `#011` a tab. Others stay as written."""
    if "#01" not in text:
        return text
    return text.replace("#012", "\n").replace("#011", "\t")


def _strip_lead(body: str) -> str:
    """MSG without its BOM (RFC 5424) and without the space an RFC 3164 MSG starts with when rsyslog
    relays it in RFC 5424 (`... - -  text`: the second space is the old MSG's)."""
    if body.startswith(_BOM):
        body = body[1:]
    return body[1:] if body.startswith(" ") else body


def _nil(value: str) -> str | None:
    return None if value == "-" else value


def parse_pid(value: str | None) -> int | None:
    """A PROCID or tag pid as a number; None when it is not one (RFC 5424 allows any text)."""
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _structured_data(text: str, pos: int) -> tuple[str | None, int]:
    """RFC 5424 STRUCTURED-DATA at `pos`: '-' or '[id k="v" ...]...'; returns (sd, end)."""
    if text.startswith("-", pos):
        return None, pos + 1
    start, i, n = pos, pos, len(text)
    while i < n and text[i] == "[":
        i += 1
        quoted = False
        while i < n:
            c = text[i]
            if quoted:
                if c == "\\":
                    i += 1
                elif c == '"':
                    quoted = False
            elif c == '"':
                quoted = True
            elif c == "]":
                break
            i += 1
        i += 1                                   # past ']' (or past the end if unterminated)
    return (text[start:i] if i > start else None), min(i, n)


def parse_message(line: str, *, clock: Clock, now: float | None = None, peer_host: str = "") -> SyslogMessage:
    """Parse one syslog message (one line of an rsyslog file, or one datagram/frame)."""
    m = RFC5424_PLAIN.match(line)
    if m is not None:
        pri, second, frac, zone, host, app, procid, msgid = m.groups()
        pri = int(pri)
        if pri <= 191:
            body = line[m.end():]
            if body:
                if body[0] == " " or body[0] == _BOM:    # a relayed RFC 3164 MSG's leading space; a BOM
                    body = _strip_lead(body)
                if "#01" in body:
                    body = decode_escapes(body)
            return _make(SyslogMessage, (
                body, True, clock.zoned(second, frac, zone), host if host != "-" else peer_host,
                app if app != "-" else "", parse_pid(procid), pri >> 3, pri & 7, None if msgid == "-" else msgid,
                None))
    m = _TRADITIONAL.match(line)
    if m is not None:
        pri, month, day, hms, host, program, pid = m.groups()
        if pri is None or int(pri) <= 191:
            body = line[m.end():]
            if "#01" in body:
                body = decode_escapes(body)
            return _make(SyslogMessage, (
                body, True, clock.bsd(clock.year_for(month, now), month, int(day), hms, None), host, program,
                int(pid) if pid else None, None if pri is None else int(pri) >> 3,
                None if pri is None else int(pri) & 7, None, None))
    pos = 0
    facility = severity = None
    has_pri = False
    m = _PRI.match(line)
    if m:
        pri = int(m.group(1))
        if pri <= 191:
            facility, severity = pri >> 3, pri & 7
            has_pri = True
            pos = m.end()

    if has_pri:
        m = _RFC5424.match(line, pos)
        if m:
            return _rfc5424(line, m, facility, severity, clock, peer_host)

    timestamp: float | None = None
    m = _BSD.match(line, pos)
    if m:
        month, day, year, hms, frac = m.groups()
        timestamp = clock.bsd(int(year) if year else clock.year_for(month, now), month, int(day), hms, frac)
        pos = m.end()
    else:
        m = _RFC3339.match(line, pos)
        if m:
            timestamp = clock.iso(m.group(1), m.group(2), m.group(3))
            pos = m.end()
        elif not has_pri:
            return SyslogMessage(body=line, parsed=False)

    host = peer_host
    if m:                                        # a hostname follows a timestamp, unless the tag does
        h = _HOST.match(line, pos)
        if h and not h.group(1).endswith(":"):
            host = h.group(1)
            pos = h.end()
    program, pid = "", None
    t = _TAG.match(line, pos)
    if t:
        program, pid = t.group(1), parse_pid(t.group(2))
        pos = t.end()
    return SyslogMessage(body=decode_escapes(line[pos:]), timestamp=timestamp, host=host, program=program,
                         pid=pid, facility=facility, severity=severity)


def _rfc5424(line: str, m: re.Match, facility: int | None, severity: int | None, clock: Clock,
             peer_host: str) -> SyslogMessage:
    stamp, host, app, procid, msgid = m.groups()
    timestamp = None
    if stamp != "-":
        t = _RFC3339.match(stamp + " ")
        if t:
            timestamp = clock.iso(t.group(1), t.group(2), t.group(3))
    sd, pos = _structured_data(line, m.end())
    if line.startswith(" ", pos):
        pos += 1
    return SyslogMessage(body=decode_escapes(_strip_lead(line[pos:])), timestamp=timestamp,
                         host=_nil(host) or peer_host,
                         program=_nil(app) or "", pid=parse_pid(procid), facility=facility, severity=severity,
                         msgid=_nil(msgid), structured_data=sd)
