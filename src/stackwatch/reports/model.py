"""A report as data: sections of tables and charts, and its CSV and JSON forms.

Pure: stdlib only. Every table of the HTML report is a `Table`, so `--format csv|json` gives exactly the
numbers the HTML shows. Cells are str, int, float or None (None prints as "-").
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from stackwatch.reports.period import Period

Cell = Any


@dataclass(frozen=True, slots=True)
class Table:
    key: str                         # file-name safe id: "tenant_usage"
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""                   # what the numbers are, or why the table is empty
    highlight: tuple[int, ...] = ()  # row indexes to emphasise (e.g. quota > 80%)

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        for row in self.rows:
            w.writerow(["" if c is None else _plain(c) for c in row])
        return buf.getvalue()

    def as_dicts(self) -> list[dict[str, Cell]]:
        return [dict(zip(self.columns, row)) for row in self.rows]


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    series: tuple[tuple[str, tuple[tuple[float, float], ...]], ...]   # (label, points)
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    empty: str = ""                  # set when the period holds no data for this section

    @property
    def has_data(self) -> bool:
        return not self.empty and (any(t.rows for t in self.tables) or any(c.series for c in self.charts))


@dataclass(frozen=True, slots=True)
class Report:
    kind: str                        # weekly | monthly | quarterly
    period: Period
    previous: Period
    generated_at: float
    cloud: str
    sections: tuple[Section, ...]
    sources: tuple[str, ...] = field(default=())   # which stores/tiers answered ("rollups(step=3600)", ...)

    @property
    def has_data(self) -> bool:
        return any(s.has_data for s in self.sections)

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    def table(self, key: str) -> Table:
        for t in self.tables():
            if t.key == key:
                return t
        raise KeyError(key)

    def to_json(self) -> str:
        doc = {
            "kind": self.kind, "cloud": self.cloud,
            "period": {"label": self.period.label, "start": iso(self.period.start), "end": iso(self.period.end)},
            "previous": {"label": self.previous.label, "start": iso(self.previous.start),
                         "end": iso(self.previous.end)},
            "generated_at": iso(self.generated_at), "has_data": self.has_data, "sources": list(self.sources),
            "sections": [{"key": s.key, "title": s.title, "empty": s.empty,
                          "tables": [{"key": t.key, "title": t.title, "note": t.note, "columns": list(t.columns),
                                      "rows": [list(r) for r in t.rows]} for t in s.tables]}
                         for s in self.sections],
        }
        return json.dumps(doc, indent=2, default=str)


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d")


def _plain(c: Cell) -> Cell:
    return round(c, 4) if isinstance(c, float) else c


def change(now: float | None, before: float | None) -> float | None:
    """Percent change from `before` to `now` (None when either is unknown or before is 0)."""
    if now is None or before is None or before == 0:
        return None
    return 100.0 * (now - before) / before
