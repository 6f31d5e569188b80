"""The web layer's pure helpers: age formatting, state classes, the overview grid and query windows."""

import pytest

from stackwatch.model import State
from stackwatch.store.interfaces import CurrentCheck
from stackwatch.web.formatting import format_age, format_perfdatum, state_class, unit_for
from stackwatch.web.grid import build_grid, is_stale
from stackwatch.web.ranges import parse_range, window

NOW = 1_700_000_000.0


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (42.7, "42s"), (59, "59s"), (60, "1m"), (300, "5m"), (3599, "59m"), (3600, "1h"),
    (86399, "23h"), (86400 * 3, "3d"), (-5, "0s"), (None, "—"),
])
def test_format_age(seconds, text):
    assert format_age(seconds) == text


def test_state_class_and_units():
    assert [state_class(s) for s in State] == ["ok", "warning", "critical", "unknown"]
    assert state_class(None) == "missing"
    assert unit_for("node_disk_used_bytes") == "B" and unit_for("load1") == ""
    assert format_perfdatum({"label": "/", "value": 41.0, "uom": "%", "warning": "80", "critical": "90"}) == \
        "/=41% (warn 80, crit 90)"


def cc(host, check, state, age):
    return CurrentCheck(host, check, state, "", NOW - age, NOW - age, 1)


def test_grid_rows_columns_staleness_and_counts():
    current = [cc("h1", "disk", State.OK, 10), cc("h2", "disk", State.CRITICAL, 181),
               cc("h1", "ntp", State.UNKNOWN, 5), cc("ghost", "disk", State.WARNING, 1)]
    grid = build_grid(["h1", "h2"], {"disk": 60.0, "load": 30.0}, current, NOW)
    assert grid.checks == ("disk", "load", "ntp")       # configured first, then seen only in results
    assert [r.host for r in grid.rows] == ["h1", "h2", "ghost"]
    assert [r.in_inventory for r in grid.rows] == [True, True, False]
    h1, h2, _ = grid.rows
    assert h1.cells[1].result is None                   # h1/load: no result, an empty cell
    assert h2.cells[0].stale and not h1.cells[0].stale  # 181s > 3 × 60s
    assert not h1.cells[2].stale                        # ntp has no interval: never called stale
    assert dict(grid.counts) == {State.CRITICAL: 1, State.WARNING: 1, State.UNKNOWN: 1, State.OK: 1}
    assert grid.stale == 1 and h2.worst is State.CRITICAL and h1.worst is State.UNKNOWN


def test_is_stale_boundaries():
    assert not is_stale(NOW - 180, 60, NOW) and is_stale(NOW - 181, 60, NOW)
    assert not is_stale(NOW - 10_000, None, NOW)


def test_windows():
    assert window(NOW, "30d") == (NOW - 30 * 86400, NOW)
    assert window(NOW) == (NOW - 86400, NOW)
    assert window(NOW, None, "100", "200") == (100.0, 200.0)
    assert window(NOW, None, "100") == (100.0, NOW)
    assert parse_range("6h") == 21600
    for args in [("1x",), ("0s",), ("1h", "5"), (None, "200", "100"), (None, None, "100"), (None, "abc"),
                 (None, "nan")]:
        with pytest.raises(ValueError):
            window(NOW, *args)
