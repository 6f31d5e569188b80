"""Silences and maintenance windows in SQLite. Ids are short random hex strings; expiring a silence or
ending a window early sets its end to now (the row stays, so the history shows who muted what, when)."""

from __future__ import annotations

import json
import secrets

from stackwatch.alerting.matchers import parse_matchers
from stackwatch.alerting.silence import Maintenance, Silence
from stackwatch.store.sqlite.database import Database


class SqliteSilenceStore:
    def __init__(self, db: Database):
        self.db = db

    # -- silences ------------------------------------------------------------------------------------
    def add_silence(self, matchers: list[str], starts_at: float, ends_at: float, author: str, comment: str,
                    now: float) -> Silence:
        """Raises MatcherError (a clear message) for a bad matcher and ValueError for a bad time range."""
        parsed = parse_matchers(matchers)
        if not parsed:
            raise ValueError("a silence needs at least one matcher, e.g. host=\"compute-1\"")
        if ends_at <= starts_at:
            raise ValueError("a silence must end after it starts")
        if not author.strip():
            raise ValueError("a silence needs an author")
        s = Silence(secrets.token_hex(4), parsed, starts_at, ends_at, author, comment, now)
        with self.db.write() as conn:
            conn.execute("INSERT INTO silences VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (s.id, json.dumps([str(m) for m in parsed]), starts_at, ends_at, author, comment, now))
        return s

    def expire_silence(self, sid: str, now: float) -> bool:
        with self.db.write() as conn:
            return conn.execute("UPDATE silences SET ends_at = ? WHERE id = ? AND ends_at > ?",
                                (now, sid, now)).rowcount > 0

    def silences(self, now: float | None = None, include_expired: bool = False) -> list[Silence]:
        sql, args = "SELECT * FROM silences", ()
        if not include_expired and now is not None:
            sql, args = sql + " WHERE ends_at > ?", (now,)
        return [Silence(i, parse_matchers(json.loads(m)), s, e, a, c, cr)
                for i, m, s, e, a, c, cr in self.db.read().execute(sql + " ORDER BY starts_at", args)]

    def get_silence(self, sid: str) -> Silence | None:
        found = [s for s in self.silences(include_expired=True) if s.id == sid]
        return found[0] if found else None

    # -- maintenance windows -------------------------------------------------------------------------
    def add_maintenance(self, hosts: list[str], roles: list[str], starts_at: float, ends_at: float, author: str,
                        comment: str, now: float) -> Maintenance:
        if not hosts and not roles:
            raise ValueError("a maintenance window names at least one host or role")
        if ends_at <= starts_at:
            raise ValueError("a maintenance window must end after it starts")
        if not author.strip():
            raise ValueError("a maintenance window needs an author")
        w = Maintenance(secrets.token_hex(4), tuple(hosts), tuple(roles), starts_at, ends_at, author, comment, now)
        with self.db.write() as conn:
            conn.execute("INSERT INTO maintenance_windows VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (w.id, json.dumps(hosts), json.dumps(roles), starts_at, ends_at, author, comment, now))
        return w

    def end_maintenance(self, wid: str, now: float) -> bool:
        with self.db.write() as conn:
            return conn.execute("UPDATE maintenance_windows SET ends_at = ? WHERE id = ? AND ends_at > ?",
                                (now, wid, now)).rowcount > 0

    def maintenance(self, now: float | None = None, include_ended: bool = False) -> list[Maintenance]:
        sql, args = "SELECT * FROM maintenance_windows", ()
        if not include_ended and now is not None:
            sql, args = sql + " WHERE ends_at > ?", (now,)
        return [Maintenance(i, tuple(json.loads(h)), tuple(json.loads(r)), s, e, a, c, cr)
                for i, h, r, s, e, a, c, cr in self.db.read().execute(sql + " ORDER BY starts_at", args)]
