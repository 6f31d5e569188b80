"""Running jobs at their intervals: APScheduler 3.x with jitter, one run of a job at a time, and a job
that raises turned into one log line and a failure count (the caller decides what a failure means,
e.g. an UNKNOWN check result), never a dead process.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


@dataclass
class JobStats:
    runs: int = 0
    failures: int = 0
    last_duration: float = 0.0
    last_error: str = ""
    last_run: float = 0.0


class Scheduler:
    def __init__(self, workers: int = 8, clock: Callable[[], float] = time.time):
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
            timezone="UTC",
        )
        self.clock = clock
        self.stats: dict[str, JobStats] = {}
        self._lock = threading.Lock()

    def add(self, name: str, func: Callable[[float], None], interval: float, jitter: float = 0.0,
            on_failure: Callable[[float, BaseException], None] | None = None, run_now: bool = True) -> None:
        """Run `func(now)` every `interval` seconds (± `jitter`); a first run right after start."""
        if name in self.stats:
            raise ValueError(f"duplicate job {name!r}")
        self.stats[name] = JobStats()
        wrapped = self._guard(name, func, on_failure)
        kwargs = {}
        if run_now:
            from datetime import datetime, timezone

            kwargs["next_run_time"] = datetime.now(timezone.utc)
        self._scheduler.add_job(wrapped, "interval", seconds=max(interval, 0.1), jitter=jitter or None,
                                id=name, name=name, **kwargs)

    def add_cron(self, name: str, func: Callable[[float], None], crontab: str,
                 on_failure: Callable[[float, BaseException], None] | None = None) -> None:
        """Run `func(now)` at the times of a crontab expression ("0 6 * * 1": Mondays 06:00 UTC), e.g. reports."""
        from apscheduler.triggers.cron import CronTrigger

        if name in self.stats:
            raise ValueError(f"duplicate job {name!r}")
        self.stats[name] = JobStats()
        self._scheduler.add_job(self._guard(name, func, on_failure), CronTrigger.from_crontab(crontab, timezone="UTC"),
                                id=name, name=name, misfire_grace_time=3600)

    def _guard(self, name: str, func, on_failure):
        def run() -> None:
            now = self.clock()
            started = time.perf_counter()
            stats = self.stats[name]
            try:
                func(now)
            except Exception as exc:  # the process lives on: one line, a count, the caller's UNKNOWN
                stats.failures += 1
                stats.last_error = f"{type(exc).__name__}: {exc}"
                log.error("job %s failed: %s", name, stats.last_error)
                if on_failure is not None:
                    try:
                        on_failure(now, exc)
                    except Exception as inner:
                        log.error("job %s: recording the failure failed too: %s", name, inner)
            finally:
                stats.runs += 1
                stats.last_duration = time.perf_counter() - started
                stats.last_run = now
        return run

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self, wait: bool = True) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)

    @property
    def running(self) -> bool:
        return self._scheduler.running
