"""Acknowledgements in SQLite: who acknowledged which alert, when, why, until when (optional)."""

from __future__ import annotations

from stackwatch.alerting.silence import Ack
from stackwatch.store.sqlite.database import Database


class SqliteAckStore:
    def __init__(self, db: Database):
        self.db = db

    def add(self, fp: str, author: str, comment: str, now: float, expires_at: float | None = None) -> Ack:
        if not author.strip():
            raise ValueError("an acknowledgement needs an author")
        if expires_at is not None and expires_at <= now:
            raise ValueError("an acknowledgement must expire in the future")
        with self.db.write() as conn:
            conn.execute("INSERT INTO acks (fingerprint, author, comment, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                         (fp, author, comment, now, expires_at))
        return Ack(fp, author, comment, now, expires_at)

    def remove(self, fp: str, now: float) -> int:
        with self.db.write() as conn:
            return conn.execute("UPDATE acks SET removed_at = ? WHERE fingerprint = ? AND removed_at IS NULL",
                                (now, fp)).rowcount

    def latest(self) -> dict[str, Ack]:
        """The newest standing (not removed) ack of every alert; whether it still holds is Ack.active's call."""
        out: dict[str, Ack] = {}
        for fp, author, comment, created, expires in self.db.read().execute(
                "SELECT fingerprint, author, comment, created_at, expires_at FROM acks WHERE removed_at IS NULL "
                "ORDER BY created_at"):
            out[fp] = Ack(fp, author, comment, created, expires)
        return out
