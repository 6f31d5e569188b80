"""Notifications in SQLite: the archive (one row per message_id, duplicates dropped), the dead-letter
table for bodies that could not be understood, and the queries StackTach's users ran: an instance's
notifications, a request's, errors, `compute.instance.exists` for an audit period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Sequence

from stackwatch.store.sqlite.database import Database

COLUMNS = ("message_id", "ts", "deployment", "event_type", "name", "priority", "publisher_id", "service", "host",
           "request_id", "global_request_id", "tenant_id", "user_id", "instance_uuid", "state", "old_state",
           "task_state", "is_error", "payload", "raw")
_INSERT = (f"INSERT OR IGNORE INTO notifications ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in COLUMNS)})")
_SELECT = f"SELECT id, {', '.join(COLUMNS)} FROM notifications"


@dataclass(frozen=True, slots=True)
class StoredNotification:
    id: int
    message_id: str
    ts: float
    deployment: str
    event_type: str
    name: str
    priority: str
    publisher_id: str
    service: str
    host: str
    request_id: str | None
    global_request_id: str | None
    tenant_id: str | None
    user_id: str | None
    instance_uuid: str | None
    state: str | None
    old_state: str | None
    task_state: str | None
    is_error: bool
    payload: dict
    raw: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    received_at: float
    deployment: str
    exchange: str
    routing_key: str
    message_id: str | None
    reason: str
    raw: bytes


class SqliteNotificationStore:
    def __init__(self, db: Database):
        self.db = db

    def add(self, rows: Sequence[tuple], dead: Sequence[DeadLetter] = ()) -> int:
        """Store rows (in COLUMNS order) and dead letters in one transaction; returns rows newly stored
        (a message_id already present is a duplicate and is dropped)."""
        with self.db.write() as conn:
            before = conn.total_changes
            conn.executemany(_INSERT, rows)
            inserted = conn.total_changes - before
            if dead:
                conn.executemany("INSERT INTO dead_letters (received_at, deployment, exchange, routing_key, "
                                 "message_id, reason, raw) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 [(d.received_at, d.deployment, d.exchange, d.routing_key, d.message_id, d.reason,
                                   d.raw) for d in dead])
        return inserted

    def query(self, *, instance: str | None = None, request_id: str | None = None, tenant: str | None = None,
              name: str | None = None, errors_only: bool = False, start: float | None = None,
              end: float | None = None, limit: int = 1000, newest_first: bool = False) -> list[StoredNotification]:
        where, args = [], []
        for column, value in (("instance_uuid", instance), ("tenant_id", tenant), ("name", name)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if request_id is not None:
            where.append("(request_id = ? OR global_request_id = ?)")
            args += [request_id, request_id]
        if errors_only:
            where.append("is_error = 1")
        if start is not None:
            where.append("ts >= ?")
            args.append(start)
        if end is not None:
            where.append("ts < ?")
            args.append(end)
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += f" ORDER BY ts {'DESC' if newest_first else 'ASC'}, id LIMIT ?"
        return [_stored(r) for r in self.db.read().execute(sql, [*args, limit])]

    def instances_seen(self, start: float | None = None, end: float | None = None) -> list[str]:
        sql = "SELECT DISTINCT instance_uuid FROM notifications WHERE instance_uuid IS NOT NULL"
        args: list = []
        if end is not None:
            sql += " AND ts < ?"
            args.append(end)
        return [r[0] for r in self.db.read().execute(sql, args)]

    def alive_instances(self) -> tuple[dict[str, int], dict[str, int]]:
        """Instances whose latest nova notification is not a deletion: counts per host and per flavor."""
        rows = self.db.read().execute(
            "SELECT host, json_extract(payload, '$.instance_type'), state, max(ts) FROM notifications "
            "WHERE instance_uuid IS NOT NULL AND service = 'nova' AND state IS NOT NULL GROUP BY instance_uuid")
        by_host: dict[str, int] = {}
        by_flavor: dict[str, int] = {}
        for host, flavor, state, _ in rows:
            if state in ("deleted", "soft-delete", "shelved_offloaded"):
                continue
            by_host[host or "unknown"] = by_host.get(host or "unknown", 0) + 1
            by_flavor[flavor or "unknown"] = by_flavor.get(flavor or "unknown", 0) + 1
        return by_host, by_flavor

    def count(self) -> int:
        return self.db.read().execute("SELECT count(*) FROM notifications").fetchone()[0]

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = self.db.read().execute("SELECT received_at, deployment, exchange, routing_key, message_id, reason, raw "
                                      "FROM dead_letters ORDER BY id DESC LIMIT ?", (limit,))
        return [DeadLetter(*r) for r in rows]

    def dead_letter_counts(self) -> dict[str, int]:
        return dict(self.db.read().execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason"))

    def enforce_retention(self, now: float, retention: float) -> int:
        with self.db.write() as conn:
            n = conn.execute("DELETE FROM notifications WHERE ts < ?", (now - retention,)).rowcount
            n += conn.execute("DELETE FROM dead_letters WHERE received_at < ?", (now - retention,)).rowcount
        return n


def _stored(row) -> StoredNotification:
    values = list(row)
    values[18] = bool(values[18])
    values[19] = json.loads(values[19])
    return StoredNotification(*values)
