"""What every log input hands to the ingest pipeline: raw messages, and the sink contract.

Pure: stdlib only. Receivers (syslog over TCP/UDP/TLS/RELP) and the file tailer produce `RawMessage`s and
call a `Sink`; the sink returns only after the messages are durably stored (then the receiver may
acknowledge: a RELP `rsp 200`, a file position saved) and raises to refuse them (no acknowledgement:
the sender keeps them and retries).
"""

from __future__ import annotations

from typing import Callable, NamedTuple


class RawMessage(NamedTuple):
    """Immutable; a tuple, as receivers make one per message (a frozen dataclass cost 4 times as much)."""

    data: bytes          # one framed syslog message, or one line of a file without its newline
    received_at: float   # epoch seconds when it arrived
    peer: str            # the sender's address ("10.0.0.5:41234"), or the file's path
    transport: str       # "tcp", "udp", "tls", "relp" or "file"


Sink = Callable[[list[RawMessage]], None]


class SinkRefused(Exception):
    """The sink could not store a batch (store down, full): do not acknowledge, let the sender retry."""
