"""Run every benchmark; each prints its figures as ratios against a baseline measured in the same run.

BENCH_SCALE scales every data set (1 = the issues' sizes: bench_trace stores 10M log records, about 10
minutes and 9 GB of temporary files; BENCH_SCALE=0.1 is a quick look)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    status = 0
    for name in ("bench_checks.py", "bench_store.py", "bench_parse.py", "bench_ingest.py", "bench_trace.py",
                 "bench_consume.py", "bench_report.py", "bench_nrpe.py", "bench_outbox.py", "bench_check_cycle.py",
                 "bench_alerting.py", "bench_inventory.py"):
        print(f"== {name}", flush=True)
        try:
            runpy.run_path(str(HERE / name), run_name="__main__")
        except SystemExit as exc:
            status = status or (exc.code or 0)
    sys.exit(status)
