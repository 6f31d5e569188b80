"""Deciding what to page, to whom and when: alerts in, `GroupNotification`s (with the notification-log
entries that record them) out, as Alertmanager's dispatcher does with group_wait, group_interval and
repeat_interval, plus acknowledgement, escalation, notification periods and contact groups.

Pure: stdlib only, `now` passed in. All state lives in the notification log (`NflogEntry` per receiver and
group), so a restart recomputes the same decision; notification ids are derived from what is sent (receiver,
group, event, alerts with their statuses and the time each started firing, sequence number, which goes on
counting across episodes), so a recomputed page has the id of the one the
outbox already holds and is never delivered twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from stackwatch.alerting.model import Alert, AlertState
from stackwatch.alerting.notification import AlertSnapshot, GroupNotification, common
from stackwatch.alerting.periods import ALWAYS, Period
from stackwatch.alerting.routing import Route, group_key, group_labels, match_routes


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert as routing sees it: muted ('maintenance:ID', 'silenced:ID', 'inhibited:FP' or '') and who
    acknowledged it ('' when no ack holds)."""

    alert: Alert
    muted: str = ""
    acked_by: str = ""


@dataclass(frozen=True, slots=True)
class NflogEntry:
    """The last page sent to one receiver about one group: what was firing, and the state of the episode."""

    receiver: str
    group_key: str
    event: str                       # trigger | acknowledge | resolve
    sent_at: float
    firing: frozenset[str]           # fingerprints firing in the last page
    seq: int                         # pages sent in this episode (repeat counter)
    opened_at: float                 # first page of this episode (escalation delays count from it)
    acked: bool = False              # an acknowledge was sent for the current firing set
    level: int = 0                   # 0 = route receiver, n = n-th escalation
    notification_id: str = ""

    @property
    def open(self) -> bool:
        return self.event != "resolve"


@dataclass(frozen=True, slots=True)
class Page:
    notification: GroupNotification
    entry: NflogEntry


@dataclass
class Plan:
    pages: list[Page] = field(default_factory=list)
    deferred: int = 0                # triggers held back by a notification period


@dataclass(frozen=True, slots=True)
class Targets:
    """Who a route's receiver name means: itself, or a contact group's receivers, with their period."""

    receivers: tuple[str, ...]
    period: str = "24x7"


