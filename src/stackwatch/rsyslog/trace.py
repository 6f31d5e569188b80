"""A trace: every record that names an instance UUID or a request id, across hosts and services, in time
order, grouped by service, with the first ERROR/CRITICAL (and its traceback) called out, which is where
the on-call engineer starts reading.

Pure: stdlib only. Built from the events a store's `trace()` returns; rendered by the CLI and the web UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from stackwatch.store.interfaces import Event

PROBLEM_LEVELS = ("CRITICAL", "FATAL", "ERROR", "TRACE")


@dataclass(frozen=True, slots=True)
class Trace:
    ident: str
    events: list[Event]
    by_service: dict[str, list[Event]] = field(default_factory=dict)
    first_problem: Event | None = None

    @property
    def hosts(self) -> list[str]:
        return sorted({e.host for e in self.events if e.host})

    @property
    def request_ids(self) -> list[str]:
        return sorted({e.request_id for e in self.events if e.request_id})

    @property
    def span(self) -> float:
        return self.events[-1].ts - self.events[0].ts if self.events else 0.0


def build_trace(ident: str, events: list[Event]) -> Trace:
    ordered = sorted(events, key=lambda e: (e.ts, e.id or 0))
    groups: dict[str, list[Event]] = {}
    for e in ordered:
        groups.setdefault(e.service or e.program or "other", []).append(e)
    problem = next((e for e in ordered if (e.severity or "").upper() in PROBLEM_LEVELS), None)
    return Trace(ident, ordered, groups, problem)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_json(e: Event) -> dict:
    return {"time": iso(e.ts), "ts": e.ts, "host": e.host, "service": e.service, "program": e.program,
            "level": e.severity, "request_id": e.request_id, "global_request_id": e.global_request_id,
            "instance_uuid": e.instance_uuid, "message": e.message,
            "traceback": e.fields.get("traceback"), "fields": dict(e.fields), "raw": e.raw}


def trace_json(t: Trace) -> dict:
    return {"id": t.ident, "count": len(t.events), "hosts": t.hosts,
            "services": {s: len(evts) for s, evts in t.by_service.items()},
            "request_ids": t.request_ids, "span_seconds": t.span,
            "first_problem": event_json(t.first_problem) if t.first_problem else None,
            "events": [event_json(e) for e in t.events]}


def format_line(e: Event) -> str:
    return f"{iso(e.ts)} {e.host:<16} {e.program or e.service:<22} {e.severity or '-':<8} {e.message}"


def format_text(t: Trace) -> str:
    """The terminal rendering: a header, the first problem with its traceback, then each service's records."""
    if not t.events:
        return f"no records name {t.ident}"
    lines = [f"trace {t.ident}: {len(t.events)} record(s) over {t.span:.3f}s on {len(t.hosts)} host(s) "
             f"({', '.join(t.hosts)}); services: "
             + ", ".join(f"{s} {len(v)}" for s, v in t.by_service.items())]
    if t.request_ids:
        lines.append("request ids: " + ", ".join(t.request_ids))
    if t.first_problem is not None:
        p = t.first_problem
        lines += ["", "first problem:", "  " + format_line(p)]
        tb = p.fields.get("traceback")
        if tb:
            lines += ["    " + line for line in str(tb).splitlines()]
    for service, events in t.by_service.items():
        lines += ["", f"== {service} ({len(events)})"]
        lines += ["  " + format_line(e) for e in events]
    return "\n".join(lines)
