"""Run every benchmark; each prints its figures as ratios against a baseline measured in the same run."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    status = 0
    for name in ("bench_checks.py", "bench_store.py"):
        print(f"== {name}", flush=True)
        try:
            runpy.run_path(str(HERE / name), run_name="__main__")
        except SystemExit as exc:
            status = status or (exc.code or 0)
    sys.exit(status)
