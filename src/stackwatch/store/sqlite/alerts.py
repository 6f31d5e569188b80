"""Alert state and history in SQLite: one row per fingerprint (with its mute mark), one history row per
transition, acknowledgement, silence or maintenance mark."""

from __future__ import annotations

import json
from typing import Iterable

from stackwatch.alerting.model import Alert, AlertState, Transition
from stackwatch.store.sqlite.database import Database

_COLUMNS = ("fingerprint, rule, labels, annotations, severity, state, value, active_since, fired_at, "
            "resolved_at, updated_at, last_active_at, muted")
_SELECT = f"SELECT {_COLUMNS} FROM alerts"


class SqliteAlertStore:
    def __init__(self, db: Database):
        self.db = db

    def save(self, alerts: Iterable[Alert], transitions: Iterable[Transition] = ()) -> None:
        rows = [(a.fingerprint, a.rule, json.dumps(a.labels), json.dumps(a.annotations), a.severity,
                 a.state.value, a.value, a.active_since, a.fired_at, a.resolved_at, a.updated_at,
                 a.last_active_at) for a in alerts]
        hist = [(t.alert.fingerprint, t.at, t.previous.value, t.alert.state.value, t.alert.value)
                for t in transitions]
        if not rows and not hist:
            return
        with self.db.write() as conn:
            # the mute mark belongs to the dispatcher (mark()): an upsert keeps it
            conn.executemany(
                "INSERT INTO alerts (fingerprint, rule, labels, annotations, severity, state, value, active_since, "
                "fired_at, resolved_at, updated_at, last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (fingerprint) DO UPDATE SET rule = excluded.rule, labels = excluded.labels, "
                "annotations = excluded.annotations, severity = excluded.severity, state = excluded.state, "
                "value = excluded.value, active_since = excluded.active_since, fired_at = excluded.fired_at, "
                "resolved_at = excluded.resolved_at, updated_at = excluded.updated_at, "
                "last_active_at = excluded.last_active_at", rows)
            conn.executemany("INSERT INTO alert_history (fingerprint, ts, from_state, to_state, value) "
                             "VALUES (?, ?, ?, ?, ?)", hist)

    def mark(self, changes: Iterable[tuple[str, str, str]], now: float) -> None:
        """(fingerprint, old mark, new mark): set the mute mark and note the change in the history."""
        changes = list(changes)
        if not changes:
            return
        with self.db.write() as conn:
            conn.executemany("UPDATE alerts SET muted = ? WHERE fingerprint = ?", [(new, fp) for fp, _, new in changes])
            conn.executemany(
                "INSERT INTO alert_history (fingerprint, ts, from_state, to_state, value, note) "
                "SELECT fingerprint, ?, state, state, value, ? FROM alerts WHERE fingerprint = ?",
                [(now, f"muted: {new}" if new else f"unmuted (was {old})", fp) for fp, old, new in changes])

    def note(self, fp: str, now: float, text: str) -> None:
        """A history line without a state change (acknowledged, ack removed...)."""
        with self.db.write() as conn:
            conn.execute("INSERT INTO alert_history (fingerprint, ts, from_state, to_state, value, note) "
                         "SELECT fingerprint, ?, state, state, value, ? FROM alerts WHERE fingerprint = ?",
                         (now, text, fp))

    def active(self) -> list[Alert]:
        """Pending and firing alerts, most severe and oldest first."""
        return self._query(" WHERE state IN ('pending', 'firing') ORDER BY "
                           "CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, active_since")

    def by_rule(self, rule: str) -> dict[str, Alert]:
        return {a.fingerprint: a for a in self._query(" WHERE rule = ?", (rule,))}

    def get(self, fp: str) -> Alert | None:
        found = self._query(" WHERE fingerprint = ?", (fp,))
        return found[0] if found else None

    def get_many(self, fps: Iterable[str]) -> dict[str, Alert]:
        fps = list(dict.fromkeys(fps))
        out: dict[str, Alert] = {}
        for i in range(0, len(fps), 500):
            chunk = fps[i:i + 500]
            out.update((a.fingerprint, a) for a in self._query(
                f" WHERE fingerprint IN ({', '.join('?' * len(chunk))})", tuple(chunk)))
        return out

    def find(self, prefix: str) -> list[Alert]:
        """Alerts whose fingerprint starts with `prefix` (the CLI accepts short fingerprints)."""
        return self._query(" WHERE fingerprint LIKE ? ESCAPE '\\' ORDER BY updated_at DESC LIMIT 20",
                           (prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",))

    def recent(self, limit: int = 200) -> list[Alert]:
        return self._query(" WHERE state != 'inactive' ORDER BY updated_at DESC LIMIT ?", (limit,))

    def history(self, fp: str, limit: int = 200) -> list[tuple[float, str, str, float | None]]:
        return self.db.read().execute("SELECT ts, from_state, to_state, value FROM alert_history "
                                      "WHERE fingerprint = ? ORDER BY ts DESC, id DESC LIMIT ?",
                                      (fp, limit)).fetchall()

    def history_notes(self, fp: str, limit: int = 200) -> list[tuple[float, str, str, float | None, str]]:
        """History with the notes (acks, mute marks) beside the transitions, newest first."""
        return self.db.read().execute("SELECT ts, from_state, to_state, value, note FROM alert_history "
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
                      resolved, updated, last_active, muted)
                for fp, rule, labels, ann, sev, state, value, since, fired, resolved, updated, last_active, muted
                in self.db.read().execute(_SELECT + tail, args)]


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in json.loads(text))
