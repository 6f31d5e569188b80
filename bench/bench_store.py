"""Embedded metric store vs bare SQLite: ingest rate in batches, and a 90-day trend query with 5,000
series stored (the store answers from the 1 h rollup; the baseline selects the same series' raw rows).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from stackwatch.config import MetricsConfig
from stackwatch.model import Sample, SeriesKey
from stackwatch.store.sqlite import open_store

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
DAY = 86400


def bare_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE samples (series_id INTEGER, ts INTEGER, value REAL, PRIMARY KEY (series_id, ts)) "
                 "WITHOUT ROWID")
    return conn


def ingest(tmp: Path) -> dict:
    n_series, n_steps = 5000, max(4, int(40 * SCALE))
    keys = [SeriesKey.of("bench_metric", {"host": f"h{i % 50}", "i": str(i)}) for i in range(n_series)]
    now = time.time()
    batches = [[Sample(k, now - DAY + step * 15, float(step + i)) for i, k in enumerate(keys)] for step in range(n_steps)]
    total = n_series * n_steps

    store = open_store(tmp / "ingest.db", MetricsConfig())
    store.metrics.write(batches[0][:10])  # series creation is not what we time
    t0 = time.perf_counter()
    for batch in batches:
        store.metrics.write(batch)
    store.metrics.flush()
    ours = time.perf_counter() - t0
    store.close()

    conn = bare_db(tmp / "bare.db")
    id_of = {k: i for i, k in enumerate(keys)}
    t0 = time.perf_counter()
    for batch in batches:
        conn.execute("BEGIN")
        conn.executemany("INSERT OR REPLACE INTO samples VALUES (?, ?, ?)",
                         [(id_of[s.key], int(s.timestamp * 1000), s.value) for s in batch])
        conn.execute("COMMIT")
    bare = time.perf_counter() - t0
    conn.close()
    return {"samples": total, "ours_per_s": total / ours, "bare_per_s": total / bare, "ratio": ours / bare}


def trend_query(tmp: Path) -> dict:
    n_series = 5000
    spacing = 7200 / max(SCALE, 0.05) if SCALE < 1 else 7200  # 2 h points over 90 days
    now = time.time()
    start = now - 90 * DAY
    times = [start + i * spacing for i in range(int(90 * DAY / spacing))]
    keys = [SeriesKey.of("bench_trend", {"i": str(i)}) for i in range(n_series)]
    store = open_store(tmp / "trend.db", MetricsConfig())
    conn = bare_db(tmp / "trend-bare.db")
    for chunk in range(0, len(times), 12):
        ts_chunk = times[chunk:chunk + 12]
        store.metrics.write([Sample(k, t, float(j % 97)) for t in ts_chunk for j, k in enumerate(keys)])
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO samples VALUES (?, ?, ?)",
                         [(j, int(t * 1000), float(j % 97)) for t in ts_chunk for j in range(n_series)])
        conn.execute("COMMIT")
    store.metrics.flush()
    probe = [store.metrics.find(keys[i]).id for i in range(0, n_series, max(1, n_series // 50))]
    ours, bare, resolution, points = [], [], "", 0
    for sid in probe:
        t0 = time.perf_counter()
        res = store.metrics.query_range(sid, now - 90 * DAY, now, now)
        ours.append(time.perf_counter() - t0)
        resolution, points = f"{res.resolution} from {res.source}", len(res.points)
        t0 = time.perf_counter()
        rows = conn.execute("SELECT ts, value FROM samples WHERE series_id = ? AND ts >= ? AND ts <= ? ORDER BY ts",
                            (sid - 1, int((now - 90 * DAY) * 1000), int(now * 1000))).fetchall()
        bare.append(time.perf_counter() - t0)
        assert rows
    store.close()
    conn.close()
    return {"series": n_series, "resolution": resolution, "points": points,
            "ours_ms": statistics.median(ours) * 1000, "bare_ms": statistics.median(bare) * 1000,
            "ratio": statistics.median(ours) / statistics.median(bare)}


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        a = ingest(tmp)
        print(f"ingest: {a['samples']} samples in batches of 5000: stackwatch {a['ours_per_s']:,.0f}/s "
              f"(with write-time rollups), bare SQLite inserts {a['bare_per_s']:,.0f}/s; "
              f"time ratio stackwatch/bare = {a['ratio']:.2f}x  [target: >= 100,000 samples/s]")
        q = trend_query(tmp)
        print(f"90-day trend query, {q['series']} series stored: answered by {q['resolution']} ({q['points']} points); "
              f"median {q['ours_ms']:.2f} ms vs bare SQLite select of the raw rows {q['bare_ms']:.2f} ms; "
              f"ratio {q['ratio']:.2f}x  [target: <= 100 ms]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
