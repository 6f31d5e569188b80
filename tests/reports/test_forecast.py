"""Trend fits, run-out dates and flavor fit."""

import pytest

from stackwatch.reports.forecast import Flavor, Free, flavor_fit, linear_fit, runout

DAY = 86400.0


def test_linear_fit_recovers_a_line():
    fit = linear_fit([(d * DAY, 10 + 2 * d) for d in range(30)])
    assert fit.per_day == pytest.approx(2.0)
    assert fit.at(40 * DAY) == pytest.approx(90.0)
    assert linear_fit([(0, 1)]) is None and linear_fit([(5, 1), (5, 2)]) is None


def test_runout_date_at_current_growth():
    pts = [(d * DAY, 100 + 10 * d) for d in range(10)]          # 190 at day 9, +10/day
    r = runout("vCPUs", pts, 400, now=9 * DAY)
    assert r.status == "runs out" and r.runs_out_at == pytest.approx(30 * DAY)
    assert r.percent == pytest.approx(47.5)
    assert runout("x", [(0, 5), (DAY, 5)], 10, DAY).status == "not growing"
    assert runout("x", [(0, 5), (DAY, 12)], 10, DAY).status == "full"
    assert runout("x", [], 10, 0).status == "no data"
    assert runout("x", [(0, 1), (DAY, 2)], None, DAY).status == "no capacity"


def test_flavor_fit_packs_per_hypervisor():
    free = [Free("a", vcpus=10, memory_mb=8192, disk_gb=1000), Free("b", vcpus=1, memory_mb=65536, disk_gb=1000)]
    flavors = [Flavor("small", 1, 2048, 20), Flavor("large", 4, 8192, 80)]
    # small: a -> min(10, 4, 50) = 4, b -> min(1, 32, 50) = 1; large: a -> min(2, 1, 12) = 1, b -> 0
    assert flavor_fit(free, flavors) == {"small": 5, "large": 1}
