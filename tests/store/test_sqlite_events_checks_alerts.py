from stackwatch.alerting.model import Alert, AlertState, Transition, fingerprint, make_labels
from stackwatch.model import CheckResult, Perfdata, State
from stackwatch.store.interfaces import Event


def test_check_current_tracks_since_and_attempts(store):
    store.checks.record(CheckResult("h1", "disk", State.OK, "fine", 100.0))
    store.checks.record(CheckResult("h1", "disk", State.CRITICAL, "full", 160.0, (Perfdata("/", 99.0, "%"),)))
    cur = store.checks.record(CheckResult("h1", "disk", State.CRITICAL, "full", 220.0))
    assert (cur.state, cur.since, cur.attempts) == (State.CRITICAL, 160.0, 2)
    (row,) = store.checks.current("h1")
    assert row.since == 160.0 and row.timestamp == 220.0
    hist = store.checks.history("h1", "disk")
    assert [h.state for h in hist] == [State.CRITICAL, State.CRITICAL, State.OK]
    assert hist[1].perfdata == (Perfdata("/", 99.0, "%"),)
    assert store.checks.enforce_retention(now=230.0, retention=100.0) == 1


def test_events_full_text_and_exact_ids(store):
    uuid = "9f1e7a4c-3d2b-4c5e-8f6a-1b2c3d4e5f60"
    store.events.add([
        Event(10.0, "log", f"Terminating instance {uuid}", host="cmp1", service="nova", program="nova-compute",
              severity="INFO", request_id="req-1", instance_uuid=uuid, raw="raw line 1"),
        Event(20.0, "log", "AMQP server on 10.0.0.1:5672 is unreachable", host="ctl1", service="nova",
              severity="ERROR", raw="raw line 2"),
    ])
    (hit,) = store.events.search(uuid)
    assert hit.instance_uuid == uuid and hit.raw == "raw line 1"
    assert [e.host for e in store.events.search("unreachable")] == ["ctl1"]
    assert [e.ts for e in store.events.search(filters={"request_id": "req-1"})] == [10.0]
    assert [e.ts for e in store.events.search(start=15.0)] == [20.0]


def test_alert_state_and_history(store):
    labels = make_labels([("alertname", "X"), ("host", "h1")])
    fp = fingerprint(labels)
    pending = Alert(fp, "X", labels, (), "critical", AlertState.PENDING, 1.0, 100.0, None, None, 100.0)
    store.alerts.save([pending], [Transition(pending, AlertState.INACTIVE, 100.0)])
    firing = pending.evolve(state=AlertState.FIRING, fired_at=160.0, updated_at=160.0)
    store.alerts.save([firing], [Transition(firing, AlertState.PENDING, 160.0)])
    assert [a.state for a in store.alerts.active()] == [AlertState.FIRING]
    assert store.alerts.get(fp).labels == labels
    assert [(h[1], h[2]) for h in store.alerts.history(fp)] == [("pending", "firing"), ("inactive", "pending")]
