"""The embedded metric store: series, raw samples and write-time rollups in SQLite.

Each write inserts raw points and feeds the finest tier's open buckets; a bucket that closes is written
and folded into the next tier's open bucket, so coarser tiers cost nothing per sample. Open buckets are
checkpointed every `flush_interval` and rebuilt from the finer data after a restart, so a crash loses
nothing that was committed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Iterable, Mapping

from stackwatch.config import MetricsConfig
from stackwatch.model import Kind, Sample, SeriesKey
from stackwatch.store.interfaces import Point, RangeResult, SeriesInfo
from stackwatch.store.rollup import (
    Accumulator, Bucket, Resolution, bucket_start, choose_resolution, counter_increase, rates_from_points,
)
from stackwatch.store.sqlite.database import Database

_UPSERT_ROLLUP = "INSERT OR REPLACE INTO rollups VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


@dataclass(slots=True)
class _Last:
    ts: float
    value: float
    rate: float | None = None


class SqliteMetricStore:
    def __init__(self, db: Database, config: MetricsConfig):
        self.db = db
        self.config = config
        self.tiers = [Accumulator(t.step) for t in config.rollups]
        self._lock = threading.RLock()
        self._ids: dict[SeriesKey, int] = {}
        self._info: dict[int, SeriesInfo] = {}
        self._last: dict[int, _Last] = {}
        self._dirty: set[int] = set()
        self.samples_written = 0
        self._load_series()
        self._recover()

    # -- writing ---------------------------------------------------------------------------------

    def write(self, samples: Iterable[Sample]) -> int:
        """Store `samples` in one transaction; returns how many were written."""
        with self._lock, self.db.write() as conn:
            rows: list[tuple[int, int, float]] = []
            closed: list[tuple[int, Bucket]] = []
            late: list[tuple[int, float, float]] = []
            ids, info, last_map, open0 = self._ids, self._info, self._last, None
            step0 = self.tiers[0].step if self.tiers else None
            if step0 is not None:
                open0 = self.tiers[0].open
            for s in samples:
                sid = ids.get(s.key)
                if sid is None:
                    sid = self._new_series(conn, s)
                value = float(s.value)
                ts = s.timestamp
                rows.append((sid, int(ts * 1000), value))
                last = last_map.get(sid)
                inc = cov = 0.0
                if last is not None:
                    if ts <= last.ts:
                        if ts < last.ts:  # a repeated timestamp only replaces the raw point
                            late.append((sid, ts, value))
                        continue
                    if info[sid].kind is Kind.COUNTER:
                        inc = counter_increase(last.value, value)
                        cov = ts - last.ts
                        last.rate = inc / cov
                    last.ts, last.value = ts, value
                else:
                    last_map[sid] = _Last(ts, value)
                if open0 is None:
                    continue
                b = ts - ts % step0
                acc = open0.get(sid)
                if acc is not None and acc.start == b:
                    acc.add(value, inc, cov)
                else:
                    if acc is not None:
                        closed.append((sid, acc))
                    open0[sid] = Bucket.first(b, value, inc, cov)
            conn.executemany("INSERT OR REPLACE INTO samples_raw VALUES (?, ?, ?)", rows)
            self._write_closed(conn, 0, closed)
            self._close_stale(conn, {sid for sid, _ in closed})
            for sid, ts, value in late:
                self._merge_late(conn, sid, ts, value)
            self._dirty.update(r[0] for r in rows)
            self.samples_written += len(rows)
            return len(rows)

    def _new_series(self, conn, s: Sample) -> int:
        labels = s.key.labels_json
        conn.execute("INSERT OR IGNORE INTO series (name, labels, kind, help) VALUES (?, ?, ?, ?)",
                     (s.key.name, labels, s.kind.value, s.help))
        sid = conn.execute("SELECT id FROM series WHERE name = ? AND labels = ?",
                           (s.key.name, labels)).fetchone()[0]
        self._ids[s.key] = sid
        self._info[sid] = SeriesInfo(sid, s.key, s.kind, s.help)
        return sid

    def _write_closed(self, conn, tier: int, closed: list[tuple[int, Bucket]]) -> None:
        """Write buckets that `tier` closed and fold them into the next tier, cascading."""
        while closed and tier < len(self.tiers):
            step = int(self.tiers[tier].step)
            conn.executemany(_UPSERT_ROLLUP, [_row(step, sid, b) for sid, b in closed])
            nxt: list[tuple[int, Bucket]] = []
            if tier + 1 < len(self.tiers):
                acc = self.tiers[tier + 1]
                for sid, b in closed:
                    done = acc.add_bucket(sid, b)
                    if done is not None:
                        nxt.append((sid, done))
            closed, tier = nxt, tier + 1

    def _close_stale(self, conn, sids: set[int]) -> None:
        """Close coarser buckets that end before the finest open bucket starts (time has moved past them)."""
        if not sids or len(self.tiers) < 2:
            return
        open0 = self.tiers[0].open
        for sid in sids:
            now_bucket = open0[sid].start
            for k in range(1, len(self.tiers)):
                acc = self.tiers[k]
                b = acc.open.get(sid)
                if b is not None and b.start + acc.step <= now_bucket:
                    del acc.open[sid]
                    self._write_closed(conn, k, [(sid, b)])

    def _merge_late(self, conn, sid: int, ts: float, value: float) -> None:
        """A sample older than the series' newest: fold it into each tier's stored or open bucket."""
        for acc in self.tiers:
            start = bucket_start(ts, acc.step)
            open_b = acc.open.get(sid)
            if open_b is not None and open_b.start == start:
                last = open_b.last
                open_b.add(value)
                open_b.last = last  # the newest value stays the bucket's last
                continue
            row = conn.execute("SELECT min, max, sum, count, last, increase, covered FROM rollups "
                               "WHERE step = ? AND series_id = ? AND bucket = ?",
                               (int(acc.step), sid, int(start))).fetchone()
            b = Bucket(start, *row) if row else Bucket.first(start, value)
            if row:
                b.min, b.max = min(b.min, value), max(b.max, value)
                b.sum += value
                b.count += 1
            conn.execute(_UPSERT_ROLLUP, _row(int(acc.step), sid, b))

    def flush(self) -> int:
        """Checkpoint the open buckets of series written since the last flush; returns rows written."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            if not dirty or not self.tiers:
                return 0
            rows = []
            for sid in dirty:
                rows.extend(_row(int(step), sid, b) for step, b in self._open_rows(sid))
            with self.db.write() as conn:
                conn.executemany(_UPSERT_ROLLUP, rows)
            return len(rows)

    def _open_rows(self, sid: int) -> list[tuple[float, Bucket]]:
        """The current (partial) bucket of each tier for `sid`, finer open buckets folded in."""
        out: list[tuple[float, Bucket]] = []
        chain: Bucket | None = None
        for acc in self.tiers:
            own = acc.open.get(sid)
            if chain is None:
                if own is None:
                    return out
                row = own.copy_at(own.start)
            else:
                start = bucket_start(chain.start, acc.step)
                if own is not None and own.start == start:
                    row = own.copy_at(start)
                    row.merge(chain)
                else:
                    if own is not None:
                        out.append((acc.step, own.copy_at(own.start)))
                    row = chain.copy_at(start)
            out.append((acc.step, row))
            chain = row
        return out

    # -- startup ---------------------------------------------------------------------------------

    def _load_series(self) -> None:
        conn = self.db.read()
        for sid, name, labels, kind, help_ in conn.execute("SELECT id, name, labels, kind, help FROM series"):
            key = SeriesKey.of(name, json.loads(labels))
            self._ids[key] = sid
            self._info[sid] = SeriesInfo(sid, key, Kind(kind), help_)

    def _recover(self) -> None:
        """Rebuild open buckets and last values from stored data after a (clean or unclean) stop."""
        conn = self.db.read()
        latest = dict(conn.execute("SELECT series_id, max(ts) FROM samples_raw GROUP BY series_id"))
        for sid, last_ms in latest.items():
            info = self._info.get(sid)
            if info is None:
                continue
            last_ts = last_ms / 1000.0
            if not self.tiers:
                value = conn.execute("SELECT value FROM samples_raw WHERE series_id = ? AND ts = ?",
                                     (sid, last_ms)).fetchone()[0]
                self._last[sid] = _Last(last_ts, value)
                continue
            b0 = bucket_start(last_ts, self.tiers[0].step)
            rows = conn.execute(
                "SELECT ts, value FROM samples_raw WHERE series_id = ? AND ts >= ("
                " SELECT coalesce(max(ts), ?) FROM samples_raw WHERE series_id = ? AND ts < ?) ORDER BY ts",
                (sid, int(b0 * 1000), sid, int(b0 * 1000))).fetchall()
            prev: _Last | None = None
            bucket: Bucket | None = None
            for ts_ms, value in rows:
                ts = ts_ms / 1000.0
                inc = cov = 0.0
                if prev is not None and info.kind is Kind.COUNTER:
                    inc, cov = counter_increase(prev.value, value), ts - prev.ts
                if ts >= b0:
                    if bucket is None:
                        bucket = Bucket.first(b0, value, inc, cov)
                    else:
                        bucket.add(value, inc, cov)
                rate = inc / cov if cov else (prev.rate if prev else None)
                prev = _Last(ts, value, rate)
            if prev is not None:
                self._last[sid] = prev
            if bucket is None:
                continue
            self.tiers[0].open[sid] = bucket
            finer_start = b0
            for i in range(1, len(self.tiers)):
                step, fine_step = self.tiers[i].step, self.tiers[i - 1].step
                start = bucket_start(finer_start, step)
                acc: Bucket | None = None
                for row in conn.execute(
                        "SELECT bucket, min, max, sum, count, last, increase, covered FROM rollups "
                        "WHERE step = ? AND series_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket",
                        (int(fine_step), sid, int(start), int(finer_start))):
                    fine = Bucket(*row)
                    if acc is None:
                        acc = fine.copy_at(start)
                    else:
                        acc.merge(fine)
                if acc is not None:
                    self.tiers[i].open[sid] = acc
                finer_start = start

    # -- reading ---------------------------------------------------------------------------------

    def series(self, name: str | None = None, matchers: Mapping[str, str] | None = None) -> list[SeriesInfo]:
        with self._lock:
            infos = list(self._info.values())
        out = [i for i in infos if (name is None or i.key.name == name) and _matches(i.key, matchers)]
        return sorted(out, key=lambda i: (i.key.name, i.key.labels))

    def get_series(self, series_id: int) -> SeriesInfo:
        with self._lock:
            return self._info[series_id]

    def find(self, key: SeriesKey) -> SeriesInfo | None:
        with self._lock:
            sid = self._ids.get(key)
            return None if sid is None else self._info[sid]

    def names(self) -> list[str]:
        with self._lock:
            return sorted({i.key.name for i in self._info.values()})

    def latest(self, name: str | None = None, matchers: Mapping[str, str] | None = None,
               since: float | None = None) -> list[tuple[SeriesInfo, float, float]]:
        """(series, timestamp, value) of the newest point of each matching series; counters give rates."""
        out = []
        with self._lock:
            for info in self.series(name, matchers):
                last = self._last.get(info.id)
                if last is None or (since is not None and last.ts < since):
                    continue
                if info.kind is Kind.COUNTER:
                    if last.rate is None:
                        continue
                    out.append((info, last.ts, last.rate))
                else:
                    out.append((info, last.ts, last.value))
        return out

    def newest_by_label(self, label: str, exclude_prefixes: tuple[str, ...] = ()) -> dict[str, float]:
        """For each value of `label`, the timestamp of the newest point of any series carrying it, series
        whose name starts with one of `exclude_prefixes` left out ("when did host X last send a metric")."""
        out: dict[str, float] = {}
        with self._lock:
            for sid, last in self._last.items():
                key = self._info[sid].key
                if exclude_prefixes and key.name.startswith(exclude_prefixes):
                    continue
                value = key.label(label, None)
                if value is not None and last.ts > out.get(value, float("-inf")):
                    out[value] = last.ts
        return out

    def latest_raw(self) -> list[tuple[SeriesInfo, float, float]]:
        """(series, timestamp, stored value) for every series: counters as their running totals."""
        with self._lock:
            return [(self._info[sid], last.ts, last.value) for sid, last in self._last.items()]

    def resolution_for(self, start: float, end: float, now: float) -> Resolution:
        tiers = [(t.step, t.retention) for t in self.config.rollups]
        return choose_resolution(start, end, now, self.config.raw_retention, tiers, self.config.max_points)

    def query_range(self, series_id: int, start: float, end: float, now: float,
                    resolution: Resolution | None = None) -> RangeResult:
        info = self.get_series(series_id)
        res = resolution or self.resolution_for(start, end, now)
        conn = self.db.read()
        if res.is_raw:
            rows = conn.execute("SELECT ts, value FROM samples_raw WHERE series_id = ? AND ts >= ? AND ts <= ? "
                                "ORDER BY ts", (series_id, int(start * 1000), int(end * 1000))).fetchall()
            pts = [(ts / 1000.0, v) for ts, v in rows]
            if info.kind is Kind.COUNTER:
                pts = rates_from_points(pts)
            points = [Point(ts, v, v, v) for ts, v in pts]
            return RangeResult(info, res.name, None, "samples_raw", points)
        step = int(res.step)
        rows = conn.execute(
            "SELECT bucket, min, max, sum, count, last, increase, covered FROM rollups "
            "WHERE step = ? AND series_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket",
            (step, series_id, int(bucket_start(start, step)), int(end))).fetchall()
        buckets = {r[0]: Bucket(*r) for r in rows}
        with self._lock:
            for tier_step, b in self._open_rows(series_id):
                if int(tier_step) == step and bucket_start(start, step) <= b.start <= end:
                    buckets[int(b.start)] = b
        points = []
        for start_ts in sorted(buckets):
            b = buckets[start_ts]
            if info.kind is Kind.COUNTER:
                rate = b.rate()
                if rate is not None:
                    points.append(Point(float(start_ts), rate, rate, rate))
            else:
                points.append(Point(float(start_ts), b.mean, b.min, b.max))
        return RangeResult(info, res.name, float(step), f"rollups(step={step})", points)

    # -- retention -------------------------------------------------------------------------------

    def enforce_retention(self, now: float) -> dict[str, int]:
        """Delete raw points and rollup buckets older than their retention; returns rows deleted."""
        deleted = {"raw": 0}
        cutoff = int((now - self.config.raw_retention) * 1000)
        with self._lock:
            sids = list(self._info)
        for chunk in range(0, len(sids), 500):
            with self.db.write() as conn:
                for sid in sids[chunk:chunk + 500]:
                    deleted["raw"] += conn.execute("DELETE FROM samples_raw WHERE series_id = ? AND ts < ?",
                                                   (sid, cutoff)).rowcount
        for tier in self.config.rollups:
            if tier.retention is None:
                continue
            with self.db.write() as conn:
                deleted[f"{tier.step:g}s"] = conn.execute(
                    "DELETE FROM rollups WHERE step = ? AND bucket < ?",
                    (int(tier.step), int(now - tier.retention))).rowcount
        return deleted


def _row(step: int, sid: int, b: Bucket) -> tuple:
    return (step, sid, int(b.start), b.min, b.max, b.sum, b.count, b.last, b.increase, b.covered)


def _matches(key: SeriesKey, matchers: Mapping[str, str] | None) -> bool:
    if not matchers:
        return True
    labels = dict(key.labels)
    return all(labels.get(k) == v for k, v in matchers.items())
