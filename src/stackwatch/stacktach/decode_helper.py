"""Decoding notifications in a helper process, so that decoding and normalizing (JSON twice, the field
mapping) run on one core while this process reads AMQP and writes the archive on another (the log
ingest's `ParseWorker` does the same for syslog).

`normalize(...)` is the one decoding step, used here and in the helper: AMQP message fields in, a stored
row (`archive.COLUMNS`) or a dead-letter verdict out. `DecodeHelper` is the helper: a fresh interpreter
(no fork of a process running threads) talking over two pipes in marshal'ed plain values, chunk i+1
decoding while the caller stores chunk i. Any trouble (the helper died, hung, failed on a chunk) raises
`HelperFailed` and the caller decodes that chunk itself: nothing is lost or stored twice.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import marshal
import os
import subprocess
import sys
from multiprocessing.connection import Connection

from stackwatch.stacktach.names import PUBLISHER_SERVICES
from stackwatch.stacktach.notification import MalformedNotification, Notification, decode_fields

KNOWN_SERVICES = frozenset(PUBLISHER_SERVICES.values()) | {"swift", "placement", "ironic", "octavia", "manila",
                                                           "designate", "trove", "magnum", "barbican"}
ANSWER_TIMEOUT = 60.0        # seconds the helper may take for a chunk before it is given up
_PIPE_SIZE = 1 << 20

Item = tuple   # (body: bytes, amqp message_id | None, exchange, deployment, received_at)


def message_id_of(n: Notification, amqp_message_id: str | None, body: bytes) -> str:
    """oslo's message_id, else the AMQP property, else a digest of the body (so redeliveries still match)."""
    return n.message_id or amqp_message_id or "sha256:" + hashlib.sha256(body).hexdigest()


def notification_row(n: Notification, message_id: str, received_at: float, deployment: str) -> tuple:
    """A Notification in `archive.COLUMNS` order."""
    return (message_id, n.timestamp if n.timestamp is not None else received_at, deployment, n.event_type,
            n.name, n.priority or "", n.publisher_id or "", n.service, n.host or "", n.request_id,
            n.global_request_id, n.tenant_id, n.user_id, n.instance_uuid, n.state, n.old_state, n.task_state,
            1 if n.is_error else 0, n.flavor, n.resource_id, n.size, n.raw)


def normalize(item: Item, max_bytes: int) -> tuple:
    """("r", row) for a notification to store, ("d", message_id | None, reason) for a dead letter: the row
    `notification_row` makes of `decode`'s Notification, built from `decode_fields` (no usage fields, no
    Notification: a third less work per message)."""
    body, amqp_id, exchange, deployment, received_at = item
    try:
        f = decode_fields(body, max_bytes, exchange=exchange, cell=deployment, usage=False)
    except MalformedNotification as exc:
        return ("d", amqp_id, exc.reason)
    message_id = f["message_id"] or amqp_id or "sha256:" + hashlib.sha256(body).hexdigest()
    if f["service"] not in KNOWN_SERVICES:
        return ("d", message_id, "unknown event type")
    ts = f["timestamp"]
    return ("r", (message_id, ts if ts is not None else received_at, deployment, f["event_type"], f["name"],
                  f["priority"] or "", f["publisher_id"] or "", f["service"], f["host"] or "", f["request_id"],
                  f["global_request_id"], f["tenant_id"], f["user_id"], f["instance_uuid"], f["state"],
                  f["old_state"], f["task_state"], 1 if f["is_error"] else 0, f["flavor"], f["resource_id"],
                  f["size"], f["raw"]))


class HelperFailed(Exception):
    """The helper died, hung or failed on a chunk: the caller decodes that chunk itself."""


class DecodeHelper:
    def __init__(self, max_bytes: int):
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c",
                 "import sys; from stackwatch.stacktach.decode_helper import _serve; _serve(sys.argv[1:])",
                 str(to_child), str(from_child), str(max_bytes)],
                stdin=subprocess.DEVNULL, pass_fds=(to_child, from_child), close_fds=True)
        finally:
            os.close(to_child)
            os.close(from_child)
        # Two chunks in flight only when the pipes can hold them and their answers (no mutual blocking).
        self.ahead = 2 if all([_widen_pipe(fd) for fd in (from_parent, to_parent)]) else 1
        self._out = Connection(from_parent, readable=False)
        self._in = Connection(to_parent, writable=False)
        self.pending = 0

    def alive(self) -> bool:
        return self._proc.poll() is None

    def send(self, items: list[Item]) -> None:
        try:
            self._out.send_bytes(marshal.dumps(items))
        except (OSError, ValueError) as exc:
            raise HelperFailed(f"cannot send: {exc}") from None
        self.pending += 1

    def receive(self) -> list[tuple]:
        """The `normalize` answers of the oldest chunk sent."""
        try:
            if not self._in.poll(ANSWER_TIMEOUT):
                raise HelperFailed(f"no answer in {ANSWER_TIMEOUT:.0f} s")
            data = self._in.recv_bytes()
        except (OSError, EOFError, ValueError) as exc:
            raise HelperFailed(f"cannot receive: {exc or type(exc).__name__}") from None
        self.pending -= 1
        answer = marshal.loads(data)
        if isinstance(answer, str):
            raise HelperFailed(answer)
        return answer

    def drain(self) -> bool:
        """Read the answers still due; False if the helper cannot give them."""
        try:
            while self.pending:
                self.receive()
        except HelperFailed:
            return False
        return True

    def close(self) -> None:
        self._out.close()
        self._in.close()
        try:
            self._proc.wait(2)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(2)


def _widen_pipe(fd: int) -> bool:
    try:
        return fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_SIZE) >= _PIPE_SIZE
    except OSError:
        return False


def _serve(argv: list[str]) -> None:
    """The helper's loop: a chunk of items in, their `normalize` answers out (a str: the chunk failed)."""
    conn_in, conn_out = Connection(int(argv[0]), writable=False), Connection(int(argv[1]), readable=False)
    max_bytes = int(argv[2])
    gc.disable()                  # a chunk's objects hold no cycles: collect now and then, not per 700
    chunks = 0
    while True:
        try:
            items = marshal.loads(conn_in.recv_bytes())
        except (EOFError, OSError):
            return
        chunks += 1
        if chunks % 1000 == 0:
            gc.collect()
        try:
            answer: object = [normalize(item, max_bytes) for item in items]
        except Exception as exc:                # a decoder bug: the caller decodes this chunk itself
            answer = f"{type(exc).__name__}: {exc}"
        try:
            conn_out.send_bytes(marshal.dumps(answer))
        except (OSError, ValueError):
            return
