"""RELP, the Reliable Event Logging Protocol of rsyslog's omrelp (librelp's doc/relp.html): frames
`TXNR SP COMMAND SP DATALEN [SP DATA] LF`, parsed incrementally, and the server's responses.

The server answers every command with `TXNR rsp LEN CODE SP TEXT [LF DATA] LF`, in command order;
`open` gets the accepted offers, a `syslog` frame gets `200 OK` once the message is stored, `close`
gets `200 OK` followed by the `serverclose` hint (TXNR 0). Data longer than `max_data` is cut there
(librelp's "truncate" oversize mode) and the frame still answered, so a sender never loops on it.
Anything else malformed raises `RelpError`: the spec says to close the connection then.

Pure: stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stackwatch.rsyslog.framing import MAX_MESSAGE

SERVERCLOSE = b"0 serverclose 0\n"
OK_RESPONSE = b"%d rsp 6 200 OK\n"          # `response(txnr)`, formatted with the txnr alone
OFFERS = b"relp_version=0\nrelp_software=stackwatch\ncommands=syslog"
_HEADER_MAX = 9 + 1 + 32 + 1 + 9 + 1
_HEADER = re.compile(rb"(\d{1,9}) ([A-Za-z]{1,32}) (\d{1,9})([ \n])")
_HEADER_PREFIX = re.compile(rb"\d{0,9}(?:(?<=\d) [A-Za-z]{0,32}(?:(?<=[A-Za-z]) \d{0,9})?)?")


class RelpError(ValueError):
    """The peer broke RELP framing; the connection must be closed."""


@dataclass(frozen=True, slots=True)
class RelpFrame:
    txnr: int
    command: str
    data: bytes
    truncated: bool = False


def response(txnr: int, code: int = 200, text: str = "OK", extra: bytes = b"") -> bytes:
    data = f"{code} {text}".encode() + (b"\n" + extra if extra else b"")
    return b"%d rsp %d %s\n" % (txnr, len(data), data)


def open_response(txnr: int) -> bytes:
    return response(txnr, 200, "OK", OFFERS)


def offers(data: bytes) -> dict[str, str]:
    """The client's `open` offers: `name=value` lines."""
    out = {}
    for line in data.split(b"\n"):
        name, _, value = line.decode("utf-8", "replace").partition("=")
        if name:
            out[name.strip()] = value.strip()
    return out


class RelpParser:
    """`feed(bytes) -> [RelpFrame]`; raises RelpError on a framing error."""

    def __init__(self, max_data: int = MAX_MESSAGE):
        self._max = max_data
        self._buf = bytearray()
        self._partial: tuple[int, str, int, bytes] | None = None   # (txnr, command, octets to drop, kept)

    def feed(self, data: bytes) -> list[RelpFrame]:
        buf, out, pos = self._buf, [], 0
        buf += data
        n = len(buf)
        while pos < n:
            if self._partial is not None:                     # inside an over-long frame: drop its tail
                txnr, command, left, kept = self._partial
                step = min(left, n - pos)
                pos += step
                left -= step
                if left:
                    self._partial = (txnr, command, left, kept)
                    break
                if pos == n:
                    self._partial = (txnr, command, 0, kept)
                    break
                self._trailer(buf, pos)
                pos += 1
                self._partial = None
                out.append(RelpFrame(txnr, command, kept, truncated=True))
                continue
            header = self._header(buf, pos, n)
            if header is None:
                break
            txnr, command, datalen, start = header
            if datalen == 0:
                if start >= n:
                    break
                self._trailer(buf, start)
                out.append(RelpFrame(txnr, command, b""))
                pos = start + 1
                continue
            if datalen > self._max:
                if n - start < self._max:
                    break
                kept = bytes(buf[start:start + self._max])
                self._partial = (txnr, command, datalen - self._max, kept)
                pos = start + self._max
                continue
            if n - start < datalen + 1:
                break
            self._trailer(buf, start + datalen)
            out.append(RelpFrame(txnr, command, bytes(buf[start:start + datalen])))
            pos = start + datalen + 1
        del buf[:pos]
        return out

    @staticmethod
    def _trailer(buf: bytearray, at: int) -> None:
        if buf[at] != 0x0A:
            raise RelpError(f"frame not terminated by LF (got {bytes(buf[at:at + 1])!r})")

    @staticmethod
    def _header(buf: bytearray, pos: int, n: int) -> tuple[int, str, int, int] | None:
        """(txnr, command, datalen, data start) or None when the header is not complete yet."""
        window = bytes(buf[pos:min(n, pos + _HEADER_MAX)])
        m = _HEADER.match(window)
        if m is None:
            if len(window) < _HEADER_MAX and _HEADER_PREFIX.fullmatch(window):
                return None
            raise RelpError(f"bad RELP header {window[:40]!r}")
        datalen = int(m.group(3))
        if m.group(4) == b"\n" and datalen:
            raise RelpError("DATALEN > 0 without data")
        start = pos + m.end() - (1 if m.group(4) == b"\n" else 0)
        return int(m.group(1)), m.group(2).decode("ascii"), datalen, start
