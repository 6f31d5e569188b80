"""One paging pass after each evaluation: read the alerts, silences, maintenance windows, acks and the
notification log from the store; mark muted alerts (maintenance, silence, inhibition) with a history
line; let the pure `Dispatcher` decide the pages; hand each to the outbox and record it in the log.

Restart safety: a page is submitted before it is logged, and its notification id is derived from its
content, so a crash between the two makes the next pass recompute the same page, which the outbox
ignores as already held. Nothing is lost and nothing is sent twice.
"""

from __future__ import annotations

import logging
from typing import Mapping, Protocol

from stackwatch.alerting.config import AlertingConfig
from stackwatch.alerting.dispatch import AlertView, Dispatcher, Plan, Targets
from stackwatch.alerting.inhibit import Inhibitor
from stackwatch.alerting.model import AlertState
from stackwatch.alerting.notification import GroupNotification
from stackwatch.alerting.silence import mute_reason
from stackwatch.store.sqlite.acks import SqliteAckStore
from stackwatch.store.sqlite.nflog import SqliteNflog
from stackwatch.store.sqlite.silences import SqliteSilenceStore

log = logging.getLogger(__name__)


class Outbox(Protocol):
    def submit(self, n: GroupNotification) -> bool: ...


class Pager:
    def __init__(self, config: AlertingConfig, store, outbox: Outbox | None,
                 roles_of: Mapping[str, tuple[str, ...]] | None = None):
        self.config = config
        self.store = store
        self.outbox = outbox
        self.roles_of = dict(roles_of or {})
        self.silences = SqliteSilenceStore(store.db)
        self.acks = SqliteAckStore(store.db)
        self.nflog = SqliteNflog(store.db)
        self.dispatcher = None
        self._tidied_at = 0.0
        if config.route is not None:
            self.dispatcher = Dispatcher(
                config.route, {p.name: p for p in config.periods},
                {g.name: Targets(g.receivers, g.period) for g in config.contact_groups}, config.external_url)

    def views(self, now: float) -> tuple[list[AlertView], dict]:
        """Every alert routing must see (active ones and those an open page still names), marked."""
        nflog = self.nflog.load()
        alerts = {a.fingerprint: a for a in self.store.alerts.active()}
        named = {fp for e in nflog.values() if e.open for fp in e.firing} - alerts.keys()
        alerts.update(self.store.alerts.get_many(named))
        silences, windows = self.silences.silences(now), self.silences.maintenance(now)
        firing = [a for a in alerts.values() if a.state is AlertState.FIRING]
        inhibitor = Inhibitor(self.config.inhibit_rules, [(a.fingerprint, dict(a.labels)) for a in firing])
        acks = self.acks.latest()
        views, marks = [], []
        for a in alerts.values():
            labels = dict(a.labels)
            muted = ""
            if a.state in (AlertState.FIRING, AlertState.PENDING):
                muted = mute_reason(labels, now, silences, windows, self.roles_of)
                if not muted and a.state is AlertState.FIRING:
                    source = inhibitor.inhibited_by(a.fingerprint, labels)
                    muted = f"inhibited:{source}" if source else ""
                if muted != a.muted:
                    marks.append((a.fingerprint, a.muted, muted))
            ack = acks.get(a.fingerprint)
            acked = ack.author if ack is not None and ack.active(now, a.fired_at, a.state is AlertState.FIRING) else ""
            views.append(AlertView(a.evolve(muted=muted) if a.state is not AlertState.RESOLVED else a, muted, acked))
        self.store.alerts.mark(marks, now)
        return views, nflog

    def run_once(self, now: float) -> Plan:
        if now - self._tidied_at >= 3600:
            self._tidied_at = now
            self.nflog.forget_closed(now - 7 * 86400)
            self.nflog.enforce_retention(now, 365 * 86400)
        views, nflog = self.views(now)
        if self.dispatcher is None:
            return Plan()
        plan = self.dispatcher.plan(views, nflog, now)
        submitted = []
        for page in plan.pages:
            n = page.notification
            if self.outbox is None:
                log.warning("no outbox: page %s for %s not sent", n.notification_id, n.receiver)
                continue
            try:
                self.outbox.submit(n)
            except Exception:
                log.exception("outbox refused page %s for %s; it is retried next pass", n.notification_id, n.receiver)
                continue
            submitted.append(page)
            log.info("page %s to %s: %s %s (%d alert(s))", n.notification_id[:12], n.receiver, n.event,
                     n.group_key, len(n.alerts))
        # logged after the outbox holds them (one transaction): a crash in between recomputes the same
        # pages, whose ids the outbox already has
        self.nflog.record(submitted)
        return plan
