"""Log pattern rules: count the records that match a rule (level, service, program, message pattern)
per group (host, service...) over a sliding window, and offer the counts as rule observations, so log
patterns alert through the same evaluation as metrics and checks.

Pure: stdlib only (a lock, because ingest threads feed it while the alert tick reads it).
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from stackwatch.alerting.model import Labels, make_labels
from stackwatch.alerting.rules import Observation

if TYPE_CHECKING:
    from stackwatch.alerting.config import RuleSpec
    from stackwatch.rsyslog.record import LogRecord


@dataclass(frozen=True, slots=True)
class LogMatch:
    """What a log rule matches: every given part must hold (the pattern is a regex searched in the message)."""

    pattern: str | None = None
    levels: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ("host", "service")


class _Compiled:
    __slots__ = ("rule", "regex", "levels", "services", "programs", "group_by", "max_keep")

    def __init__(self, rule: "RuleSpec"):
        m: LogMatch = rule.log
        self.rule = rule
        self.regex = re.compile(m.pattern) if m.pattern else None
        self.levels = frozenset(l.upper() for l in m.levels)
        self.services = frozenset(m.services)
        self.programs = frozenset(m.programs)
        self.group_by = m.group_by
        self.max_keep = max(rule.min_count * 4, 1000)

    def matches(self, r: "LogRecord") -> bool:
        if self.levels and (r.level or "").upper() not in self.levels:
            return False
        if self.services and r.service not in self.services:
            return False
        if self.programs and r.program not in self.programs:
            return False
        if self.regex is not None:
            if self.regex.search(r.message) is None and not (r.traceback and self.regex.search(r.traceback)):
                return False
        return True


class LogWatch:
    def __init__(self, rules: Iterable["RuleSpec"]):
        rules = list(rules)
        self._rules = [_Compiled(r) for r in rules if r.log is not None]
        self._hits: dict[tuple[str, Labels], deque] = {}
        self._examples: dict[tuple[str, Labels], str] = {}
        self._lock = threading.Lock()
        # absence rules on log feeds: when each (host, service) was last heard from
        self._watch_feeds = any(getattr(r, "absent", None) is not None and r.absent.kind == "log" for r in rules)
        self._feeds: dict[tuple[str, str], float] = {}

    @property
    def active(self) -> bool:
        return bool(self._rules) or self._watch_feeds

    def feeds(self) -> dict[tuple[str, str], float]:
        """(host, service) -> when a record from it was last received."""
        with self._lock:
            return dict(self._feeds)

    def observe(self, record: "LogRecord", received_at: float) -> None:
        ts = record.timestamp if record.timestamp is not None else received_at
        if self._watch_feeds:
            key = (record.host or "", record.service or "")
            with self._lock:
                if self._feeds.get(key, 0.0) < received_at:
                    self._feeds[key] = received_at
        for c in self._rules:
            if c.matches(record):
                labels = make_labels((k, getattr(record, k, "") or "") for k in c.group_by)
                key = (c.rule.name, labels)
                with self._lock:
                    hits = self._hits.get(key)
                    if hits is None:
                        hits = self._hits[key] = deque(maxlen=c.max_keep)
                    hits.append(ts)
                    self._examples[key] = record.message[:300]

    def observations(self, rule: "RuleSpec", now: float) -> list[Observation]:
        """One observation per group seen within the window; a group whose count fell to 0 reports
        inactive once (so its alert resolves) and is then forgotten."""
        out = []
        cutoff = now - rule.window
        with self._lock:
            for (name, labels), hits in list(self._hits.items()):
                if name != rule.name:
                    continue
                while hits and hits[0] < cutoff:
                    hits.popleft()
                n = len(hits)
                example = self._examples.get((name, labels), "")
                desc = f"{n} matching log record(s) in the last {rule.window:g}s; latest: {example}"
                out.append(Observation(labels, float(n), n >= rule.min_count, desc))
                if n == 0:
                    del self._hits[(name, labels)]
                    self._examples.pop((name, labels), None)
        return out
