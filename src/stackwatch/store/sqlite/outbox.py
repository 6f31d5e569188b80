"""The notification outbox in SQLite: one row per notification (its JSON, delivery state, attempt count,
when to try next) and one row per delivery attempt (time, duration, outcome, error), so a restart
resumes what is pending and never resends what was delivered, and failures stay visible.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stackwatch.alerting.notification import AlertSnapshot, GroupNotification
from stackwatch.store.sqlite.database import Database

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
_COLUMNS = ("seq, notification_id, receiver, event, group_key, created_at, submitted_at, state, attempts, "
            "next_attempt_at, last_error, finished_at, body")


@dataclass(frozen=True, slots=True)
class Delivery:
    """A notification in the outbox and where its delivery stands."""

    seq: int
    notification_id: str
    receiver: str
    event: str
    group_key: str
    created_at: float
    submitted_at: float
    state: str                  # pending | delivered | failed
    attempts: int
    next_attempt_at: float
    last_error: str
    finished_at: float | None
    notification: GroupNotification


@dataclass(frozen=True, slots=True)
class Attempt:
    notification_id: str
    ts: float
    duration: float
    outcome: str                # success | retry | failed
    error: str


class SqliteOutboxStore:
    def __init__(self, db: Database):
        self.db = db

    def add(self, n: GroupNotification, now: float) -> bool:
        """Store `n` as pending; False when its notification_id is already there (nothing changes)."""
        with self.db.write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO outbox (notification_id, receiver, event, group_key, created_at, "
                "submitted_at, next_attempt_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (n.notification_id, n.receiver, n.event, n.group_key, n.created_at, now, now, to_json(n)))
            return cur.rowcount == 1

    def next_pending(self, receiver: str) -> Delivery | None:
        """The oldest pending notification for `receiver` (each receiver delivers in submission order)."""
        row = self.db.read().execute(f"SELECT {_COLUMNS} FROM outbox WHERE state = 'pending' AND receiver = ? "
                                     "ORDER BY seq LIMIT 1", (receiver,)).fetchone()
        return _delivery(row) if row else None

    def record(self, notification_id: str, ts: float, duration: float, outcome: str, error: str = "",
               next_attempt_at: float | None = None) -> None:
        """One attempt and its consequence: delivered (success), pending until `next_attempt_at` (retry)
        or failed (given up), in one transaction."""
        state = {"success": DELIVERED, "retry": PENDING, "failed": FAILED}[outcome]
        with self.db.write() as conn:
            conn.execute("INSERT INTO outbox_attempts (notification_id, ts, duration, outcome, error) "
                         "VALUES (?, ?, ?, ?, ?)", (notification_id, ts, duration, outcome, error))
            conn.execute("UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, "
                         "next_attempt_at = coalesce(?, next_attempt_at), finished_at = ? "
                         "WHERE notification_id = ?",
                         (state, error, next_attempt_at, None if state == PENDING else ts, notification_id))

    def requeue(self, notification_id: str, now: float) -> bool:
        """Make a failed notification pending again (an operator fixed the receiver); True if it was failed."""
        with self.db.write() as conn:
            return conn.execute("UPDATE outbox SET state = 'pending', next_attempt_at = ?, finished_at = NULL "
                                "WHERE notification_id = ? AND state = 'failed'",
                                (now, notification_id)).rowcount == 1

    def get(self, notification_id: str) -> Delivery | None:
        row = self.db.read().execute(f"SELECT {_COLUMNS} FROM outbox WHERE notification_id = ?",
                                     (notification_id,)).fetchone()
        return _delivery(row) if row else None

    def deliveries(self, receiver: str | None = None, state: str | None = None, limit: int = 100) -> list[Delivery]:
        """Newest first, optionally for one receiver and/or one state."""
        where, args = [], []
        if receiver is not None:
            where.append("receiver = ?")
            args.append(receiver)
        if state is not None:
            where.append("state = ?")
            args.append(state)
        sql = f"SELECT {_COLUMNS} FROM outbox" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.db.read().execute(sql + " ORDER BY seq DESC LIMIT ?", (*args, limit)).fetchall()
        return [_delivery(r) for r in rows]

    def attempts(self, notification_id: str) -> list[Attempt]:
        rows = self.db.read().execute("SELECT notification_id, ts, duration, outcome, error FROM outbox_attempts "
                                      "WHERE notification_id = ? ORDER BY ts, id", (notification_id,)).fetchall()
        return [Attempt(*r) for r in rows]

    def pending_by_receiver(self) -> dict[str, tuple[int, float]]:
        """receiver -> (pending count, created_at of the oldest pending)."""
        rows = self.db.read().execute("SELECT receiver, count(*), min(created_at) FROM outbox "
                                      "WHERE state = 'pending' GROUP BY receiver").fetchall()
        return {r: (n, oldest) for r, n, oldest in rows}

    def enforce_retention(self, now: float, retention: float) -> int:
        """Forget delivered and failed notifications (and their attempts) finished before now - retention."""
        cutoff = now - retention
        with self.db.write() as conn:
            conn.execute("DELETE FROM outbox_attempts WHERE notification_id IN (SELECT notification_id FROM outbox "
                         "WHERE state != 'pending' AND finished_at < ?)", (cutoff,))
            return conn.execute("DELETE FROM outbox WHERE state != 'pending' AND finished_at < ?",
                                (cutoff,)).rowcount


def to_json(n: GroupNotification) -> str:
    return json.dumps({
        "notification_id": n.notification_id, "receiver": n.receiver, "group_key": n.group_key,
        "group_labels": n.group_labels, "event": n.event, "created_at": n.created_at,
        "external_url": n.external_url, "common_labels": n.common_labels,
        "common_annotations": n.common_annotations,
        "alerts": [{"fingerprint": a.fingerprint, "status": a.status, "labels": a.labels,
                    "annotations": a.annotations, "starts_at": a.starts_at, "ends_at": a.ends_at,
                    "generator_url": a.generator_url, "acknowledged_by": a.acknowledged_by,
                    "escalation_level": a.escalation_level} for a in n.alerts],
    }, ensure_ascii=False, separators=(",", ":"))


def from_json(text: str) -> GroupNotification:
    d: dict[str, Any] = json.loads(text)
    alerts = tuple(AlertSnapshot(a["fingerprint"], a["status"], _pairs(a["labels"]), _pairs(a["annotations"]),
                                 a["starts_at"], a["ends_at"], a["generator_url"], a["acknowledged_by"],
                                 a["escalation_level"]) for a in d["alerts"])
    return GroupNotification(d["notification_id"], d["receiver"], d["group_key"], _pairs(d["group_labels"]),
                             d["event"], alerts, d["created_at"], d["external_url"], _pairs(d["common_labels"]),
                             _pairs(d["common_annotations"]))


def _pairs(items) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in items)


def _delivery(row) -> Delivery:
    return Delivery(*row[:12], from_json(row[12]))
