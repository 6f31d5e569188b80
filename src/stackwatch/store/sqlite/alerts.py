"""Alert state and history in SQLite: one row per fingerprint, one history row per transition."""

from __future__ import annotations

import json
from typing import Iterable

from stackwatch.alerting.model import Alert, AlertState, Transition
from stackwatch.store.sqlite.database import Database

_SELECT = ("SELECT fingerprint, rule, labels, annotations, severity, state, value, active_since, fired_at, "
           "resolved_at, updated_at FROM alerts")


class SqliteAlertStore:
    def __init__(self, db: Database):
        self.db = db

    def save(self, alerts: Iterable[Alert], transitions: Iterable[Transition] = ()) -> None:
        rows = [(a.fingerprint, a.rule, json.dumps(a.labels), json.dumps(a.annotations), a.severity,
                 a.state.value, a.value, a.active_since, a.fired_at, a.resolved_at, a.updated_at) for a in alerts]
        hist = [(t.alert.fingerprint, t.at, t.previous.value, t.alert.state.value, t.alert.value)
                for t in transitions]
        if not rows and not hist:
            return
        with self.db.write() as conn:
            conn.executemany("INSERT OR REPLACE INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO alert_history (fingerprint, ts, from_state, to_state, value) "
                             "VALUES (?, ?, ?, ?, ?)", hist)

    def active(self) -> list[Alert]:
        """Pending and firing alerts, most severe and oldest first."""
        return self._query(" WHERE state IN ('pending', 'firing') ORDER BY "
                           "CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, active_since")

    def by_rule(self, rule: str) -> dict[str, Alert]:
        return {a.fingerprint: a for a in self._query(" WHERE rule = ?", (rule,))}

    def get(self, fp: str) -> Alert | None:
        found = self._query(" WHERE fingerprint = ?", (fp,))
        return found[0] if found else None

    def recent(self, limit: int = 200) -> list[Alert]:
        return self._query(" WHERE state != 'inactive' ORDER BY updated_at DESC LIMIT ?", (limit,))

    def history(self, fp: str, limit: int = 200) -> list[tuple[float, str, str, float | None]]:
        return self.db.read().execute("SELECT ts, from_state, to_state, value FROM alert_history "
                                      "WHERE fingerprint = ? ORDER BY ts DESC, id DESC LIMIT ?",
                                      (fp, limit)).fetchall()

    def enforce_retention(self, now: float, retention: float) -> int:
        cutoff = now - retention
        with self.db.write() as conn:
            n = conn.execute("DELETE FROM alert_history WHERE ts < ?", (cutoff,)).rowcount
            n += conn.execute("DELETE FROM alerts WHERE state IN ('resolved', 'inactive') AND updated_at < ?",
                              (cutoff,)).rowcount
        return n

    def _query(self, tail: str, args: tuple = ()) -> list[Alert]:
        return [Alert(fp, rule, _pairs(labels), _pairs(ann), sev, AlertState(state), value, since, fired,
                      resolved, updated)
                for fp, rule, labels, ann, sev, state, value, since, fired, resolved, updated
                in self.db.read().execute(_SELECT + tail, args)]


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in json.loads(text))
