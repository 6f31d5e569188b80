"""The backup check: the newest file matching a glob in a directory is recent enough and not empty.

The guide's daily `mysqldump --opt --all-databases > openstack.sql` cron job: --directory
/var/lib/backups/mysql --pattern '*.sql.gz' -w 26h -c 50h. The newest match (by modification time) is
judged: older than -w/-c is WARNING/CRITICAL, smaller than --min-size is CRITICAL (an empty or
truncated dump is no backup). No matching file at all is CRITICAL (the backups are missing); a missing
or unreadable directory is UNKNOWN (the check cannot look).

`judge` is pure and takes `now`; the probe stats files.
"""

from __future__ import annotations

from collections import namedtuple

from stackwatch.checks import CHECKS
from stackwatch.checks.core import CheckOutcome
from stackwatch.checks.options import Options, option
from stackwatch.checks.probe import ProbeError, ProbingCheck
from stackwatch.checks.units import parse_size
from stackwatch.states import Perfdata, State
from stackwatch.timespec import format_duration, parse_duration

Newest = namedtuple("Newest", "now path mtime size matches")  # path None: no file matches


def _size(text) -> None:
    parse_size(text, "B")


class BackupOptions(Options):
    """Options of the backup check."""

    directory: str = option("/var/backups/mysql", flags=("-d", "--directory"), help="where the backups are written")
    pattern: str = option("*", flags=("-p", "--pattern"), help="shell glob of the backup files (e.g. *.sql.gz)")
    warning: str = option("26h", flags=("-w", "--warning"), parse=parse_duration, metavar="AGE",
                          help="WARNING when the newest backup is older (26h for a daily job)")
    critical: str = option("50h", flags=("-c", "--critical"), parse=parse_duration, metavar="AGE",
                           help="CRITICAL when the newest backup is older")
    min_size: str = option("1B", flags=("--min-size",), parse=_size, metavar="SIZE",
                           help="CRITICAL when the newest backup is smaller (1kB, 10MB; bytes if no unit)")


def judge(newest: Newest, options: BackupOptions) -> CheckOutcome:
    """The outcome for the newest matching file at `newest.now` (pure)."""
    where = f"{options.directory}/{options.pattern}"
    if newest.path is None:
        return CheckOutcome(State.CRITICAL, f"no backup matches {where}", (Perfdata("files", 0, "", "", "", 0),))
    warning, critical = parse_duration(options.warning), parse_duration(options.critical)
    min_size = parse_size(options.min_size, "B")
    age = newest.now - newest.mtime
    problems, state = [], State.OK
    if newest.size < min_size:
        problems.append(f"it is {newest.size} bytes, below {options.min_size}")
        state = State.CRITICAL
    if age > critical:
        problems.append(f"older than {options.critical}")
        state = State.CRITICAL
    elif age > warning:
        problems.append(f"older than {options.warning}")
        if state is State.OK:
            state = State.WARNING
    text = (f"newest backup {newest.path} is {format_duration(max(0.0, age))} old, {newest.size} bytes"
            + (f" ({'; '.join(problems)})" if problems else "") + f", {newest.matches} files match")
    perf = (Perfdata("age", round(age), "s", f"{warning:.0f}", f"{critical:.0f}", 0),
            Perfdata("size", newest.size, "B", "", f"{min_size}:", 0),
            Perfdata("files", newest.matches, "", "", "", 0))
    return CheckOutcome(state, text, perf)


@CHECKS.register("backup")
class BackupCheck(ProbingCheck):
    """The newest backup file in a directory is younger than N hours and not empty."""

    name = "backup"
    Options = BackupOptions

    def probe(self) -> Newest:
        import fnmatch
        import os
        import time

        directory, pattern = self.options.directory, self.options.pattern
        now = time.time()
        try:
            entries = os.listdir(directory)
        except OSError as exc:
            raise ProbeError(f"cannot list {directory}: {exc.strerror}") from None
        best, matches = None, 0
        for entry in entries:
            if not fnmatch.fnmatchcase(entry, pattern):
                continue
            path = os.path.join(directory, entry)
            try:
                st = os.stat(path)
            except FileNotFoundError:  # removed meanwhile (a rotation of old dumps)
                continue
            except OSError as exc:
                raise ProbeError(f"cannot stat {path}: {exc.strerror}") from None
            if not os.path.isfile(path):
                continue
            matches += 1
            if best is None or st.st_mtime > best[1]:
                best = (path, st.st_mtime, st.st_size)
        if best is None:
            return Newest(now, None, None, None, 0)
        return Newest(now, *best, matches)

    def evaluate(self, newest: Newest) -> CheckOutcome:
        return judge(newest, self.options)
