from stackwatch.alerting.model import AlertState
from stackwatch.alerting.rules import Observation, check_observations, evaluate, metric_observations
from stackwatch.config import RuleSpec
from stackwatch.model import State

RULE = RuleSpec(name="DiskFull", severity="critical", for_=120.0, metric="used", op=">", threshold=0.9)
LABELS = (("host", "h1"), ("mountpoint", "/"))


def run(rule, observations, previous, now):
    alerts, transitions = evaluate(rule, observations, previous, now)
    return {a.fingerprint: a for a in alerts}, [(t.previous, t.alert.state) for t in transitions]


def test_pending_then_firing_after_for_then_resolved():
    obs = metric_observations(RULE, [(LABELS, 0.95)])
    state, tr = run(RULE, obs, {}, 1000.0)
    assert tr == [(AlertState.INACTIVE, AlertState.PENDING)]
    state, tr = run(RULE, obs, state, 1060.0)
    assert tr == []  # still pending: for is 120 s
    state, tr = run(RULE, obs, state, 1120.0)
    assert tr == [(AlertState.PENDING, AlertState.FIRING)]
    (alert,) = state.values()
    assert alert.fired_at == 1120.0 and alert.active_since == 1000.0
    assert alert.label("alertname") == "DiskFull" and alert.label("severity") == "critical"
    state, tr = run(RULE, metric_observations(RULE, [(LABELS, 0.5)]), state, 1180.0)
    assert tr == [(AlertState.FIRING, AlertState.RESOLVED)]
    assert next(iter(state.values())).resolved_at == 1180.0


def test_pending_that_clears_never_fires():
    state, _ = run(RULE, metric_observations(RULE, [(LABELS, 0.95)]), {}, 0.0)
    state, tr = run(RULE, metric_observations(RULE, [(LABELS, 0.1)]), state, 60.0)
    assert tr == [(AlertState.PENDING, AlertState.INACTIVE)]


def test_series_that_disappears_resolves_firing_alert():
    rule = RuleSpec(name="Hot", severity="warning", for_=0.0, metric="t", op=">=", threshold=10)
    state, tr = run(rule, [Observation(LABELS, 11.0, True)], {}, 0.0)
    assert tr == [(AlertState.INACTIVE, AlertState.FIRING)]  # for: 0 fires at once
    state, tr = run(rule, [], state, 60.0)
    assert tr == [(AlertState.FIRING, AlertState.RESOLVED)]


def test_check_rule_matches_state_and_name():
    rule = RuleSpec(name="ProcDown", severity="critical", for_=0.0, check="proc-*", state="CRITICAL")
    rows = [("h1", "proc-nova-compute", State.CRITICAL, "0 processes"), ("h1", "disk", State.CRITICAL, "full"),
            ("h2", "proc-libvirtd", State.WARNING, "too many")]
    obs = check_observations(rule, rows)
    assert [(dict(o.labels)["check"], o.active) for o in obs] == [("proc-nova-compute", True), ("proc-libvirtd", False)]
    state, tr = run(rule, obs, {}, 5.0)
    assert len(state) == 1 and tr == [(AlertState.INACTIVE, AlertState.FIRING)]
