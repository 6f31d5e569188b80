"""A quarterly report over 90 days of a cloud of 50 tenants, 20 compute nodes and 2,000 instances (issue 8's
size; BENCH_SCALE scales the instances): build + render the HTML, against the floor of reading the same data
(the period's rollup rows and archived notification bodies) with bare SQLite in the same run.

Data: tests/reports/cloudgen.py loads it through the public ingest paths (NotificationIngest's sink, the
metrics store's write), hourly samples as the collectors would give.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stackwatch.config import load_config  # noqa: E402
from stackwatch.reports.gather import build_report  # noqa: E402
from stackwatch.reports.period import parse_period, previous  # noqa: E402
from stackwatch.reports.render import render_html  # noqa: E402
from stackwatch.store.sqlite import open_store  # noqa: E402
from tests.reports import cloudgen  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
TARGET = 10.0


def main() -> None:
    period = parse_period("2026-Q3")
    now = period.end + 7 * 86400
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        config = load_config(ROOT / "config.yaml").with_data_dir(Path(tmp))
        store = open_store(config.database_path, config.metrics)
        instances = max(100, int(2000 * SCALE))
        cloud = cloudgen.make_cloud(previous(period).start + 60 * 86400, period.end, instances=instances)
        t0 = time.perf_counter()
        notes = cloudgen.load_notifications(cloud, store.notifications)
        samples = cloudgen.load_metrics(cloud, store.metrics)
        cloudgen.load_alerts(cloud, store.alerts)
        load_s = time.perf_counter() - t0
        print(f"data: {len(cloud.tenants)} tenants, {len(cloud.nodes)} nodes, {instances} instances, "
              f"{notes} notifications, {samples} samples over {(cloud.end - cloud.start) / 86400:.0f} days "
              f"(loaded in {load_s:.1f} s)")

        def ours() -> float:
            t = time.perf_counter()
            report = build_report(store, "quarterly", period, now)
            html = render_html(report)
            assert report.has_data and len(html) > 10_000
            return time.perf_counter() - t

        def floor() -> float:
            t = time.perf_counter()
            conn = store.db.read()
            rows = conn.execute("SELECT step, series_id, bucket, min, max, sum, count, last, increase, covered "
                                "FROM rollups WHERE step = 3600 AND bucket >= ? AND bucket < ?",
                                (period.start, period.end)).fetchall()
            bodies = conn.execute("SELECT raw FROM notifications WHERE ts < ?", (period.end + 2 * 86400,)).fetchall()
            assert rows and bodies
            return time.perf_counter() - t

        report_s = [ours() for _ in range(3)]
        floor_s = [floor() for _ in range(3)]
        store.close()
    med, base = statistics.median(report_s), statistics.median(floor_s)
    print(f"quarterly report build + HTML: median {med:.2f} s (runs {', '.join(f'{x:.2f}' for x in report_s)})")
    print(f"baseline, bare SQLite reading the same rollup rows and notification bodies: median {base:.2f} s")
    print(f"ratio report / baseline: {med / base:.1f}x; target <= {TARGET:.0f} s at scale 1: "
          f"{'MET' if med <= TARGET else 'MISSED'} (scale {SCALE})")


if __name__ == "__main__":
    main()
