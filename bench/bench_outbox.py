"""The outbox against the bare minimum, in the same run:

  submit: N notifications (10,000 at BENCH_SCALE=1) of a two-alert group submitted to the outbox (one
      SQLite transaction each: durable when submit returns) against (a) a bare INSERT of the same JSON
      into a one-table SQLite database with the same pragmas, one transaction each;
  deliver: M notifications (2,000 at BENCH_SCALE=1) delivered through the outbox to a local HTTP webhook
      (Alertmanager payload, a recorded attempt and a state update per delivery) against (a) a bare loop of
      urllib POSTs of the same payloads to the same server.

Prints the ratios (outbox time / baseline time) and the absolute rates.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stackwatch.alerting.notify.http_post import post_json  # noqa: E402
from stackwatch.alerting.notify.webhook import WebhookReceiver, webhook_payload  # noqa: E402
from stackwatch.alerting.outbox import Outbox, RetryPolicy  # noqa: E402
from stackwatch.store.sqlite.database import Database  # noqa: E402
from stackwatch.store.sqlite.outbox import SqliteOutboxStore, to_json  # noqa: E402
from tests.alerting.notify.sinks import HttpSink, notification, snapshot  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
N = max(500, int(10_000 * SCALE))
M = max(200, int(2_000 * SCALE))


def pages(prefix: str, count: int, receiver: str = "hook"):
    now = time.time()
    alerts = (snapshot("compute-1", starts_at=now), snapshot("compute-2", starts_at=now))
    return [notification(receiver=receiver, nid=f"{prefix}-{i}", alerts=alerts, created_at=now) for i in range(count)]


def bench_submit(tmp: Path) -> tuple[float, float]:
    notes = pages("s", N)
    conn = sqlite3.connect(tmp / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
    t0 = time.perf_counter()
    for n in notes:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT OR IGNORE INTO t VALUES (?, ?)", (n.notification_id, to_json(n)))
        conn.execute("COMMIT")
    baseline = time.perf_counter() - t0
    conn.close()

    db = Database(tmp / "outbox.db")
    box = Outbox(SqliteOutboxStore(db), [WebhookReceiver("hook", "http://127.0.0.1:9/")])   # not started
    t0 = time.perf_counter()
    for n in notes:
        box.submit(n)
    ours = time.perf_counter() - t0
    db.close()
    return baseline, ours


def bench_deliver(tmp: Path) -> tuple[float, float]:
    sink = HttpSink().start()
    try:
        notes = pages("b", M)
        t0 = time.perf_counter()
        for n in notes:
            post_json(sink.url, webhook_payload(n), 10.0)
        baseline = time.perf_counter() - t0

        db = Database(tmp / "deliver.db")
        box = Outbox(SqliteOutboxStore(db), [WebhookReceiver("hook", sink.url)], RetryPolicy())
        for n in pages("d", M):
            box.submit(n)
        done = threading.Event()
        t0 = time.perf_counter()
        box.start()
        while not done.is_set():
            if not box.store.pending_by_receiver():
                done.set()
            else:
                time.sleep(0.005)
        ours = time.perf_counter() - t0
        box.stop()
        delivered = len(box.deliveries("hook", "delivered", limit=M + 1))
        db.close()
        assert delivered == M, f"{delivered} of {M} delivered"
        assert len(sink.requests) == 2 * M
        return baseline, ours
    finally:
        sink.stop()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as d:
        tmp = Path(d)
        base, ours = bench_submit(tmp)
        print(f"submit {N:,} notifications: bare INSERT {N / base:,.0f}/s, outbox.submit {N / ours:,.0f}/s "
              f"-> outbox/bare time ratio {ours / base:.2f}")
        base, ours = bench_deliver(tmp)
        print(f"deliver {M:,} notifications to a local webhook: bare urllib POST loop {M / base:,.0f}/s, "
              f"outbox {M / ours:,.0f}/s -> outbox/bare time ratio {ours / base:.2f}")
