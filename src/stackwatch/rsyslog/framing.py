"""Syslog message framing on a byte stream (RFC 6587 over TCP, RFC 5425 over TLS) and in a datagram.

A TCP frame is octet-counted (`LEN SP MSG`, RFC 6587 3.4.1) when it starts with a run of at most nine
digits followed by a space; otherwise it ends at LF (non-transparent framing, 3.4.2) or at NUL (some old
senders). The choice is made per frame, so a sender may mix them. A message is capped at `max_size`
octets: a longer one is cut there, counted as oversized, and the rest of it is skipped as it arrives,
so the buffer never grows beyond one message and a stream never stalls. A frame that does not start
with `<` (no syslog PRI: garbage, binary, a lost frame boundary) is counted as a framing error and
still delivered, for the parser to keep or reject; the stream goes on with the next delimiter.

Pure: stdlib only.
"""

from __future__ import annotations

import re
from typing import Protocol

MAX_MESSAGE = 64 * 1024
_DIGITS = frozenset(b"0123456789")
_MAX_LEN_DIGITS = 9
_OCTET_COUNT = re.compile(rb"(\d{1,9}) ")         # the common case, matched in one step


class FramingStats(Protocol):
    framing_errors: int
    oversized: int


def _trim(frame: bytes) -> bytes:
    """Drop the line end a template or sender left at the end of a message (`\\n`, `\\r\\n`, NUL)."""
    return frame.rstrip(b"\r\n\0")


class SyslogFramer:
    """Incremental framing of one stream: `feed(bytes) -> [message]`, `finish()` at end of stream."""

    def __init__(self, stats: FramingStats, max_size: int = MAX_MESSAGE):
        self._stats = stats
        self._max = max_size
        self._buf = bytearray()
        self._skip = 0              # octets of a cut octet-counted message still to drop
        self._skip_line = False     # dropping the rest of a cut LF-framed message up to its delimiter

    def _deliver(self, out: list[bytes], frame: bytes) -> None:
        frame = _trim(frame)
        if not frame:
            return
        if frame[:1] != b"<":
            self._stats.framing_errors += 1
        out.append(frame)

    def feed(self, data: bytes) -> list[bytes]:
        buf, out, pos = self._buf, [], 0
        buf += data
        n = len(buf)
        octet_count, limit, stats = _OCTET_COUNT.match, self._max, self._stats
        while pos < n:
            if not self._skip and not self._skip_line:       # a whole octet-counted frame: the fast path
                m = octet_count(buf, pos)
                if m is not None:
                    length, start = int(m.group(1)), m.end()
                    if 0 < length <= limit and n - start >= length:
                        frame = bytes(buf[start:start + length]).rstrip(b"\r\n\0")
                        if frame:
                            if frame[:1] != b"<":
                                stats.framing_errors += 1
                            out.append(frame)
                        pos = start + length
                        continue
            if self._skip:
                step = min(self._skip, n - pos)
                self._skip -= step
                pos += step
                continue
            if self._skip_line:
                end = self._delimiter(buf, pos, n)
                if end < 0:
                    pos = n
                    break
                self._skip_line = False
                pos = end + 1
                continue
            if buf[pos] in b"\n\r\0":                         # blank line or trailer between frames
                pos += 1
                continue
            i = pos
            while i < n and i - pos <= _MAX_LEN_DIGITS and buf[i] in _DIGITS:
                i += 1
            if i == n and i - pos <= _MAX_LEN_DIGITS:
                break                                          # only digits so far: wait for more
            if i > pos and i - pos <= _MAX_LEN_DIGITS and buf[i] == 0x20:
                length, start = int(buf[pos:i]), i + 1
                if length == 0:
                    self._stats.framing_errors += 1
                    pos = start
                    continue
                if length > self._max:
                    if n - start < self._max:
                        break
                    self._stats.oversized += 1
                    self._deliver(out, bytes(buf[start:start + self._max]))
                    self._skip = length - self._max
                    pos = start + self._max
                    continue
                if n - start < length:
                    break
                self._deliver(out, bytes(buf[start:start + length]))
                pos = start + length
                continue
            end = self._delimiter(buf, pos, min(n, pos + self._max + 1))
            if end < 0:
                if n - pos <= self._max:
                    break
                self._stats.oversized += 1
                self._deliver(out, bytes(buf[pos:pos + self._max]))
                self._skip_line = True                         # no delimiter within max + 1 octets
                pos += self._max
                continue
            self._deliver(out, bytes(buf[pos:end]))
            pos = end + 1
        del buf[:pos]
        return out

    @staticmethod
    def _delimiter(buf: bytearray, start: int, stop: int) -> int:
        lf, nul = buf.find(b"\n", start, stop), buf.find(b"\0", start, stop)
        return lf if nul < 0 or 0 <= lf < nul else nul

    def finish(self) -> list[bytes]:
        """End of stream: an LF-framed last message without its LF is delivered; a truncated
        octet-counted frame is a framing error."""
        out: list[bytes] = []
        rest, self._buf = bytes(self._buf), bytearray()
        if rest.strip(b"\r\n\0") and not self._skip_line:
            head, sep, _ = rest.partition(b" ")
            if sep and head.isdigit() and len(head) <= _MAX_LEN_DIGITS:
                self._stats.framing_errors += 1
            else:
                self._deliver(out, rest)
        return out


def datagram_message(data: bytes, stats: FramingStats, max_size: int = MAX_MESSAGE) -> bytes | None:
    """One UDP datagram is one message (RFC 5426); None when it is empty."""
    if len(data) > max_size:
        stats.oversized += 1
        data = data[:max_size]
    frame = _trim(data)
    if not frame:
        return None
    if frame[:1] != b"<":
        stats.framing_errors += 1
    return frame
