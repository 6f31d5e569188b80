"""Instance lifecycles from notifications: state history, operation timings (boot time, delete
time, ...), stuck and failed operations, and timing percentiles for the trend store.

Pure: stdlib only. `now` is passed in (epoch seconds or a datetime); the clock is never read.

Operations pair a start with an end by normalized name (`stackwatch.stacktach.names`):
- most are `instance.<op>.start` -> `instance.<op>.end`, with `instance.<op>.error` ending them as
  failed (create = boot time, delete, rebuild, snapshot, reboot, shutdown, power_on, power_off,
  suspend, resume, pause, unpause, rescue, unrescue, shelve, unshelve, shelve_offload,
  resize_confirm, resize_revert, volume_attach, ... any `<op>` nova emits);
- `resize` spans nova's three phases: `resize_prep.start` (destination) -> `resize.start/end`
  (source, the disk copy) -> `resize_finish.end` (destination); legacy `resize.prep` and
  `finish_resize` are normalized to these names;
- `live_migration` spans `live_migration_pre.start` (destination) to whichever of
  `live_migration_post_dest.end` / `live_migration_post.end` comes first (nova calls post_dest
  from inside post); `live_migration_rollback[_dest].start` ends it as failed;
- any other error notification for the instance (`@wrap_exception` methods such as
  `terminate_instance`, `compute_task.*.error`, a payload fault) fails the operation its method
  names (`WRAP_EXCEPTION_OPS`), else the most recently started open one.
An operation still open at the end of the stream is "stuck" when `now - start > timeout`, else
"running". A second start of an open operation (nova re-scheduling a build) leaves the first one
"abandoned".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping, Sequence

from stackwatch.stacktach.notification import Notification
from stackwatch.stacktach.times import to_epoch

DEFAULT_TIMEOUT = 3600.0
DIMENSIONS = ("flavor", "image", "host", "cell")

# composite operations: op -> (start names, end names, failure names); phases in between are steps
COMPOSITE: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    "resize": (frozenset({"instance.resize_prep.start"}),
               frozenset({"instance.resize_finish.end"}),
               frozenset({"instance.resize_prep.error", "instance.resize.error",
                          "instance.resize_finish.error"})),
    "live_migration": (frozenset({"instance.live_migration_pre.start"}),
                       frozenset({"instance.live_migration_post_dest.end", "instance.live_migration_post.end"}),
                       frozenset({"instance.live_migration_rollback.start",
                                  "instance.live_migration_rollback_dest.start",
                                  "instance.live_migration_pre.error",
                                  "instance.live_migration_post.error"})),
}
_STEPS = {"resize_prep", "resize", "resize_finish", "live_migration_pre", "live_migration_post",
          "live_migration_post_dest", "live_migration_rollback", "live_migration_rollback_dest"}

# nova @wrap_exception method names (legacy ERROR event types) -> the operation they fail
WRAP_EXCEPTION_OPS = {
    "build_and_run_instance": "create", "run_instance": "create", "scheduler.run_instance": "create",
    "compute_task.build_instances.error": "create",
    "terminate_instance": "delete", "rebuild_instance": "rebuild",
    "compute_task.rebuild_server.error": "rebuild", "snapshot_instance": "snapshot",
    "reboot_instance": "reboot", "rescue_instance": "rescue", "unrescue_instance": "unrescue",
    "prep_resize": "resize", "resize_instance": "resize", "finish_resize": "resize",
    "compute_task.migrate_server.error": "resize",
    "confirm_resize": "resize_confirm", "revert_resize": "resize_revert",
    "power_on_instance": "power_on", "start_instance": "power_on", "stop_instance": "power_off",
    "power_off_instance": "power_off", "suspend_instance": "suspend", "resume_instance": "resume",
    "pause_instance": "pause", "unpause_instance": "unpause", "shelve_instance": "shelve",
    "unshelve_instance": "unshelve", "live_migration": "live_migration",
    "pre_live_migration": "live_migration",
}


@dataclass(frozen=True, slots=True)
class StateChange:
    timestamp: float | None
    name: str
    state: str | None
    old_state: str | None
    task_state: str | None
    host: str | None


@dataclass(frozen=True, slots=True)
class Operation:
    operation: str                   # create, delete, resize, ...
    instance_uuid: str
    outcome: str                     # ok | failed | stuck | running | abandoned
    start: float
    end: float | None                # the end or failure notification's time
    duration: float | None           # end - start for ok and failed operations
    host: str | None                 # where it finished (resize/migration: the destination)
    flavor: str | None
    image: str | None
    cell: str | None
    tenant_id: str | None
    request_id: str | None
    error: str | None = None         # "ExceptionClass: message" or the failing event's name


@dataclass(frozen=True, slots=True)
class InstanceLifecycle:
    instance_uuid: str
    tenant_id: str | None
    host: str | None
    flavor: str | None
    image: str | None
    cell: str | None
    vcpus: int | None
    memory_mb: int | None
    root_gb: int | None
    launched_at: float | None        # the first launch
    launches: tuple[float, ...]      # every distinct launched_at (rebuild and resize relaunch)
    deleted_at: float | None
    states: tuple[StateChange, ...]
    operations: tuple[Operation, ...]


@dataclass(frozen=True, slots=True)
class TimingStats:
    operation: str
    dimension: str                   # flavor | image | host | cell
    key: str | None
    count: int                       # successful operations (the percentiles' sample)
    failed: int
    stuck: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None


def _ops_of(name: str) -> tuple[str | None, str | None]:
    """name -> (operation, phase) for the start/end/error of a simple or composite operation."""
    for op, (starts, ends, fails) in COMPOSITE.items():
        if name in starts:
            return op, "start"
        if name in ends:
            return op, "end"
        if name in fails:
            return op, "error"
    if name.startswith("instance."):
        op, _, phase = name[len("instance."):].rpartition(".")
        if op and "." not in op and op not in _STEPS and phase in ("start", "end", "error"):
            return op, phase
    return None, None


class _Open:
    __slots__ = ("op", "start")

    def __init__(self, op: str, start: Notification) -> None:
        self.op, self.start = op, start


def _close(o: _Open, outcome: str, last: Notification | None, error: str | None = None) -> Operation:
    s = o.start
    ref = last or s
    end = last.timestamp if last is not None else None
    duration = end - s.timestamp if end is not None and outcome in ("ok", "failed") else None
    return Operation(o.op, s.instance_uuid or "", outcome, s.timestamp, end, duration,
                     ref.host or s.host, ref.flavor or s.flavor, ref.image or s.image,
                     ref.cell or s.cell, s.tenant_id or ref.tenant_id, s.request_id, error)


def _error_text(n: Notification) -> str:
    if n.fault and (n.fault.exception or n.fault.message):
        return ": ".join(x for x in (n.fault.exception, n.fault.message) if x)
    return n.event_type


def one_form(notes: Sequence[Notification], window: float = 2.0) -> list[Notification]:
    """Nova with `notification_format = both` sends every event twice, legacy then versioned, a few ms
    apart: keep the first form of each (name, request, state, task state) within `window` seconds."""
    kept: list[Notification] = []
    seen: dict[tuple, tuple[bool, float | None]] = {}
    for n in notes:
        key = (n.name, n.request_id, n.state, n.task_state)
        form = n.payload_type is not None
        prev = seen.get(key)
        if (prev is not None and prev[0] != form and n.timestamp is not None and prev[1] is not None
                and abs(n.timestamp - prev[1]) <= window):
            continue
        seen[key] = (form, n.timestamp)
        kept.append(n)
    return kept


def build_lifecycle(notes: Sequence[Notification], now: float | datetime,
                    timeout: float = DEFAULT_TIMEOUT,
                    timeouts: Mapping[str, float] | None = None) -> InstanceLifecycle:
    """One instance's lifecycle from its time-ordered notifications. Notifications without a
    timestamp enter the state history but not the timings."""
    now_s = to_epoch(now)
    notes = one_form(notes)
    uuid = next((n.instance_uuid for n in notes if n.instance_uuid), "")
    states: list[StateChange] = []
    ops: list[Operation] = []
    open_: dict[str, _Open] = {}
    last: dict[str, object] = {}
    launches: list[float] = []
    deleted_at: float | None = None
    exists_launches: list[float] = []
    exists_deleted: float | None = None
    for n in notes:
        for field in ("tenant_id", "host", "flavor", "image", "cell", "vcpus", "memory_mb", "root_gb"):
            value = getattr(n, field)
            if value is not None:
                last[field] = value
        # The usage audit checks exists notifications against the lifecycle, so they shape it only where
        # nothing else tells (an instance launched before capture began: its exists are all we have).
        if n.name == "instance.exists":
            if n.launched_at is not None and all(abs(n.launched_at - t) >= 1.0 for t in exists_launches):
                exists_launches.append(n.launched_at)
            exists_deleted = n.deleted_at or exists_deleted
        elif n.launched_at is not None and all(abs(n.launched_at - t) >= 1.0 for t in launches):
            launches.append(n.launched_at)
        if n.name == "instance.exists":
            pass
        elif n.name == "instance.restore.end":    # undoes a soft delete (which sets deleted_at)
            deleted_at = None
        elif n.name == "instance.delete.end" or n.deleted_at is not None:
            deleted_at = n.deleted_at or n.terminated_at or deleted_at or n.timestamp
        if n.state is not None or n.task_state is not None:
            states.append(StateChange(n.timestamp, n.name, n.state, n.old_state, n.task_state, n.host))
        if n.timestamp is None:
            continue
        op, phase = _ops_of(n.name)
        if phase == "start":
            if op in open_:
                ops.append(_close(open_.pop(op), "abandoned", None))
            open_[op] = _Open(op, n)
        elif phase in ("end", "error"):           # an end or error with nothing open is ignored
            if op in open_:
                ops.append(_close(open_.pop(op), "ok" if phase == "end" else "failed", n,
                                  None if phase == "end" else _error_text(n)))
        elif n.is_error and open_:                # @wrap_exception, compute_task.*.error, a fault
            target = WRAP_EXCEPTION_OPS.get(n.event_type)
            if target not in open_:
                target = max(open_.values(), key=lambda o: o.start.timestamp).op
            ops.append(_close(open_.pop(target), "failed", n, _error_text(n)))
    for o in open_.values():
        limit = (timeouts or {}).get(o.op, timeout)
        ops.append(_close(o, "stuck" if now_s - o.start.timestamp > limit else "running", None))
    ops.sort(key=lambda o: o.start)
    launches = launches or exists_launches
    if deleted_at is None:
        deleted_at = exists_deleted
    return InstanceLifecycle(
        uuid, last.get("tenant_id"), last.get("host"), last.get("flavor"), last.get("image"),
        last.get("cell"), last.get("vcpus"), last.get("memory_mb"), last.get("root_gb"),
        min(launches) if launches else None, tuple(launches), deleted_at, tuple(states), tuple(ops))


def _ordered(notes: Iterable[Notification]) -> list[Notification]:
    """Drop replayed message_ids; order by timestamp (stable; untimed ones last)."""
    seen: set[str] = set()
    kept = []
    for n in notes:
        if n.message_id is not None:
            if n.message_id in seen:
                continue
            seen.add(n.message_id)
        kept.append(n)
    return sorted(kept, key=lambda n: (n.timestamp is None, n.timestamp or 0.0))


def lifecycles(stream: Iterable[Notification], now: float | datetime, timeout: float = DEFAULT_TIMEOUT,
               timeouts: Mapping[str, float] | None = None) -> dict[str, InstanceLifecycle]:
    """Every instance in a stream (any order, duplicates allowed) -> its lifecycle."""
    by_instance: dict[str, list[Notification]] = defaultdict(list)
    for n in _ordered(stream):
        if n.instance_uuid:
            by_instance[n.instance_uuid].append(n)
    return {uuid: build_lifecycle(notes, now, timeout, timeouts) for uuid, notes in by_instance.items()}


def timings(stream: Iterable[Notification], now: float | datetime, timeout: float = DEFAULT_TIMEOUT,
            timeouts: Mapping[str, float] | None = None) -> list[Operation]:
    """All operations of all instances in a stream, ordered by start."""
    ops = [op for lc in lifecycles(stream, now, timeout, timeouts).values() for op in lc.operations]
    return sorted(ops, key=lambda o: (o.start, o.instance_uuid, o.operation))


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default): rank = (n - 1) * q / 100."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def timing_stats(ops: Iterable[Operation], dimensions: Sequence[str] = DIMENSIONS) -> list[TimingStats]:
    """Per operation x dimension value: p50/p95/p99/max of successful durations, failed and stuck
    counts. One row per (operation, dimension, key); key None groups operations lacking it."""
    groups: dict[tuple[str, str, str | None], list[Operation]] = defaultdict(list)
    for op in ops:
        for dim in dimensions:
            groups[(op.operation, dim, getattr(op, dim))].append(op)
    rows = []
    for (operation, dim, key), members in groups.items():
        durations = [o.duration for o in members if o.outcome == "ok" and o.duration is not None]
        rows.append(TimingStats(
            operation, dim, key, len(durations),
            sum(o.outcome == "failed" for o in members), sum(o.outcome == "stuck" for o in members),
            percentile(durations, 50), percentile(durations, 95), percentile(durations, 99),
            max(durations) if durations else None))
    return sorted(rows, key=lambda r: (r.operation, r.dimension, r.key is None, r.key or ""))
