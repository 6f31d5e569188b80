"""One connection of the syslog receiver, and what one read of it brings (adapter, asyncio): shared by the
receiver (`receiver.py`) and its RELP sessions (`relp_session.py`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from stackwatch.rsyslog.message import RawMessage

# Unanswered groups of frames (each what one read brought, at least one frame) per RELP connection before
# we stop reading it: more than a batch and than the window the generated omrelp config gives rsyslog
# (8,192 frames), so a sender is never held back waiting for a batch that is waiting for it.
RELP_PENDING = 16384


@dataclass(eq=False)
class Conn:
    peer: str
    transport: str
    writer: asyncio.StreamWriter
    reader_task: asyncio.Task | None = None
    pending: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(RELP_PENDING))   # RELP only
    closed: bool = False      # RELP: can no longer answer, so its queued frames must not be stored


@dataclass(slots=True)
class Item:
    msgs: list[RawMessage]                    # what one read (or one datagram) brought
    conn: Conn | None = None
    stored: asyncio.Future | None = None     # RELP: result None once stored, cancelled if not


def peer_name(addr) -> str:
    """host:port of a socket address ([v6]:port)."""
    if isinstance(addr, tuple) and len(addr) >= 2:
        host = f"[{addr[0]}]" if ":" in str(addr[0]) else str(addr[0])
        return f"{host}:{addr[1]}"
    return str(addr)
