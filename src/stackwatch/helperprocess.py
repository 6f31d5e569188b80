"""A helper interpreter on two pipes, so that CPU-heavy work (parsing syslog, decoding notifications) runs on
another core while the parent stores what came back before. Used by the log ingest's parse helpers
(rsyslog.parseworker) and the notification capture's decode helper (stacktach.decode_helper).

The parent's `HelperProcess` sends requests and reads their answers in order, marshal'ed plain values, with up
to `ahead` requests in flight (two when the pipes can hold two requests and their answers, so neither side can
block writing to the other). The helper is a fresh interpreter (no fork of a process running threads) whose
entry point calls `serve(argv, handle)`. A helper that dies, hangs or fails on a request raises `HelperFailed`
in the parent, which then does that request's work itself: nothing is lost and nothing is done twice.
"""

from __future__ import annotations

import fcntl
import gc
import marshal
import os
import subprocess
import sys
from multiprocessing.connection import Connection
from typing import Any, Callable

ANSWER_TIMEOUT = 60.0        # seconds a helper may take for a request before it is given up
PIPE_SIZE = 1 << 20


class HelperFailed(Exception):
    """The helper died, hung or failed on a request: the caller does that work itself."""


class HelperProcess:
    """The parent's end. `entry` is "module:function", called in the helper with its argv (the two pipe ends,
    then `args`)."""

    def __init__(self, entry: str, args: list[str]):
        module, _, function = entry.partition(":")
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", f"import sys; from {module} import {function}; {function}(sys.argv[1:])",
                 str(to_child), str(from_child), *args],
                stdin=subprocess.DEVNULL, pass_fds=(to_child, from_child), close_fds=True)
        finally:
            os.close(to_child)
            os.close(from_child)
        self.ahead = 2 if all([_widen_pipe(fd) for fd in (from_parent, to_parent)]) else 1
        self._out = Connection(from_parent, readable=False)
        self._in = Connection(to_parent, writable=False)
        self.pending = 0

    def alive(self) -> bool:
        return self._proc.poll() is None

    def send(self, request: Any) -> None:
        try:
            self._out.send_bytes(marshal.dumps(request))
        except (OSError, ValueError) as exc:
            raise HelperFailed(f"cannot send: {exc}") from None
        self.pending += 1

    def receive(self) -> Any:
        """The answer to the oldest request sent."""
        try:
            if not self._in.poll(ANSWER_TIMEOUT):
                raise HelperFailed(f"no answer in {ANSWER_TIMEOUT:.0f} s")
            data = self._in.recv_bytes()
        except (OSError, EOFError, ValueError) as exc:
            raise HelperFailed(f"cannot receive: {exc or type(exc).__name__}") from None
        self.pending -= 1
        failed, answer = marshal.loads(data)
        if failed:
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


def serve(argv: list[str], handle: Callable[[Any], Any]) -> None:
    """The helper's loop: each request in, `handle(request)` out (an exception: that request failed, and the
    parent does it itself); returns when the parent closes its pipes or exits."""
    conn_in, conn_out = Connection(int(argv[0]), writable=False), Connection(int(argv[1]), readable=False)
    gc.disable()                  # what a request allocates holds no cycles: collect now and then, not per 700
    count = 0
    while True:
        try:
            request = marshal.loads(conn_in.recv_bytes())
        except (EOFError, OSError):
            return
        count += 1
        if count % 1000 == 0:
            gc.collect()
        try:
            answer: tuple = (False, handle(request))
        except Exception as exc:  # a bug in the work: the parent does this request itself
            answer = (True, f"{type(exc).__name__}: {exc}")
        try:
            conn_out.send_bytes(marshal.dumps(answer))
        except (OSError, ValueError):
            return


def _widen_pipe(fd: int) -> bool:
    """Make the pipe hold PIPE_SIZE bytes (Linux); False where it cannot."""
    try:
        return fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE) >= PIPE_SIZE
    except OSError:
        return False
