"""Trace at scale: N oslo.log records in the embedded event store (default 10,000,000; BENCH_SCALE=0.1 for
1M), then `trace(instance_uuid)` and `trace(request_id)`, each the median over 20 different ids, against
`grep -F <id>` over the same lines written as a text file (the baseline, measured in the same run).
Target: trace <= 50 ms.

The records are boot requests through nova-api, conductor, scheduler, compute and neutron (a request id on
~6 records, an instance UUID on a few dozen, neutron naming the instance only in its message), mixed with
periodic-task and AMQP noise that carries its own request ids. Written with `SqliteEventStore.add` in
batches of 50,000 (one transaction each).

BENCH_ES_URL=http://host:9200 also loads BENCH_ES_EVENTS (default 100,000) of the same records into an
ElasticsearchEventStore (a throwaway index prefix, deleted after) and times the same traces there.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from stackwatch.store.interfaces import Event
from stackwatch.store.sqlite.database import Database
from stackwatch.store.sqlite.events import SqliteEventStore

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
N = max(10_000, int(10_000_000 * SCALE))
BATCH = 50_000
PROBES = 20
TARGET_MS = 50.0
T0 = 1_732_000_000.0                 # 2024-11-19
SPAN = 7 * 86400.0                   # the records cover a week
RECORDS_PER_REQUEST = 6
REQUESTS_PER_INSTANCE = 9            # 4 of a request's 6 records name its instance: ~36 per instance
NOISE = 0.3                          # share of records that belong to no boot request


def ident(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Workload:
    """Records in time order, as (Event, raw line); remembers a sample of the ids it used."""

    def __init__(self, n: int, seed: int = 7):
        self.n, self.rng = n, random.Random(seed)
        n_requests = int(n * (1 - NOISE)) // RECORDS_PER_REQUEST
        self.n_instances = max(1, n_requests // REQUESTS_PER_INSTANCE)
        self.instances = [ident(self.rng) for _ in range(self.n_instances)]
        self.sample_instances: list[str] = []
        self.sample_requests: list[str] = []
        self._stamp_second, self._stamp = -1, ""

    def _timestamp(self, ts: float) -> str:
        second = int(ts)
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp = datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return f"{self._stamp}.{int(ts * 1000) % 1000:03d}"

    def events(self) -> Iterator[tuple[Event, str]]:
        rng, step = self.rng, SPAN / self.n
        i, request_no = 0, 0
        n_requests = int(self.n * (1 - NOISE)) // RECORDS_PER_REQUEST
        window = max(1, self.n_instances // 200)       # an instance's requests cluster in time
        while i < self.n:
            if rng.random() < NOISE or request_no >= n_requests:
                yield self._record(T0 + i * step, None, f"req-{ident(rng)}", None, rng.randrange(12))
                i += 1
                continue
            base = request_no * self.n_instances // max(1, n_requests)
            inst = self.instances[min(self.n_instances - 1, base + rng.randrange(window))]
            req, greq = f"req-{ident(rng)}", (f"req-{ident(rng)}" if rng.random() < 0.3 else None)
            if len(self.sample_requests) < 5 * PROBES and rng.random() < 0.001:
                self.sample_requests.append(req)
            for step_no in range(RECORDS_PER_REQUEST):
                if i >= self.n:
                    break
                yield self._record(T0 + i * step, inst, req, greq, 100 + step_no)
                i += 1
            request_no += 1

    def _record(self, ts: float, inst: str | None, req: str, greq: str | None, what: int) -> tuple[Event, str]:
        rng = self.rng
        cmp = f"cmp{rng.randrange(1, 201)}"
        if what == 100:
            host, prog, logger, sev, iid = "ctl1", "nova-api", "nova.api.openstack.requestlog", "INFO", None
            msg = (f"10.0.3.{rng.randrange(2, 250)} \"POST /v2.1/servers\" status: 202 len: 1534 "
                   f"time: 0.{rng.randrange(100, 999)}")
        elif what == 101:
            host, prog, logger, sev, iid = "ctl2", "nova-conductor", "nova.conductor.manager", "INFO", inst
            msg = f"[instance: {inst}] Scheduling instance with flavor m1.small"
        elif what == 102:
            host, prog, logger, sev, iid = "ctl3", "nova-scheduler", "nova.scheduler.manager", "INFO", None
            msg = f"Selected host: ({cmp}, {cmp}) ram: 65536MB disk: 1000GB io_ops: 0 instances: {rng.randrange(40)}"
        elif what == 103:
            host, prog, logger, sev, iid = cmp, "nova-compute", "nova.compute.manager", "INFO", inst
            msg = (f"[instance: {inst}] Took {rng.randrange(1, 30)}.{rng.randrange(10, 99)} seconds to spawn "
                   "the instance on the hypervisor.")
        elif what == 104:
            host, prog, logger, sev, iid = "net1", "neutron-server", "neutron.plugins.ml2.managers", "INFO", None
            msg = f"Port {ident(rng)} bound for device {inst} on host {cmp} with vif_type ovs"
        elif what == 105:
            host, prog, logger, sev, iid = cmp, "nova-compute", "nova.compute.manager", "INFO", inst
            msg = f"[instance: {inst}] Instance spawned successfully."
        elif what < 8:
            host, prog, logger, sev, iid = cmp, "nova-compute", "oslo_service.periodic_task", "DEBUG", None
            msg = "Running periodic task ComputeManager._poll_rebooting_instances run_periodic_tasks"
        else:
            host, prog, logger, sev, iid = cmp, "nova-compute", "oslo.messaging._drivers.impl_rabbit", "ERROR", None
            msg = (f"AMQP server on 10.0.0.{what}:5672 is unreachable: [Errno 111] ECONNREFUSED. "
                   "Trying again in 1 seconds.")
        pid = 1000 + hash(prog) % 30000
        raw = f"{self._timestamp(ts)} {pid} {sev} {logger} [{req} {greq or '-'} - - - - -] {msg}"
        service = prog.partition("-")[0]
        event = Event(ts, "log", msg, host, service, prog, sev, req, iid, greq,
                      {"pid": pid, "logger": logger}, raw)
        return event, raw


def load_sqlite(tmp: Path, work: Workload) -> tuple[SqliteEventStore, Path, float]:
    store = SqliteEventStore(Database(tmp / "events.db"))
    t0 = time.perf_counter()
    with (tmp / "events.log").open("w") as text:
        batch, lines = [], []
        for event, raw in work.events():
            batch.append(event)
            lines.append(raw)
            if len(batch) == BATCH:
                store.add(batch)
                text.write("\n".join(lines) + "\n")
                batch, lines = [], []
        if batch:
            store.add(batch)
            text.write("\n".join(lines) + "\n")
    return store, tmp / "events.log", time.perf_counter() - t0


def time_trace(store, ids: list[str]) -> tuple[float, list[int]]:
    store.trace(ids[0])                                  # warm the reader and the page cache
    times, hits = [], []
    for value in ids:
        t0 = time.perf_counter()
        found = store.trace(value)
        times.append(time.perf_counter() - t0)
        hits.append(len(found))
    return statistics.median(times), hits


def time_grep(path: Path, ids: list[str]) -> tuple[float, list[int]]:
    subprocess.run(["grep", "-cF", ids[0], str(path)], capture_output=True)   # page cache, as for trace
    times, hits = [], []
    for value in ids:
        t0 = time.perf_counter()
        out = subprocess.run(["grep", "-F", value, str(path)], capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        hits.append(len(out.stdout.splitlines()))
    return statistics.median(times), hits


def report(label: str, trace_s: float, trace_hits: list[int], grep_s: float | None, grep_hits: list[int]) -> None:
    ms = trace_s * 1000
    line = f"  {label:<26} trace median {ms:8.2f} ms ({statistics.median(trace_hits):.0f} records/id)"
    if grep_s is not None:
        line += f" | grep -F median {grep_s * 1000:8.1f} ms | grep/trace {grep_s / trace_s:8.1f}x"
        if trace_hits != grep_hits:
            line += f"  [MISMATCH trace {trace_hits} vs grep {grep_hits}]"
    line += "  target <= 50 ms: " + ("ok" if ms <= TARGET_MS else "MISSED")
    print(line, flush=True)


def bench_es(url: str, work_n: int) -> None:
    from stackwatch.store.elasticsearch import ElasticsearchEventStore

    work = Workload(work_n, seed=11)
    store = ElasticsearchEventStore(url, f"bench-trace-{uuid.uuid4().hex[:8]}", refresh=False)
    try:
        t0 = time.perf_counter()
        batch = []
        for event, _raw in work.events():
            batch.append(event)
            if len(batch) == 5000:
                store.add(batch)
                batch = []
        store.add(batch)
        store.client.indices.refresh(index=store.pattern)
        load = time.perf_counter() - t0
        print(f"Elasticsearch at {url}: {work_n:,} records loaded in {load:.1f}s ({work_n / load:,.0f}/s)")
        rng = random.Random(5)
        report("trace(instance_uuid)", *time_trace(store, rng.sample(work.instances, PROBES)), None, [])
        report("trace(request_id)", *time_trace(store, work.sample_requests[:PROBES]), None, [])
    finally:
        for name in store.client.indices.get(index=store.pattern):
            store.client.indices.delete(index=name)
        store.client.indices.delete_index_template(name=store.prefix)
        store.close()


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-trace-", dir=os.environ.get("BENCH_TMP")))
    try:
        free = shutil.disk_usage(tmp).free
        need = N * 1400                                   # database + FTS + text file: ~1.2 kB/record measured
        if free < need:
            print(f"not enough disk in {tmp}: {free / 2**30:.1f} GiB free, ~{need / 2**30:.1f} GiB needed; "
                  "lower BENCH_SCALE or set BENCH_TMP", file=sys.stderr)
            return 1
        work = Workload(N)
        print(f"SQLite event store: writing {N:,} records ({work.n_instances:,} instances) ...", flush=True)
        store, text, load = load_sqlite(tmp, work)
        db_bytes = sum(p.stat().st_size for p in tmp.glob("events.db*"))
        print(f"  loaded in {load:.1f}s ({N / load:,.0f} records/s, incl. generating them); database "
              f"{db_bytes / 2**30:.2f} GiB, text file {text.stat().st_size / 2**30:.2f} GiB", flush=True)
        rng = random.Random(3)
        instances = rng.sample(work.instances, PROBES)
        requests = work.sample_requests[:PROBES]
        report("trace(instance_uuid)", *time_trace(store, instances), *time_grep(text, instances))
        report("trace(request_id)", *time_trace(store, requests), *time_grep(text, requests))
        store.db.close()
        es_url = os.environ.get("BENCH_ES_URL")
        if es_url:
            bench_es(es_url, int(os.environ.get("BENCH_ES_EVENTS", "100000")))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
