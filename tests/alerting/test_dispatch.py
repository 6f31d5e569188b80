"""The dispatch planner: group_wait / group_interval / repeat_interval, ack, escalation, periods and
contact groups, with the notification log carried between passes as the pager stores it."""

from __future__ import annotations

from stackwatch.alerting.dispatch import AlertView, Dispatcher, Targets
from stackwatch.alerting.matchers import parse_matchers
from stackwatch.alerting.model import Alert, AlertState, fingerprint, make_labels
from stackwatch.alerting.periods import Period
from stackwatch.alerting.routing import Escalation, Route


def alert(host, state=AlertState.FIRING, fired=0.0, severity="critical", name="ProcessDown"):
    labels = make_labels([("alertname", name), ("host", host), ("role", "compute"), ("severity", severity)])
    return Alert(fingerprint(labels), name, labels, (("summary", f"{host} down"),), severity, state, 2.0,
                 fired, fired if state is not AlertState.PENDING else None,
                 fired + 1 if state is AlertState.RESOLVED else None, fired)


class Log:
    """The notification log between passes (what SqliteNflog stores)."""

    def __init__(self, dispatcher):
        self.d, self.entries, self.sent = dispatcher, {}, []

    def run(self, views, now):
        plan = self.d.plan(views, self.entries, now)
        for p in plan.pages:
            self.entries[(p.entry.receiver, p.entry.group_key)] = p.entry
            self.sent.append(p.notification)
        return [(p.notification.receiver, p.notification.event,
                 sorted(a.label("host") + ":" + a.status for a in p.notification.alerts)) for p in plan.pages]


ROUTE = Route("0", "ops", group_by=("alertname", "role"), group_wait=30, group_interval=60, repeat_interval=600)


def test_group_wait_batches_then_group_interval_adds_then_repeat():
    log = Log(Dispatcher(ROUTE))
    a1, a2 = alert("c1", fired=0), alert("c2", fired=10)
    assert log.run([AlertView(a1)], 20) == []                       # group_wait
    assert log.run([AlertView(a1), AlertView(a2)], 30) == [("ops", "trigger", ["c1:firing", "c2:firing"])]
    a3 = alert("c3", fired=40)
    assert log.run([AlertView(a) for a in (a1, a2, a3)], 45) == []  # group_interval since the last page
    assert log.run([AlertView(a) for a in (a1, a2, a3)], 90) == [
        ("ops", "trigger", ["c1:firing", "c2:firing", "c3:firing"])]
    assert log.run([AlertView(a) for a in (a1, a2, a3)], 600) == []
    assert [e for _, e, _ in log.run([AlertView(a) for a in (a1, a2, a3)], 690)] == ["trigger"]   # repeat
    ids = [n.notification_id for n in log.sent]
    assert len(set(ids)) == 3


def test_notification_ids_are_deterministic():
    d = Dispatcher(ROUTE)
    views = [AlertView(alert("c1")), AlertView(alert("c2"))]
    first = d.plan(views, {}, 100).pages[0].notification
    again = d.plan(list(reversed(views)), {}, 170).pages[0].notification
    assert first.notification_id == again.notification_id and first.created_at != again.created_at


def test_muted_alerts_do_not_page_and_ack_stops_repeats():
    log = Log(Dispatcher(ROUTE))
    a1, a2 = alert("c1"), alert("c2")
    assert log.run([AlertView(a1, muted="maintenance:m1"), AlertView(a2, muted="inhibited:x")], 100) == []
    assert log.run([AlertView(a1), AlertView(a2, muted="silenced:s")], 100) == [("ops", "trigger", ["c1:firing"])]
    assert log.run([AlertView(a1, acked_by="bob")], 110) == [("ops", "acknowledge", ["c1:firing"])]
    assert log.sent[-1].alerts[0].acknowledged_by == "bob"
    assert log.run([AlertView(a1, acked_by="bob")], 5000) == []     # no repeat while acknowledged
    assert log.run([AlertView(a1)], 5010) == [("ops", "trigger", ["c1:firing"])]   # ack expired: repeats again
    resolved = alert("c1", AlertState.RESOLVED)
    assert log.run([AlertView(resolved)], 5100) == [("ops", "resolve", ["c1:resolved"])]
    assert log.run([AlertView(resolved)], 9000) == []


