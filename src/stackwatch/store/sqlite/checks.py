"""Check results in SQLite: the history of every run and the current state per (host, check)."""

from __future__ import annotations

import json

from stackwatch.model import CheckResult, Perfdata, State
from stackwatch.store.interfaces import CurrentCheck
from stackwatch.store.sqlite.database import Database


class SqliteCheckStore:
    def __init__(self, db: Database):
        self.db = db

    def record(self, result: CheckResult) -> CurrentCheck:
        perf = json.dumps([_perf_dict(p) for p in result.perfdata])
        with self.db.write() as conn:
            conn.execute("INSERT INTO check_results (host, check_name, ts, state, summary, perfdata, duration) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (result.host, result.check, result.timestamp, int(result.state), result.summary,
                          perf, result.duration))
            prev = conn.execute("SELECT state, since, attempts FROM check_current WHERE host = ? AND check_name = ?",
                                (result.host, result.check)).fetchone()
            if prev is not None and prev[0] == int(result.state):
                since, attempts = prev[1], prev[2] + 1
            else:
                since, attempts = result.timestamp, 1
            conn.execute("INSERT OR REPLACE INTO check_current VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (result.host, result.check, result.timestamp, int(result.state), result.summary,
                          perf, result.duration, since, attempts))
        return CurrentCheck(result.host, result.check, result.state, result.summary, result.timestamp,
                            since, attempts, json.loads(perf), result.duration)

    def current(self, host: str | None = None) -> list[CurrentCheck]:
        sql = ("SELECT host, check_name, state, summary, ts, since, attempts, perfdata, duration "
               "FROM check_current")
        args: tuple = ()
        if host is not None:
            sql += " WHERE host = ?"
            args = (host,)
        rows = self.db.read().execute(sql + " ORDER BY host, check_name", args).fetchall()
        return [CurrentCheck(h, c, State(s), summ, ts, since, att, json.loads(perf), dur)
                for h, c, s, summ, ts, since, att, perf, dur in rows]

    def history(self, host: str, check: str, limit: int = 100) -> list[CheckResult]:
        rows = self.db.read().execute(
            "SELECT ts, state, summary, perfdata, duration FROM check_results WHERE host = ? AND check_name = ? "
            "ORDER BY ts DESC LIMIT ?", (host, check, limit)).fetchall()
        return [CheckResult(host, check, State(s), summ, ts, tuple(Perfdata(**p) for p in json.loads(perf)), dur)
                for ts, s, summ, perf, dur in rows]

    def enforce_retention(self, now: float, retention: float) -> int:
        with self.db.write() as conn:
            return conn.execute("DELETE FROM check_results WHERE ts < ?", (now - retention,)).rowcount


def _perf_dict(p: Perfdata) -> dict:
    return {"label": p.label, "value": p.value, "uom": p.uom, "warning": p.warning, "critical": p.critical,
            "min": p.min, "max": p.max}
