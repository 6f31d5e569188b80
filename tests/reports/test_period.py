"""Report periods: ISO weeks, months, quarters (UTC), explicit dates, the last complete one, the one before."""

from datetime import datetime, timezone

import pytest

from stackwatch.reports.period import PeriodError, between, last_complete, parse_period, previous, resolve


def utc(*args) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


def test_quarter_month_and_week_bounds():
    q = parse_period("2026-Q3")
    assert (q.kind, q.start, q.end) == ("quarterly", utc(2026, 7, 1), utc(2026, 10, 1))
    assert parse_period("2026-q4").end == utc(2027, 1, 1)
    m = parse_period("2026-12")
    assert (m.kind, m.start, m.end) == ("monthly", utc(2026, 12, 1), utc(2027, 1, 1))
    w = parse_period("2026-W01")          # ISO week 1 of 2026 starts on Monday 2025-12-29
    assert (w.kind, w.start, w.end) == ("weekly", utc(2025, 12, 29), utc(2026, 1, 5))


def test_previous_period_is_the_calendar_one_before():
    assert previous(parse_period("2026-Q1")).label == "2025-Q4"
    assert previous(parse_period("2026-03")).label == "2026-02"
    assert previous(parse_period("2026-W01")).label == "2025-W52"
    custom = between("2026-09-01", "2026-09-30")
    before = previous(custom)
    assert (before.start, before.end) == (custom.start - 30 * 86400, custom.start)


def test_last_complete_period_before_now():
    now = utc(2026, 11, 25, 12)
    assert last_complete("quarterly", now).label == "2026-Q3"
    assert last_complete("monthly", now).label == "2026-10"
    assert last_complete("weekly", now).label == "2026-W47"
    assert last_complete("quarterly", utc(2026, 2, 1)).label == "2025-Q4"


def test_bad_periods_are_refused_with_what_is_accepted():
    for text in ("2026-Q5", "Q3", "2026-13", "2026-W60"):
        with pytest.raises(PeriodError):
            parse_period(text)
    with pytest.raises(PeriodError, match="before"):
        between("2026-09-30", "2026-09-01")
    with pytest.raises(PeriodError, match="not both"):
        resolve("weekly", 0, period="2026-W40", start="2026-09-01", end="2026-09-02")
    with pytest.raises(PeriodError, match="go together"):
        resolve("weekly", 0, start="2026-09-01")
    assert resolve("monthly", 0, start="2026-09-01", end="2026-09-30").end == utc(2026, 10, 1)