def test_unacknowledged_critical_escalates_after_delay():
    route = Route("0", "ops", group_by=("alertname",), group_wait=0, group_interval=60, repeat_interval=3600,
                  escalate=(Escalation(900, "lead"), Escalation(1800, "director")))
    log = Log(Dispatcher(route))
    a = alert("c1")
    assert log.run([AlertView(a)], 0) == [("ops", "trigger", ["c1:firing"])]
    assert log.run([AlertView(a)], 899) == []
    assert log.run([AlertView(a)], 900) == [("lead", "trigger", ["c1:firing"])]
    assert log.sent[-1].alerts[0].escalation_level == 1
    assert log.run([AlertView(a, acked_by="lead")], 1000) == [("ops", "acknowledge", ["c1:firing"]),
                                                             ("lead", "acknowledge", ["c1:firing"])]
    assert log.run([AlertView(a, acked_by="lead")], 2000) == []      # acked: no further escalation
    assert sorted(log.run([AlertView(alert("c1", AlertState.RESOLVED))], 2100)) == [
        ("lead", "resolve", ["c1:resolved"]), ("ops", "resolve", ["c1:resolved"])]
    warn = alert("c9", severity="warning", name="DiskFilling")
    log2 = Log(Dispatcher(route))
    log2.run([AlertView(warn)], 0)
    assert log2.run([AlertView(warn)], 5000) == [("ops", "trigger", ["c9:firing"])]   # only a repeat: not critical


def test_contact_group_and_business_hours():
    office = Period("office", "UTC", frozenset(range(5)), ((540, 1020),))
    route = Route("0", "compute-admins", group_by=("alertname",), group_wait=0, group_interval=60,
                  repeat_interval=3600)
    log = Log(Dispatcher(route, {"office": office}, {"compute-admins": Targets(("mail", "sms"), "office")}))
    a = alert("c1")
    night = 1764028800.0 + 2 * 3600       # Wednesday 2026-11-25 02:00 UTC
    assert log.run([AlertView(a)], night) == []                     # outside the period: held
    morning = 1764028800.0 + 9 * 3600
    assert sorted(log.run([AlertView(a)], morning)) == [("mail", "trigger", ["c1:firing"]),
                                                        ("sms", "trigger", ["c1:firing"])]
    evening = 1764028800.0 + 20 * 3600
    assert sorted(e for _, e, _ in log.run([AlertView(alert("c1", AlertState.RESOLVED))], evening)) == [
        "resolve", "resolve"]                                      # resolutions go out at any hour


def test_matchers_route_to_separate_groups():
    root = Route("0", "ops", group_by=("alertname",), group_wait=0,
                 routes=(Route("0.0", "pager", parse_matchers(['severity="critical"']), ("alertname", "host"),
                               group_wait=0),))
    log = Log(Dispatcher(root))
    out = log.run([AlertView(alert("c1")), AlertView(alert("c2")), AlertView(alert("c3", severity="warning"))], 0)
    assert sorted(out) == [("ops", "trigger", ["c3:firing"]), ("pager", "trigger", ["c1:firing"]),
                           ("pager", "trigger", ["c2:firing"])]


def test_an_alert_that_fires_again_pages_again_with_a_new_id():
    log = Log(Dispatcher(ROUTE))
    first = alert("c1", fired=0)
    assert log.run([AlertView(first)], 30)[0][1] == "trigger"
    assert log.run([AlertView(alert("c1", AlertState.RESOLVED, fired=0))], 100)[0][1] == "resolve"
    again = alert("c1", fired=200)          # same labels, same fingerprint, a new episode
    assert log.run([AlertView(again)], 230) == [("ops", "trigger", ["c1:firing"])]
    ids = [n.notification_id for n in log.sent]
    assert len(set(ids)) == 3
    log.entries.clear()                     # even with the notification log forgotten
    assert Dispatcher(ROUTE).plan([AlertView(again)], {}, 300).pages[0].notification.notification_id not in ids[:2]


def test_a_resolution_is_not_lost_behind_an_acknowledgement():
    log = Log(Dispatcher(ROUTE))
    a1, a2 = alert("c1"), alert("c2")
    log.run([AlertView(a1), AlertView(a2)], 30)
    gone = alert("c2", AlertState.RESOLVED)
    # c2 resolves and c1 is acknowledged within group_interval: nothing until the interval, then the change
    assert log.run([AlertView(a1, acked_by="bob"), AlertView(gone)], 40) == []
    assert log.run([AlertView(a1, acked_by="bob"), AlertView(gone)], 90) == [
        ("ops", "trigger", ["c1:firing", "c2:resolved"])]
    assert log.run([AlertView(a1, acked_by="bob")], 95) == [("ops", "acknowledge", ["c1:firing"])]
