"""The log parser's throughput: the corpus's lines repeated to ~500k, parsed as an OpenStack service's
log file and as rsyslog files, against a baseline measured in the same run (`str.split()` of every line
plus one `re.match` of a trivial pattern: roughly the least any line-oriented parser does).

The whole ingest (parse + storage) targets >= 50,000 lines/s, so the parser alone should do well over
150,000 lines/s. Reads /work/shared/corpus (or $STACKWATCH_CORPUS), else tests/fixtures/logs.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from stackwatch.rsyslog.parse import parse_lines, parse_syslog_message
from stackwatch.rsyslog.timestamps import Clock

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
TARGET_LINES = max(20_000, int(500_000 * SCALE))
RUNS = 3
ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("STACKWATCH_CORPUS", "/work/shared/corpus"))


def corpus_lines(kind: str) -> list[bytes]:
    """Every line of the corpus's oslo.log files (kind='logs') or syslog files (kind='syslog')."""
    top = CORPUS / kind if (CORPUS / kind).is_dir() else ROOT / "tests" / "fixtures" / "logs"
    if kind == "syslog" and not (CORPUS / kind).is_dir():
        return []
    lines: list[bytes] = []
    for path in sorted(top.rglob("*")):
        name = path.name
        if path.is_file() and ((".log" in name and not name.endswith(".csv")) or name == "syslog"):
            with path.open("rb") as fh:
                lines.extend(fh)
    return lines


def repeat(lines: list, n: int) -> list:
    return (lines * (n // len(lines) + 1))[:n]


def best(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def baseline(lines: list[str]) -> None:
    match = re.compile(r"\d").match
    for line in lines:
        line.split()
        match(line)


def parse(lines: list, syslog: bool) -> int:
    n = 0
    for _ in parse_lines(lines, syslog, source="/var/log/nova/nova-compute.log", now=1.7e9):
        n += 1
    return n


def report(name: str, lines: list, syslog: bool, base_rate: float) -> float:
    records = parse(lines, syslog)
    seconds = best(lambda: parse(lines, syslog))
    rate = len(lines) / seconds
    print(f"{name}: {len(lines):,} lines -> {records:,} records in {seconds:.2f} s = {rate:,.0f} lines/s; "
          f"{rate / base_rate:.3f}x the baseline  [target: well over 150,000 lines/s]")
    return rate


def main() -> int:
    oslo = corpus_lines("logs")
    if not oslo:
        print("no log corpus found")
        return 1
    oslo_bytes = repeat(oslo, TARGET_LINES)
    oslo_str = [b.decode("utf-8", "replace") for b in oslo_bytes]
    base = len(oslo_str) / best(lambda: baseline(oslo_str))
    print(f"baseline (str.split + re.match): {base:,.0f} lines/s over {len(oslo_str):,} lines")
    rates = [report("oslo.log files, bytes in", oslo_bytes, False, base),
             report("oslo.log files, str in", oslo_str, False, base)]
    syslog = corpus_lines("syslog")
    if syslog:
        syslog_bytes = repeat(syslog, TARGET_LINES)
        syslog_str = [b.decode("utf-8", "replace") for b in syslog_bytes]
        sbase = len(syslog_str) / best(lambda: baseline(syslog_str))
        print(f"baseline over the syslog lines: {sbase:,.0f} lines/s")
        rates.append(report("rsyslog files, bytes in", syslog_bytes, True, sbase))
        clock = Clock()
        messages = [line.rstrip(b"\n") for line in syslog_bytes]

        def receive() -> None:
            for m in messages:
                parse_syslog_message(m, 1.7e9, "10.0.0.1", clock=clock)
        seconds = best(receive)
        rate = len(messages) / seconds
        print(f"syslog messages one at a time (parse_syslog_message, as a receiver): {rate:,.0f} messages/s; "
              f"{rate / sbase:.3f}x the baseline")
    else:
        print("no syslog corpus found: rsyslog files not measured")
    print(f"slowest: {min(rates):,.0f} lines/s -> {'meets' if min(rates) >= 150_000 else 'MISSES'} the 150,000 target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
