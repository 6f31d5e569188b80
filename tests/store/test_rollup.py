import pytest

from stackwatch.store.rollup import (
    Accumulator, Bucket, choose_resolution, counter_increase, rates_from_points,
)

DAY = 86400
TIERS = [(300, 90 * DAY), (3600, 730 * DAY), (86400, None)]


@pytest.mark.parametrize("span, expected", [
    (3600, "raw"), (DAY, "5m"), (7 * DAY, "5m"), (30 * DAY, "1h"), (90 * DAY, "1h"), (365 * DAY, "1d"),
])
def test_resolution_by_span(span, expected):
    now = 1_800_000_000
    assert choose_resolution(now - span, now, now, 2 * DAY, TIERS, 2500).name == expected


def test_old_window_skips_tiers_that_no_longer_reach_back():
    now = 1_800_000_000
    res = choose_resolution(now - 100 * DAY, now - 99 * DAY, now, 2 * DAY, TIERS, 2500)
    assert res.name == "1h"  # 5m buckets are gone after 90 days


@pytest.mark.parametrize("prev, value, expected", [(None, 5, 0), (10, 15, 5), (100, 7, 7), (3, 3, 0)])
def test_counter_increase_handles_reset(prev, value, expected):
    assert counter_increase(prev, value) == expected


def test_rates_across_reset():
    pts = [(0, 100.0), (10, 200.0), (20, 50.0), (30, 150.0)]
    assert rates_from_points(pts) == [(10, 10.0), (20, 5.0), (30, 10.0)]


def test_accumulator_closes_bucket_when_next_starts():
    acc = Accumulator(3600)
    assert acc.add_bucket(1, Bucket.first(0, 1.0)) is None
    assert acc.add_bucket(1, Bucket.first(300, 3.0)) is None
    closed = acc.add_bucket(1, Bucket.first(3600, 10.0))
    assert closed is not None and closed.start == 0
    assert (closed.min, closed.max, closed.count, closed.mean, closed.last) == (1.0, 3.0, 2, 2.0, 3.0)
    assert acc.open[1].start == 3600
