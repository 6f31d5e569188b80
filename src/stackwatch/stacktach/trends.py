"""Notifications as trends: notification and error totals, operation durations (boot time and the
others) as percentiles per flavor, image, host and cell, stuck operations, and the event-driven
inventory (instances per compute node and per flavor), all as samples for the trend store, where
"boot time p95 over 90 days" is then read from a rollup.

Pure: stdlib only, `now` passed in.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping

from stackwatch.model import Kind, Sample, SeriesKey
from stackwatch.stacktach.lifecycle import DIMENSIONS, Operation, timing_stats

QUANTILES = (("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99"))


def total_samples(totals: Mapping[tuple[str, str], int], errors: Mapping[tuple[str, str, str], int],
                  now: float) -> list[Sample]:
    out = [Sample(SeriesKey.of("stackwatch_notifications_total", {"service": s, "event": n}), now, float(v),
                  Kind.COUNTER, "Notifications stored, by service and normalized event name")
           for (s, n), v in totals.items()]
    out += [Sample(SeriesKey.of("stackwatch_notification_errors_total", {"service": s, "host": h, "event": n}), now,
                   float(v), Kind.COUNTER, "Error notifications (.error, faults, wrap_exception)")
            for (s, h, n), v in errors.items()]
    return out


def operation_samples(ops: Iterable[Operation], since: float, now: float) -> list[Sample]:
    """Percentiles of the operations that ended in [since, now), per dimension, and the stuck count."""
    ops = list(ops)
    ended = [o for o in ops if o.end is not None and since <= o.end < now and o.outcome in ("ok", "failed")]
    out = []
    for row in timing_stats(ended, DIMENSIONS):
        for label, attr in QUANTILES:
            value = getattr(row, attr)
            if value is None:
                continue
            out.append(Sample(SeriesKey.of("stackwatch_operation_duration_seconds", {
                "operation": row.operation, "by": row.dimension, "key": str(row.key), "quantile": label}),
                now, value, Kind.GAUGE, "Duration of operations (create = boot time) from notification pairs"))
    outcomes = Counter((o.operation, o.outcome) for o in ended)
    for (operation, outcome), n in outcomes.items():
        out.append(Sample(SeriesKey.of("stackwatch_operations_completed", {"operation": operation, "outcome": outcome}),
                          now, float(n), Kind.GAUGE, "Operations that ended in the last interval"))
    stuck = Counter(o.operation for o in ops if o.outcome == "stuck")
    for operation in {o.operation for o in ops} | set(stuck):
        out.append(Sample(SeriesKey.of("stackwatch_operations_stuck", {"operation": operation}), now,
                          float(stuck.get(operation, 0)), Kind.GAUGE,
                          "Operations started and not ended within notifications.stuck_after"))
    return out


def inventory_samples(by_host: Mapping[str, int], by_flavor: Mapping[str, int], now: float) -> list[Sample]:
    out = [Sample(SeriesKey.of("stackwatch_instances", {"host": h}), now, float(n), Kind.GAUGE,
                  "Instances alive per compute node, from notifications") for h, n in by_host.items()]
    out += [Sample(SeriesKey.of("stackwatch_instances_by_flavor", {"flavor": f}), now, float(n), Kind.GAUGE,
                   "Instances alive per flavor, from notifications") for f, n in by_flavor.items()]
    return out
