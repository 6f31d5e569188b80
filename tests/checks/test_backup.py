"""The backup check: the newest dump's age and size, judged at a given `now`, and the probe on a real directory."""

from __future__ import annotations

import os
import time

import pytest

from stackwatch.checks.backup import BackupCheck, BackupOptions, Newest, judge
from stackwatch.states import State

NOW = 1_764_072_000.0
HOUR = 3600


@pytest.mark.parametrize("age_hours, size, state", [
    (2, 10_000_000, State.OK), (25.9, 10, State.OK), (27, 10, State.WARNING), (51, 10, State.CRITICAL),
    (1, 0, State.CRITICAL),                                   # an empty dump is no backup
])
def test_age_and_size(age_hours, size, state):
    newest = Newest(NOW, "/var/backups/mysql/openstack.sql.gz", NOW - age_hours * HOUR, size, 7)
    assert judge(newest, BackupOptions(pattern="*.sql.gz")).state is state


def test_status_line():
    check = BackupCheck(BackupOptions(directory="/b", pattern="*.sql", min_size="1kB"))
    outcome = judge(Newest(NOW, "/b/db-1.sql", NOW - 30 * HOUR, 100, 3), check.options)
    assert outcome.state is State.CRITICAL
    assert check.status_line(outcome) == (
        "BACKUP CRITICAL - newest backup /b/db-1.sql is 1d6h old, 100 bytes (it is 100 bytes, below 1kB; older than 26h), "
        "3 files match | age=108000s;93600;180000;0 size=100B;;1024:;0 files=3;;;0")


def test_no_backup_is_critical_no_directory_unknown(tmp_path):
    assert judge(Newest(NOW, None, None, None, 0), BackupOptions(directory="/b")).state is State.CRITICAL
    outcome = BackupCheck(BackupOptions(directory=str(tmp_path / "nope"))).run()
    assert outcome.state is State.UNKNOWN and "cannot list" in outcome.summary


def test_probe_picks_the_newest_match(tmp_path):
    now = time.time()
    for name, age, data in [("openstack-1.sql.gz", 50 * HOUR, b"x" * 100), ("openstack-2.sql.gz", 2 * HOUR, b""),
                            ("notes.txt", 0, b"hi")]:
        path = tmp_path / name
        path.write_bytes(data)
        os.utime(path, (now - age, now - age))
    (tmp_path / "dir.sql.gz").mkdir()                          # not a file: ignored
    outcome = BackupCheck(BackupOptions(directory=str(tmp_path), pattern="*.sql.gz")).run()
    assert outcome.state is State.CRITICAL                     # the newest is empty (a failed dump)
    assert "openstack-2.sql.gz is 2h old, 0 bytes" in outcome.summary and "2 files match" in outcome.summary
    (tmp_path / "openstack-2.sql.gz").write_bytes(b"dump")
    assert BackupCheck(BackupOptions(directory=str(tmp_path), pattern="*.sql.gz")).run().state is State.OK
