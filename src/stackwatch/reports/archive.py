"""Past reports on disk (data_dir/reports by default) and the one entry point that builds and writes a report.

Adapter: the file system. A report file's name carries its kind and period (stackwatch-quarterly-2026-Q3.html),
so listing the directory is listing the reports; the web page serves them from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from stackwatch.reports.period import Period

NAME = re.compile(r"^stackwatch-(weekly|monthly|quarterly)-([0-9A-Za-z_.-]+)\.(html|json)$")


@dataclass(frozen=True, slots=True)
class StoredReport:
    name: str
    kind: str
    period: str
    fmt: str
    size: int
    mtime: float


def reports_dir(config) -> Path:
    """config.reports.directory (under data_dir when relative), else data_dir/reports."""
    settings = getattr(config, "reports", None)
    d = settings.directory if settings is not None else Path("reports")
    return d if d.is_absolute() else config.data_dir / d


def generate(store, config, kind: str, period: Period, now: float, fmt: str = "html", output: Path | None = None,
             progress=None):
    """Build the report and write it (to `output`, else a name from its period in the current directory);
    returns (files written, the Report)."""
    from stackwatch.reports.gather import build_report
    from stackwatch.reports.render import default_name, write

    settings = getattr(config, "reports", None)
    rep = build_report(store, kind, period, now, progress=progress, slo=settings.slo if settings else 99.0)
    target = output if output is not None else Path(default_name(rep, fmt))
    return write(rep, fmt, target), rep


def list_reports(directory: Path) -> list[StoredReport]:
    out = []
    if directory.is_dir():
        for p in directory.iterdir():
            m = NAME.match(p.name)
            if m and p.is_file():
                st = p.stat()
                out.append(StoredReport(p.name, m.group(1), m.group(2), m.group(3), st.st_size, st.st_mtime))
    return sorted(out, key=lambda r: -r.mtime)


def find(directory: Path, name: str) -> Path | None:
    """The report file called `name` in `directory`, or None (never a path outside it)."""
    if not NAME.match(name):
        return None
    path = directory / name
    return path if path.is_file() else None
