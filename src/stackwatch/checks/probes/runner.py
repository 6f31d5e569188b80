"""Running one probe: a file lock per kind (never two of a kind at once), each step timed against its own
deadline, the probe's cleanup in a finally block, and the reaper that deletes probe leftovers.

A probe (image.py, instance.py, ...) subclasses `Probe`: `run(run)` calls `run.step(name, fn)` for each step
(fn gets the `Deadline`), records what it created with `run.created(...)`, and `cleanup(run)` deletes whatever
is still there. `list_resources()` and `delete(leftover)` serve the reaper.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from stackwatch.checks.probes import core
from stackwatch.openstack.api import Api, ApiError
from stackwatch.openstack.connection import one_line

log = logging.getLogger(__name__)


class StepFailed(Exception):
    """A step's own verdict (a checksum mismatch, a server in ERROR); `request_id` when one answer is to blame."""

    def __init__(self, message: str, request_id: str | None = None):
        super().__init__(message)
        self.request_id = request_id


class ProbeBusy(Exception):
    """Another run of the same kind holds the lock."""


class Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.end = clock() + seconds
        self.seconds = seconds

    def remaining(self) -> float:
        return max(0.0, self.end - self.clock())

    def timeout(self, cap: float) -> float:
        """A request timeout that ends with the step (at least a moment, so a request can still fail cleanly)."""
        return max(0.5, min(cap, self.remaining()))

    def wait_for(self, what: str, poll: Callable[[], object], interval: float = 0.5):
        """Call `poll` until it returns something truthy (which is returned); StepFailed once the deadline
        passes. `poll` raises StepFailed itself for a terminal failure (a server in ERROR)."""
        delay = interval
        while True:
            value = poll()
            if value:
                return value
            if self.remaining() <= 0:
                raise StepFailed(f"timed out after {self.seconds:g}s waiting for {what}")
            time.sleep(min(delay, self.remaining()))
            delay = min(delay * 1.5, 3.0)


class Run:
    """One probe run: its id, its steps so far, what it created."""

    def __init__(self, kind: str, step_timeout: float, budget: float | None = None,
                 clock: Callable[[], float] = time.monotonic, now: float | None = None):
        self.kind, self.step_timeout, self.clock = kind, step_timeout, clock
        self.id = core.run_id(time.time() if now is None else now, secrets.token_hex(2))
        self.name = core.resource_name(kind, self.id)
        self.steps: list[core.Step] = []
        self.resources: dict[str, str] = {}     # what -> id, for cleanup
        self._end = None if budget is None else clock() + budget

    def created(self, what: str, rid: str) -> None:
        self.resources[what] = rid

    def gone(self, what: str) -> None:
        self.resources.pop(what, None)

    def step(self, name: str, fn: Callable[[Deadline], object]):
        """Run one step against its deadline; a failure is recorded and raised again as StepFailed."""
        seconds = self.step_timeout
        note = ""
        if self._end is not None:  # the whole run must end in time to clean up (stackwatch-check's -t)
            left = max(1.0, self._end - self.clock())
            if left < seconds:
                seconds, note = left, f" (the run's time budget left this step {left:.0f}s: raise -t)"
        deadline = Deadline(seconds, self.clock)
        started = self.clock()
        try:
            value = fn(deadline)
        except ApiError as exc:
            self._record(name, started, exc.line() + note, exc.request_id)
            raise StepFailed(exc.line(), exc.request_id) from None
        except StepFailed as exc:
            self._record(name, started, one_line(str(exc)) + note, exc.request_id)
            raise
        except Exception as exc:  # anything else is still this step's failure, one-lined
            self._record(name, started, f"{type(exc).__name__}: {one_line(str(exc))}{note}", None)
            raise StepFailed(str(exc)) from None
        self.steps.append(core.Step(name, self.clock() - started))
        return value

    def _record(self, name: str, started: float, error: str, request_id: str | None) -> None:
        self.steps.append(core.Step(name, self.clock() - started, error, request_id))


class Probe:
    kind = ""

    def __init__(self, api: Api, config):
        self.api, self.config = api, config   # config: openstack.config.ProbeConfig

    def run(self, run: Run) -> None:
        raise NotImplementedError

    def cleanup(self, run: Run) -> list[str]:
        """Delete what `run` created and still holds; the errors, one line each (the reaper retries later)."""
        raise NotImplementedError

    def list_resources(self) -> list[tuple[str, str]]:
        """(id, name) of every resource of this kind named like a probe's."""
        raise NotImplementedError

    def delete(self, leftover: core.Leftover) -> None:
        raise NotImplementedError


@contextmanager
def kind_lock(lock_dir: Path, kind: str):
    """Hold `probe-<kind>.lock` in `lock_dir` exclusively; ProbeBusy at once when another run holds it."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / f"probe-{kind}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ProbeBusy(f"another {kind} probe is running (lock {lock_dir}/probe-{kind}.lock)") from None
        yield
    finally:
        os.close(fd)


def execute(probe: Probe, lock_dir: Path, step_timeout: float, budget: float | None = None) -> core.ProbeResult:
    """Run `probe` once under its kind's lock; its resources are deleted in a finally block."""
    try:
        with kind_lock(lock_dir, probe.kind):
            run = Run(probe.kind, step_timeout, budget)
            cleanup_errors: list[str] = []
            try:
                probe.run(run)
            except StepFailed:
                pass  # recorded in run.steps
            finally:
                known = set(run.resources.values())
                try:
                    cleanup_errors = probe.cleanup(run)
                except Exception as exc:  # cleanup must never hide the run's result
                    cleanup_errors = [f"{type(exc).__name__}: {one_line(str(exc))}"]
                if any(not s.ok for s in run.steps):
                    cleanup_errors = list(cleanup_errors) + sweep(probe, run, known)
            return core.ProbeResult(probe.kind, run.id, tuple(run.steps), tuple(cleanup_errors))
    except ProbeBusy as exc:
        return core.ProbeResult(probe.kind, "", (), unknown=str(exc))
    except OSError as exc:
        return core.ProbeResult(probe.kind, "", (), unknown=f"cannot take the probe lock in {lock_dir}: {exc}")


def sweep(probe: Probe, run: Run, known: set[str]) -> list[str]:
    """After a failed run: delete resources named like this run that it never learnt the id of (a create whose
    answer was lost may still have created it); the errors, one line each."""
    try:
        found = [(rid, name) for rid, name in probe.list_resources() if name == run.name and rid not in known]
    except ApiError as exc:
        return [f"could not look for this run's leftovers: {exc.line()}"]
    errors = []
    for rid, name in found:
        try:
            probe.delete(core.Leftover(probe.kind, rid, name, 0.0))
        except ApiError as exc:
            if exc.status != 404:
                errors.append(exc.line())
    return errors


def reap(probe: Probe, lock_dir: Path, now: float, max_age: float) -> tuple[int, list[str]]:
    """Delete this kind's probe leftovers older than `max_age`: (how many were found, errors). Skipped (0, [])
    while a run of the kind holds the lock, so a running probe's resources are never taken."""
    try:
        with kind_lock(lock_dir, probe.kind):
            found = core.leftovers(probe.kind, probe.list_resources(), now, max_age)
            errors = []
            for leftover in found:
                try:
                    probe.delete(leftover)
                    log.info("reaper: deleted probe leftover %s %s (%s)", leftover.kind, leftover.name, leftover.id)
                except ApiError as exc:
                    if exc.status != 404:
                        errors.append(exc.line())
            return len(found), errors
    except ProbeBusy:
        return 0, []
