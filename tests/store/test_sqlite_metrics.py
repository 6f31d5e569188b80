import sqlite3

import pytest

from stackwatch.config import MetricsConfig
from stackwatch.model import Kind, Sample, SeriesKey
from stackwatch.store.sqlite import StoreError, open_store
from stackwatch.store.sqlite.database import Database
from stackwatch.store.sqlite.migrations import MIGRATIONS

DAY = 86400
NOW = 1_800_000_000.0  # a fixed "now", aligned to a day boundary plus some
KEY = SeriesKey.of("temp", {"host": "h1"})


def _write_days(store, days: int, step: float = 60.0, key=KEY, value=lambda t: (t % 3600) / 60):
    start = NOW - days * DAY
    batch = []
    t = start
    while t < NOW:
        batch.append(Sample(key, t, value(t)))
        t += step
        if len(batch) >= 5000:
            store.metrics.write(batch)
            batch = []
    store.metrics.write(batch)


def test_30_day_trend_is_served_from_a_rollup_and_matches_raw(store):
    _write_days(store, 3)
    sid = store.metrics.find(KEY).id
    month = store.metrics.query_range(sid, NOW - 30 * DAY, NOW, NOW)
    assert month.resolution == "1h" and month.source == "rollups(step=3600)"
    raw = store.metrics.query_range(sid, NOW - 30 * DAY, NOW, NOW,
                                    resolution=store.metrics.resolution_for(NOW - 3600, NOW, NOW))
    assert raw.source == "samples_raw"
    # every hourly bucket's mean/min/max equals what the raw points give
    by_hour = {}
    for p in raw.points:
        by_hour.setdefault(p.ts - p.ts % 3600, []).append(p.value)
    assert len(month.points) == len(by_hour) == 72
    for p in month.points:
        values = by_hour[p.ts]
        assert p.value == pytest.approx(sum(values) / len(values))
        assert (p.min, p.max) == (min(values), max(values))


def test_one_hour_is_raw_and_a_day_is_5m(store):
    _write_days(store, 1)
    sid = store.metrics.find(KEY).id
    assert store.metrics.query_range(sid, NOW - 3600, NOW, NOW).resolution == "raw"
    day = store.metrics.query_range(sid, NOW - DAY, NOW, NOW)
    assert day.resolution == "5m" and len(day.points) == 288


def test_counter_rates_across_reset_in_raw_and_rollups(store):
    key = SeriesKey.of("bytes_total", {"if": "eth0"})
    samples, value = [], 0.0
    for i in range(120):  # 2 hours at 60 s, 10 bytes/s, a reset (restart) at minute 70
        value = 0.0 if i == 70 else value + 600.0
        samples.append(Sample(key, NOW - 7200 + i * 60, value, Kind.COUNTER))
    store.metrics.write(samples)
    sid = store.metrics.find(key).id
    raw = store.metrics.query_range(sid, NOW - 7200, NOW, NOW, resolution=store.metrics.resolution_for(NOW - 60, NOW, NOW))
    rates = [p.value for p in raw.points]
    assert rates.count(10.0) == len(rates) - 1 and 0.0 in rates  # a reset to 0 counts as increase 0, not negative
    assert min(rates) >= 0
    day = store.metrics.query_range(sid, NOW - DAY, NOW, NOW)
    assert day.resolution == "5m"
    assert all(0 <= p.value <= 10.0 for p in day.points)
    assert sum(1 for p in day.points if p.value == pytest.approx(10.0)) >= 20
    (info, ts, rate), = store.metrics.latest("bytes_total")
    assert rate == pytest.approx(10.0)


def test_restart_mid_bucket_loses_nothing(tmp_path):
    cfg = MetricsConfig()
    path = tmp_path / "m.db"
    times = [NOW - 7200 + i * 20 for i in range(360)]
    reference = open_store(tmp_path / "ref.db", cfg)
    reference.metrics.write([Sample(KEY, t, float(i)) for i, t in enumerate(times)])
    first = open_store(path, cfg)
    first.metrics.write([Sample(KEY, t, float(i)) for i, t in enumerate(times[:200])])
    first.db.close()  # an unclean stop: no flush of open buckets
    second = open_store(path, cfg)
    second.metrics.write([Sample(KEY, t, float(i)) for i, t in enumerate(times[200:], start=200)])
    for s in (reference, second):
        s.metrics.flush()
    for step in (300, 3600):
        q = "SELECT bucket, min, max, sum, count, last FROM rollups WHERE step = ? ORDER BY bucket"
        assert second.db.read().execute(q, (step,)).fetchall() == reference.db.read().execute(q, (step,)).fetchall()
    reference.close()
    second.close()


def test_retention_drops_old_raw_and_rollups(store):
    store.metrics.write([Sample(KEY, NOW - 100 * DAY, 1.0), Sample(KEY, NOW - 3 * DAY, 2.0),
                         Sample(KEY, NOW - 60, 3.0)])
    store.metrics.flush()
    deleted = store.metrics.enforce_retention(NOW)
    assert deleted["raw"] == 2
    assert deleted["300s"] == 1  # the 100-day-old 5m bucket
    conn = store.db.read()
    assert conn.execute("SELECT count(*) FROM samples_raw").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM rollups WHERE step = 86400").fetchone()[0] == 3


def test_late_sample_is_folded_into_rollups(store):
    store.metrics.write([Sample(KEY, NOW - 600, 1.0), Sample(KEY, NOW - 60, 5.0)])
    store.metrics.write([Sample(KEY, NOW - 590, 3.0)])
    store.metrics.flush()
    row = store.db.read().execute("SELECT min, max, count FROM rollups WHERE step = 300 AND bucket = ?",
                                  (int(NOW - 600 - (NOW - 600) % 300),)).fetchone()
    assert row == (1.0, 3.0, 2)


def test_upgrade_keeps_data(tmp_path):
    path = tmp_path / "old.db"
    old = Database(path, MIGRATIONS[:1])  # a database written by the release with schema 1
    with old.write() as conn:
        conn.execute("INSERT INTO series (name, labels) VALUES ('kept', '{}')")
        conn.execute("INSERT INTO samples_raw VALUES (1, 1000, 42.0)")
    assert old.schema_version == 1
    old.close()
    s = open_store(path, MetricsConfig())
    assert s.db.schema_version == len(MIGRATIONS)
    assert s.db.read().execute("SELECT value FROM samples_raw").fetchone() == (42.0,)
    assert [i.key.name for i in s.metrics.series()] == ["kept"]
    s.close()


def test_corrupt_database_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="file is not a database"):
        open_store(path, MetricsConfig())


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.db"
    open_store(path, MetricsConfig()).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this stackwatch"):
        open_store(path, MetricsConfig())
