from stackwatch.stacktach.lifecycle import Operation
from stackwatch.stacktach.trends import inventory_samples, operation_samples, total_samples


def op(operation, outcome, start, duration, flavor="m1.tiny", host="cmp1"):
    end = None if duration is None else start + duration
    return Operation(operation, f"i-{start}", outcome, start, end, duration, host, flavor, "img", "cell1", "t1", None)


def test_boot_time_percentiles_stuck_and_outcomes():
    ops = [op("create", "ok", 100.0 + i, 10.0 + i) for i in range(10)] + [
        op("create", "failed", 150.0, 3.0), op("snapshot", "stuck", 0.0, None), op("create", "ok", 0.0, 5.0)]
    samples = operation_samples(ops, since=100.0, now=200.0)  # the one ended at 5.0 is outside the window
    by_key = {(s.key.name, s.key.labels): s.value for s in samples}
    p50 = by_key[("stackwatch_operation_duration_seconds", (("by", "flavor"), ("key", "m1.tiny"),
                                                             ("operation", "create"), ("quantile", "0.5")))]
    assert p50 == 14.5  # durations 10..19 (the failed one is not a boot time)
    assert by_key[("stackwatch_operations_completed", (("operation", "create"), ("outcome", "failed")))] == 1
    assert by_key[("stackwatch_operations_completed", (("operation", "create"), ("outcome", "ok")))] == 10
    assert by_key[("stackwatch_operations_stuck", (("operation", "snapshot"),))] == 1


def test_totals_and_inventory():
    samples = total_samples({("nova", "instance.create.end"): 3}, {("nova", "cmp1", "instance.create.error"): 1}, 5.0)
    samples += inventory_samples({"cmp1": 2}, {"m1.tiny": 2}, 5.0)
    names = sorted((s.key.name, s.value) for s in samples)
    assert names == [("stackwatch_instances", 2.0), ("stackwatch_instances_by_flavor", 2.0),
                     ("stackwatch_notification_errors_total", 1.0), ("stackwatch_notifications_total", 3.0)]
