"""What a probe run is and how it is judged: run ids and resource names, the timed steps, the outcome
(OK / WARNING slow / CRITICAL with the failed step, the error and the request id), the series it writes, and
which leftovers the reaper takes.

Pure: stdlib only (plus the pure check core and model); the clock is passed in.
"""

from __future__ import annotations

import time as _time
from typing import NamedTuple

from stackwatch.checks.core import CheckOutcome, Perfdata
from stackwatch.states import State

PREFIX = "stackwatch-probe-"
RUN_KEY = "stackwatch_probe_run"  # the metadata/property key every probe resource carries


def run_id(now: float, token: str) -> str:
    """'20261125t195501-3fa2': the UTC start time (so a leftover's age is in its name) and a random token."""
    return _time.strftime("%Y%m%dt%H%M%S", _time.gmtime(now)) + "-" + token


def resource_name(kind: str, rid: str) -> str:
    return f"{PREFIX}{kind}-{rid}"


def parse_name(name: str) -> tuple[str, str, float] | None:
    """(kind, run id, start time) of a probe resource's name; None for any other name."""
    if not isinstance(name, str) or not name.startswith(PREFIX):
        return None
    kind, sep, rid = name[len(PREFIX):].partition("-")
    stamp = rid.partition("-")[0]
    if not sep or not kind:
        return None
    import calendar

    try:
        started = float(calendar.timegm(_time.strptime(stamp, "%Y%m%dt%H%M%S")))
    except ValueError:
        return None
    return kind, rid, started


class Step(NamedTuple):
    """One timed step: `error` is None when it passed; `request_id` is the failing response's."""

    name: str
    seconds: float
    error: str | None = None
    request_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class ProbeResult(NamedTuple):
    kind: str
    run_id: str
    steps: tuple[Step, ...]
    cleanup_errors: tuple[str, ...] = ()
    unknown: str | None = None   # the probe could not run (no cloud configured, another run holds the lock)

    @property
    def failed(self) -> Step | None:
        return next((s for s in self.steps if not s.ok), None)

    @property
    def duration(self) -> float:
        return sum(s.seconds for s in self.steps)

    def to_dict(self) -> dict:
        failed = self.failed
        return {"probe": self.kind, "run_id": self.run_id, "ok": failed is None and self.unknown is None,
                "duration_seconds": round(self.duration, 3), "unknown": self.unknown,
                "failed_step": failed.name if failed else None,
                "steps": [{"step": s.name, "seconds": round(s.seconds, 3), "ok": s.ok, "error": s.error,
                           "request_id": s.request_id, "trace": trace_path(s.request_id)} for s in self.steps],
                "cleanup_errors": list(self.cleanup_errors)}


def trace_path(request_id: str | None) -> str | None:
    """Where the web UI shows every log record of a request."""
    return f"/trace/{request_id}" if request_id else None


def evaluate(result: ProbeResult, slow: float) -> CheckOutcome:
    """CRITICAL naming the failed step, its error and request id; WARNING when slower than `slow` seconds;
    UNKNOWN when the probe could not run; OK otherwise. Perfdata: each step's seconds and the total."""
    perf = [Perfdata(s.name, round(s.seconds, 3), "s") for s in result.steps]
    perf.append(Perfdata("total", round(result.duration, 3), "s", f"{slow:g}"))
    details = tuple(f"{s.name}: {s.seconds:.2f}s" + ("" if s.ok else f" FAILED: {s.error}") for s in result.steps)
    details += tuple(f"cleanup: {e}" for e in result.cleanup_errors)
    if result.unknown is not None:
        return CheckOutcome(State.UNKNOWN, result.unknown, (), details)
    failed = result.failed
    if failed is not None:
        text = f"step {failed.name} failed after {failed.seconds:.1f}s: {failed.error}"
        if failed.request_id:
            text += f" (request {failed.request_id}, trace {trace_path(failed.request_id)})"
        if result.cleanup_errors:
            text += f"; cleanup left {len(result.cleanup_errors)} resource(s) for the reaper"
        return CheckOutcome(State.CRITICAL, text, perf, details)
    text = f"{len(result.steps)} steps in {result.duration:.1f}s"
    if result.cleanup_errors:  # every step passed but something could not be deleted
        return CheckOutcome(State.WARNING, text + f"; cleanup failed: {result.cleanup_errors[0]}", perf, details)
    if result.duration > slow:
        return CheckOutcome(State.WARNING, text + f" (slower than {slow:g}s; slowest: "
                            f"{max(result.steps, key=lambda s: s.seconds).name})", perf, details)
    return CheckOutcome(State.OK, text, perf, details)


def samples(result: ProbeResult, now: float) -> list:
    """The probe's series: stackwatch_probe_step_seconds{probe,step}, _success{probe}, _duration_seconds{probe}."""
    from stackwatch.model import Kind, Sample, SeriesKey

    if result.unknown is not None:
        return []
    out = [Sample(SeriesKey.of("stackwatch_probe_step_seconds", {"probe": result.kind, "step": s.name}), now,
                  s.seconds, Kind.GAUGE, "Seconds one step of a probe took") for s in result.steps]
    out.append(Sample(SeriesKey.of("stackwatch_probe_success", {"probe": result.kind}), now,
                      0.0 if result.failed else 1.0, Kind.GAUGE, "1 when the probe's every step passed"))
    out.append(Sample(SeriesKey.of("stackwatch_probe_duration_seconds", {"probe": result.kind}), now,
                      result.duration, Kind.GAUGE, "Seconds a whole probe run took"))
    return out


class Leftover(NamedTuple):
    kind: str
    id: str
    name: str
    started: float     # from the run id in its name


def leftovers(kind: str, resources, now: float, max_age: float) -> list[Leftover]:
    """The probe resources of `kind` among (id, name) pairs that are older than `max_age` seconds."""
    out = []
    for rid, name in resources:
        parsed = parse_name(name)
        if parsed and parsed[0] == kind and now - parsed[2] >= max_age:
            out.append(Leftover(kind, rid, name, parsed[2]))
    return out
