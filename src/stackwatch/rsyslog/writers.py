"""The store's own log writer processes (with the embedded store: `store.sqlite.log_writer`), lent out one
per batch: the receiver hands the log ingest two batches at once, and each goes whole to an idle writer,
which parses and stores it in one transaction. Up to `size` writers are started as they are needed; one
that failed is stopped, and none is started again for `restart_after` seconds (batches are parsed and
stored in the ingest's own process meanwhile).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from stackwatch.helperprocess import HelperFailed, HelperProcess

log = logging.getLogger(__name__)


class Writers:
    def __init__(self, start: Callable[[], HelperProcess], size: int, restart_after: float = 30.0):
        self._start = start
        self.size = max(1, size)
        self.restart_after = restart_after
        self._idle: list[HelperProcess] = []
        self._started = 0
        self._failed_at = float("-inf")
        self._closed = False
        self._cond = threading.Condition()

    def take(self, timeout: float) -> HelperProcess | None:
        """An idle writer, started if need be; None if none can be had (one failed lately, none can start,
        or all stay busy for `timeout` seconds): the caller does the work itself."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._closed or time.monotonic() - self._failed_at < self.restart_after:
                    return None
                while self._idle:
                    writer = self._idle.pop()
                    if writer.alive():
                        return writer
                    self._started -= 1
                    writer.close()
                if self._started < self.size:
                    self._started += 1
                    break
                left = deadline - time.monotonic()
                if left <= 0 or not self._cond.wait(left):
                    return None
        try:
            return self._start()
        except Exception as exc:            # no processes here
            self.lost(None, HelperFailed(f"cannot start: {exc}"))
            return None

    def give_back(self, writer: HelperProcess) -> None:
        with self._cond:
            if self._closed:
                writer.close()
                self._started -= 1
            else:
                self._idle.append(writer)
            self._cond.notify()

    def lost(self, writer: HelperProcess | None, exc: Exception) -> None:
        """`writer` failed: stop it (it cannot commit anything after this returns)."""
        log.warning("log writer process failed, parsing and storing in this process for now: %s", exc)
        if writer is not None:
            writer.close()
        with self._cond:
            self._started -= 1
            self._failed_at = time.monotonic()
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._started -= len(idle)
            self._cond.notify_all()
        for writer in idle:
            writer.close()
