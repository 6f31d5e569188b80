"""The embedded SQLite backend: one database file (WAL) holding metrics with rollups, check results,
events, alerts and notifications. `open_store` is the one way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stackwatch.config import MetricsConfig
from stackwatch.store.sqlite.alerts import SqliteAlertStore
from stackwatch.store.sqlite.checks import SqliteCheckStore
from stackwatch.store.sqlite.database import Database, StoreError
from stackwatch.store.sqlite.events import SqliteEventStore
from stackwatch.store.sqlite.metrics import SqliteMetricStore
from stackwatch.store.sqlite.notifications import SqliteNotificationStore

__all__ = ["Store", "StoreError", "open_store"]


@dataclass
class Store:
    db: Database
    metrics: SqliteMetricStore
    checks: SqliteCheckStore
    events: SqliteEventStore
    alerts: SqliteAlertStore
    notifications: SqliteNotificationStore

    def close(self) -> None:
        self.metrics.flush()
        self.db.close()


def open_store(path: Path, metrics: MetricsConfig) -> Store:
    """Open (creating and migrating as needed) the database at `path`; raises StoreError."""
    db = Database(path)
    try:
        return Store(db, SqliteMetricStore(db, metrics), SqliteCheckStore(db), SqliteEventStore(db),
                     SqliteAlertStore(db), SqliteNotificationStore(db))
    except Exception as exc:
        db.close()
        import sqlite3

        if isinstance(exc, sqlite3.DatabaseError):
            raise StoreError(f"cannot use database {path}: {exc}") from None
        raise
