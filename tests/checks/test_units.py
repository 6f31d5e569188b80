"""Sizes and free-space thresholds as check_disk and check_swap read them."""

from __future__ import annotations

import pytest

from stackwatch.checks.units import MIB, FreeThreshold, format_mib, parse_size


@pytest.mark.parametrize("text, default, expected", [
    ("500", "MB", 500 * MIB), ("500MB", "MB", 500 * MIB), ("500 MiB", "MB", 500 * MIB), ("2G", "MB", 2 * 1024 ** 3),
    ("2GB", "MB", 2 * 1024 ** 3), ("1.5T", "MB", int(1.5 * 1024 ** 4)), ("100kB", "MB", 102400), ("100k", "B", 102400),
    ("4096", "B", 4096), ("4096B", "MB", 4096), (300, "MB", 300 * MIB), ("0", "MB", 0),
])
def test_parse_size(text, default, expected):
    assert parse_size(text, default) == expected


@pytest.mark.parametrize("text", ["", "MB", "-5MB", "5XB", "5 MBs", "five", "1e3MB", "nan"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


@pytest.mark.parametrize("spec, free, capacity, exceeded", [
    ("20%", 21, 100, False), ("20%", 20, 100, True), ("20%", 19.9, 100, True),  # at or below, like "@20"
    ("500MB", 501 * MIB, 10_000 * MIB, False), ("500MB", 500 * MIB, 10_000 * MIB, True), ("500", 499 * MIB, 1, True),
    ("0%", 0, 100, True), ("0%", 1, 100, False), ("100%", 100, 100, True), ("20%", 0, 0, False),
    ("101%", 100, 100, True),                              # accepted like check_disk: always alerts
])
def test_free_threshold(spec, free, capacity, exceeded):
    assert FreeThreshold.parse(spec).exceeded(free, capacity) is exceeded


def test_free_threshold_limit_and_text():
    assert FreeThreshold.parse("20%").limit(1000) == 200
    assert FreeThreshold.parse("2G").limit(1) == 2 * 1024 ** 3
    assert str(FreeThreshold.parse(" 20% ")) == "20%"
    assert FreeThreshold.parse("4096", default_unit="B").bytes == 4096


@pytest.mark.parametrize("spec, message", [("-5%", "not a percentage"), ("x%", "not a percentage"),
                                           ("lots", "not a free-space threshold")])
def test_free_threshold_rejects(spec, message):
    with pytest.raises(ValueError, match=message):
        FreeThreshold.parse(spec)


def test_format_mib_rounds_down():
    assert format_mib(MIB * 2 - 1) == "1"
