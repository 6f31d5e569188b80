"""The notification log in SQLite: the last page per (receiver, group) that the dispatcher decides from,
and every page handed to the outbox (what was sent to whom, when, for which group state)."""

from __future__ import annotations

import json
from typing import Iterable

from stackwatch.alerting.dispatch import NflogEntry, Page
from stackwatch.store.sqlite.database import Database


class SqliteNflog:
    def __init__(self, db: Database):
        self.db = db

    def load(self) -> dict[tuple[str, str], NflogEntry]:
        return {(r, g): NflogEntry(r, g, ev, sent, frozenset(json.loads(firing)), seq, opened, bool(acked), level, nid)
                for r, g, ev, sent, firing, seq, opened, acked, level, nid in self.db.read().execute(
                    "SELECT receiver, group_key, event, sent_at, firing, seq, opened_at, acked, level, "
                    "notification_id FROM nflog")}

    def record(self, pages: Iterable[Page]) -> None:
        pages = list(pages)
        if not pages:
            return
        with self.db.write() as conn:
            for p in pages:
                e, n = p.entry, p.notification
                conn.execute("INSERT OR REPLACE INTO nflog VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (e.receiver, e.group_key, e.event, e.sent_at, json.dumps(sorted(e.firing)), e.seq,
                              e.opened_at, int(e.acked), e.level, e.notification_id))
                cur = conn.execute(
                    "INSERT OR IGNORE INTO nflog_sent (notification_id, receiver, group_key, event, sent_at, seq, "
                    "level, alerts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (n.notification_id, n.receiver, n.group_key, n.event, n.created_at, e.seq, e.level,
                     json.dumps([[a.fingerprint, a.status] for a in n.alerts])))
                if cur.rowcount:
                    conn.executemany("INSERT OR IGNORE INTO nflog_sent_alerts VALUES (?, ?)",
                                     [(a.fingerprint, cur.lastrowid) for a in n.alerts])

    def forget_closed(self, before: float) -> int:
        """Drop the state of groups whose resolve was sent before `before` (a new episode starts afresh;
        its page ids stay new because they carry the alerts' firing times). The sent pages stay."""
        with self.db.write() as conn:
            return conn.execute("DELETE FROM nflog WHERE event = 'resolve' AND sent_at < ?", (before,)).rowcount

    def enforce_retention(self, now: float, retention: float) -> int:
        with self.db.write() as conn:
            conn.execute("DELETE FROM nflog_sent_alerts WHERE sent_id IN (SELECT id FROM nflog_sent WHERE sent_at < ?)",
                         (now - retention,))
            return conn.execute("DELETE FROM nflog_sent WHERE sent_at < ?", (now - retention,)).rowcount

    def sent(self, limit: int = 100, fingerprint: str | None = None) -> list[dict]:
        """Pages handed to the outbox, newest first (for one alert with `fingerprint`)."""
        sql = ("SELECT s.notification_id, s.receiver, s.group_key, s.event, s.sent_at, s.seq, s.level, s.alerts "
               "FROM nflog_sent s")
        args: tuple = ()
        if fingerprint:
            sql += " JOIN nflog_sent_alerts a ON a.sent_id = s.id WHERE a.fingerprint = ?"
            args = (fingerprint,)
        rows = self.db.read().execute(sql + " ORDER BY s.sent_at DESC, s.id DESC LIMIT ?", args + (limit,))
        return [{"notification_id": nid, "receiver": r, "group_key": g, "event": ev, "sent_at": ts, "seq": seq,
                 "level": level, "alerts": json.loads(alerts)} for nid, r, g, ev, ts, seq, level, alerts in rows]
