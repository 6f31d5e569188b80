import logging
import threading
import time

from stackwatch.scheduler import Scheduler


def wait_until(pred, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_failing_job_is_one_log_line_and_a_failure(caplog):
    sched = Scheduler(clock=lambda: 123.0)
    failures = []
    sched.add("boom", lambda now: 1 / 0, interval=0.2, on_failure=lambda now, exc: failures.append((now, type(exc))))
    with caplog.at_level(logging.ERROR, logger="stackwatch.scheduler"):
        sched.start()
        try:
            assert wait_until(lambda: sched.stats["boom"].runs >= 2)
        finally:
            sched.shutdown()
    assert sched.stats["boom"].failures >= 2
    assert failures[0] == (123.0, ZeroDivisionError)
    lines = [r for r in caplog.records if "boom" in r.getMessage()]
    assert lines and all(r.exc_info is None for r in lines)  # one line each, no traceback
    assert "ZeroDivisionError" in lines[0].getMessage()


def test_never_two_runs_of_one_job_at_once():
    sched = Scheduler()
    active, overlaps, lock = [0], [0], threading.Lock()

    def slow(now):
        with lock:
            active[0] += 1
            if active[0] > 1:
                overlaps[0] += 1
        time.sleep(0.5)
        with lock:
            active[0] -= 1

    sched.add("slow", slow, interval=0.1)
    sched.start()
    try:
        assert wait_until(lambda: sched.stats["slow"].runs >= 2, timeout=5)
    finally:
        sched.shutdown()
    assert overlaps[0] == 0
