"""A RELP session of the syslog receiver (adapter, asyncio): rsyslog's omrelp, plain or over TLS. Syslog
frames are queued for the store a read at a time and answered (`200 OK`) only once stored, in command
order; a frame not stored is never answered and its connection is closed, so librelp resends it after
reconnecting (it forgets a frame answered with an error). See `receiver.py` for the queue and the store.
"""

from __future__ import annotations

import asyncio
import logging
import time

from stackwatch.rsyslog.connection import Conn, Item, peer_name
from stackwatch.rsyslog.message import RawMessage
from stackwatch.rsyslog.relp import OK_RESPONSE, SERVERCLOSE, RelpError, RelpParser, open_response, response

log = logging.getLogger(__name__)

CLOSE = object()             # end of a RELP connection's responses


async def serve_relp(receiver, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     transport: str = "relp") -> None:
    """One RELP connection of `receiver` (a SyslogReceiver): its syslog frames queued for the store a read at a
    time, answered once stored."""
    if receiver.stopping:
        writer.close()
        return
    conn = Conn(peer_name(writer.get_extra_info("peername")), "relp", writer, asyncio.current_task())
    receiver.conns.add(conn)
    responder = asyncio.create_task(respond(conn))
    parser, loop = RelpParser(receiver.max_message), asyncio.get_running_loop()
    msgs: list[RawMessage] = []                           # this read's syslog frames, not queued yet
    txnrs: list[int] = []                                 # ... and their transaction numbers

    async def queue_group() -> None:
        """The syslog frames read so far go to the store as one item, answered together once stored."""
        nonlocal msgs, txnrs
        if not msgs:
            return
        stored = loop.create_future()
        item, group = Item(msgs, conn, stored), txnrs
        msgs, txnrs = [], []
        try:
            await conn.pending.put((group, stored))
            await receiver.put(item)
        except asyncio.CancelledError:
            stored.cancel()
            raise
    try:
        while not conn.closed:
            data = await reader.read(65536)
            if not data:
                break
            now, peer, closing = time.time(), conn.peer, False
            for frame in parser.feed(data):
                if frame.command == "syslog":
                    receiver.received += 1
                    receiver.oversized += frame.truncated
                    msgs.append(RawMessage(frame.data.rstrip(b"\r\n\0"), now, peer, transport))
                    txnrs.append(frame.txnr)
                    continue
                await queue_group()                       # answers stay in command order
                if frame.command == "open":
                    await conn.pending.put(open_response(frame.txnr))
                elif frame.command == "close":
                    await conn.pending.put(response(frame.txnr))
                    closing = True
                    break
                else:
                    await conn.pending.put(response(frame.txnr, 500, f"command {frame.command} not supported"))
            await queue_group()
            if closing:
                return
    except RelpError as exc:
        receiver.framing_errors += 1
        log.warning("RELP framing error from %s, closing: %s", conn.peer, exc)
        conn.closed = True
    except (ConnectionError, OSError) as exc:                 # ssl.SSLError too
        log.debug("RELP connection from %s ended: %s", conn.peer, exc)
        conn.closed = True
    except asyncio.CancelledError:
        pass                                              # stopping: answer what is stored, then close
    finally:                                              # frames read, never queued: never answered
        try:
            conn.pending.put_nowait(CLOSE)
        except asyncio.QueueFull:
            conn.closed = True
        if conn.closed:
            responder.cancel()
        try:
            await asyncio.gather(responder, return_exceptions=True)
        except asyncio.CancelledError:                    # the loop is going away
            responder.cancel()
        receiver.conns.discard(conn)
        writer.close()

async def respond(conn: Conn) -> None:
    """Answer in command order: a syslog frame once stored; stop at the first one not stored."""
    writer = conn.writer
    try:
        while True:
            entry = await conn.pending.get()
            if entry is CLOSE:
                writer.write(SERVERCLOSE)
                await writer.drain()
                break
            if isinstance(entry, bytes):
                writer.write(entry)
            else:
                txnrs, stored = entry
                if not stored.done():
                    await writer.drain()
                    await asyncio.wait([stored])
                if stored.cancelled():
                    log.info("RELP %s: frames %d-%d not stored, closing without answer", conn.peer,
                             txnrs[0], txnrs[-1])
                    writer.write(SERVERCLOSE)
                    break
                writer.write(b"".join([OK_RESPONSE % txnr for txnr in txnrs]))
            if conn.pending.empty():
                await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        conn.closed = True
        if conn.reader_task is not None and not conn.reader_task.done():
            conn.reader_task.cancel()
        writer.close()