def notification_id(receiver: str, gkey: str, event: str, statuses: Iterable[tuple[str, str]], seq: int) -> str:
    text = "\x1f".join([receiver, gkey, event, str(seq)] + [f"{fp}={st}" for fp, st in sorted(statuses)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Dispatcher:
    def __init__(self, root: Route, periods: Mapping[str, Period] | None = None,
                 contact_groups: Mapping[str, Targets] | None = None, external_url: str = ""):
        self.root = root
        self.periods = dict(periods or {})
        self.contact_groups = dict(contact_groups or {})
        self.external_url = external_url.rstrip("/")

    def groups(self, views: Iterable[AlertView]) -> dict[tuple[str, str], tuple[Route, tuple, list[AlertView]]]:
        """(route id, group key) -> (route, group labels, alerts): every alert on every route it matches."""
        out: dict[tuple[str, str], tuple[Route, tuple, list[AlertView]]] = {}
        for v in views:
            labels = dict(v.alert.labels)
            for route in match_routes(self.root, labels):
                grouped = group_labels(route, labels)
                key = group_key(route, grouped)
                slot = out.get((route.id, key))
                if slot is None:
                    slot = out[(route.id, key)] = (route, grouped, [])
                slot[2].append(v)
        return out

    def targets(self, name: str) -> Targets:
        return self.contact_groups.get(name) or Targets((name,))

    def in_period(self, name: str, now: float) -> bool:
        return self.periods.get(name, ALWAYS).contains(now) if name != "24x7" else True

    def plan(self, views: Iterable[AlertView], nflog: Mapping[tuple[str, str], NflogEntry], now: float) -> Plan:
        plan = Plan()
        for (_, gkey), (route, grouped, members) in sorted(self.groups(views).items()):
            primary = self.targets(route.receiver)
            receivers = [(r, 0, primary.period) for r in primary.receivers]
            for level, esc in enumerate(route.escalate, start=1):
                t = self.targets(esc.receiver)
                for r in t.receivers:
                    receivers.append((r, level, t.period))
            first = {r: nflog.get((r, gkey)) for r in primary.receivers}
            for receiver, level, period in receivers:
                if level and not self._escalated(route.escalate[level - 1].after, members, first.values(),
                                                 nflog.get((receiver, gkey)), now):
                    continue
                page = self._decide(route, receiver, level, gkey, grouped, members, nflog.get((receiver, gkey)),
                                    now, self.in_period(route.period, now) and self.in_period(period, now), plan)
                if page is not None:
                    plan.pages.append(page)
        return plan

    @staticmethod
    def _escalated(after: float, members: list[AlertView], primaries, own: NflogEntry | None, now: float) -> bool:
        if own is not None and own.open:
            return True  # once escalated, the receiver follows the group until it resolves
        critical_unacked = any(v.alert.state is AlertState.FIRING and not v.muted and not v.acked_by
                               and v.alert.severity == "critical" for v in members)
        opened = [e.opened_at for e in primaries if e is not None and e.open]
        return critical_unacked and bool(opened) and now - min(opened) >= after

    def _decide(self, route: Route, receiver: str, level: int, gkey: str, grouped: tuple,
                members: list[AlertView], prev: NflogEntry | None, now: float, period_open: bool,
                plan: Plan) -> Page | None:
        firing = {v.alert.fingerprint: v for v in members if v.alert.state is AlertState.FIRING and not v.muted}
        prev_firing = prev.firing if prev is not None and prev.open else frozenset()
        by_fp = {v.alert.fingerprint: v for v in members}
        resolved = {fp: by_fp[fp] for fp in prev_firing
                    if fp not in firing and (fp not in by_fp or by_fp[fp].alert.state is not AlertState.FIRING)
                    and fp in by_fp}
        # a previously paged alert that disappeared from the store counts as resolved without a snapshot
        vanished = {fp for fp in prev_firing if fp not in by_fp}
        if not firing:
            if (resolved or vanished) and prev is not None and route.send_resolved \
                    and now - prev.sent_at >= route.group_interval:
                return self._page(receiver, level, gkey, grouped, "resolve", {}, resolved, prev, now,
                                  seq=prev.seq + 1, opened=prev.opened_at, acked=prev.acked, vanished=vanished)
            return None
        if prev is None or not prev.open:
            started = min((v.alert.fired_at or v.alert.updated_at) for v in firing.values())
            if now - started < route.group_wait:
                return None
            if not period_open:
                plan.deferred += 1
                return None
            return self._page(receiver, level, gkey, grouped, "trigger", firing, {}, prev, now,
                              seq=prev.seq + 1 if prev is not None else 0, opened=now, acked=False)
        new = set(firing) - prev_firing
        all_acked = all(v.acked_by for v in firing.values())
        if new or resolved or vanished:
            # a change waits for group_interval, and goes before any acknowledge so no resolution is lost
            if now - prev.sent_at < route.group_interval:
                return None
            if not period_open and new:
                plan.deferred += 1
                return None
            return self._page(receiver, level, gkey, grouped, "trigger", firing, resolved, prev, now,
                              seq=prev.seq + 1, opened=prev.opened_at, acked=prev.acked and not new,
                              vanished=vanished)
        if all_acked:
            if prev.acked:
                return None
            return self._page(receiver, level, gkey, grouped, "acknowledge", firing, {}, prev, now,
                              seq=prev.seq + 1, opened=prev.opened_at, acked=True)
        if now - prev.sent_at >= route.repeat_interval:
            if not period_open:
                plan.deferred += 1
                return None
            return self._page(receiver, level, gkey, grouped, "trigger", firing, {}, prev, now,
                              seq=prev.seq + 1, opened=prev.opened_at, acked=False)
        return None

    def _page(self, receiver: str, level: int, gkey: str, grouped: tuple, event: str,
              firing: Mapping[str, AlertView], resolved: Mapping[str, AlertView], prev: NflogEntry | None,
              now: float, seq: int, opened: float, acked: bool, vanished: Iterable[str] = ()) -> Page:
        snaps = [self._snapshot(v, "firing", level) for _, v in sorted(firing.items())]
        snaps += [self._snapshot(v, "resolved", level) for _, v in sorted(resolved.items())]
        # the start of each alert's firing episode makes a page about a re-fired alert a new page
        statuses = [(s.fingerprint, f"{s.status}@{s.starts_at:.3f}") for s in snaps]
        statuses += [(fp, "vanished") for fp in vanished]
        nid = notification_id(receiver, gkey, event, statuses, seq)
        note = GroupNotification(
            notification_id=nid, receiver=receiver, group_key=gkey, group_labels=grouped, event=event,
            alerts=tuple(snaps), created_at=now, external_url=self.external_url,
            common_labels=common([s.labels for s in snaps]), common_annotations=common([s.annotations for s in snaps]))
        entry = NflogEntry(receiver, gkey, event, now, frozenset(firing), seq, opened, acked, level, nid)
        return Page(note, entry)

    def _snapshot(self, v: AlertView, status: str, level: int) -> AlertSnapshot:
        a = v.alert
        url = f"{self.external_url}/alerts/{a.fingerprint}" if self.external_url else ""
        return AlertSnapshot(a.fingerprint, status, a.labels, a.annotations,
                             a.fired_at or a.active_since or a.updated_at,
                             a.resolved_at if status == "resolved" else None, url, v.acked_by, level)


def views_for(alerts: Iterable[Alert], muted: Callable[[Alert], str], acked: Callable[[Alert], str]) -> list[AlertView]:
    return [AlertView(a, muted(a), acked(a)) for a in alerts]
