"""The SQLite file behind the embedded store: opening (WAL), migrating, one serialized writer and a
reader connection per thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterator

from stackwatch.store.sqlite.migrations import MIGRATIONS

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The database cannot be used (unreadable, corrupt, read-only, newer than this stackwatch)."""


class Database:
    def __init__(self, path: Path, migrations: list[tuple[int, str, str]] = MIGRATIONS):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self.on_write = None  # called with each write transaction's duration in seconds
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not os.access(self.path.parent, os.W_OK):
                raise StoreError(f"data directory {self.path.parent} is not writable")
            if self.path.exists() and not os.access(self.path, os.R_OK | os.W_OK):
                raise StoreError(f"database {self.path} is not readable and writable")
            self._writer = self._connect()
            self._migrate(migrations)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use database {self.path}: {exc}") from None
        except PermissionError as exc:
            raise StoreError(f"cannot use {self.path}: {exc.strerror} ({exc.filename})") from None
        except OSError as exc:
            raise StoreError(f"cannot use {self.path}: {exc.strerror or exc}") from None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL").fetchone()
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @property
    def schema_version(self) -> int:
        return self._writer.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]

    def _migrate(self, migrations: list[tuple[int, str, str]]) -> None:
        w = self._writer
        w.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                  "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)")
        current = self.schema_version
        known = max((v for v, _, _ in migrations), default=0)
        if current > known:
            raise StoreError(f"database {self.path} has schema version {current}, newer than this "
                             f"stackwatch knows ({known}); upgrade stackwatch")
        for version, name, sql in migrations:
            if version <= current:
                continue
            log.info("migrating %s to schema version %d (%s)", self.path, version, name)
            with transaction(w):
                for statement in _statements(sql):
                    w.execute(statement)
                w.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, time.time()))

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction on the single writer connection; commits on success."""
        with self._lock:
            started = time.perf_counter()
            try:
                with transaction(self._writer):
                    yield self._writer
            finally:
                if self.on_write is not None:
                    self.on_write(time.perf_counter() - started)

    def read(self) -> sqlite3.Connection:
        """This thread's reader connection (WAL lets readers run beside the writer)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()
            with contextlib.suppress(sqlite3.Error):
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._writer.close()


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction on `conn` (autocommit mode), taking the write lock at once: committed when the
    block ends, rolled back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def helper_connection(path: str | Path) -> sqlite3.Connection:
    """A writer connection for a helper process (the notification and log writers), set up as `Database`
    sets up its own; the file is already migrated and in WAL mode."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _statements(sql: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
