from stackwatch.alerting.logwatch import LogMatch, LogWatch
from stackwatch.alerting.model import AlertState
from stackwatch.alerting.service import AlertService
from stackwatch.config import AlertingConfig, RuleSpec
from stackwatch.rsyslog.parse import parse_lines

AMQP = RuleSpec(name="AmqpUnreachable", severity="critical", for_=0.0,
                log=LogMatch(pattern=r"AMQP server .* is unreachable"), window=300.0, min_count=1)
BURST = RuleSpec(name="ErrorBurst", severity="warning", for_=0.0,
                 log=LogMatch(levels=("ERROR",), group_by=("host",)), window=60.0, min_count=3)

LINES = [
    "2026-11-25 10:00:00.000 11 ERROR oslo.messaging._drivers.impl_rabbit [-] AMQP server on 10.0.0.5:5672 is "
    "unreachable: [Errno 111] ECONNREFUSED. Trying again in 1 seconds.",
    "2026-11-25 10:00:01.000 11 ERROR nova.compute.manager [-] error two",
    "2026-11-25 10:00:02.000 11 INFO nova.compute.manager [-] fine",
]


def records(lines, host="cmp1"):
    return list(parse_lines(lines, syslog=False, source="/var/log/nova/nova-compute.log", host=host))


def test_pattern_and_burst_counts_in_window():
    watch = LogWatch([AMQP, BURST])
    for r in records(LINES):
        watch.observe(r, received_at=0.0)
    t0 = records(LINES[:1])[0].timestamp
    (amqp,) = watch.observations(AMQP, now=t0 + 10)
    assert amqp.active and dict(amqp.labels) == {"host": "cmp1", "service": "nova"} and "unreachable" in amqp.description
    (burst,) = watch.observations(BURST, now=t0 + 10)
    assert burst.value == 2.0 and not burst.active  # two ERRORs, the rule wants three
    (later,) = watch.observations(AMQP, now=t0 + 400)
    assert later.value == 0 and not later.active  # out of the window: reported inactive once
    assert watch.observations(AMQP, now=t0 + 401) == []  # then forgotten


def test_log_rule_fires_and_resolves_through_the_alert_service(store):
    watch = LogWatch([AMQP])
    service = AlertService(AlertingConfig(rules=(AMQP,)), store, watch)
    (r,) = records(LINES[:1])
    watch.observe(r, received_at=r.timestamp)
    (fired,) = service.evaluate_once(now=r.timestamp + 5)
    assert fired.alert.state is AlertState.FIRING and fired.alert.label("alertname") == "AmqpUnreachable"
    (resolved,) = service.evaluate_once(now=r.timestamp + 600)
    assert resolved.alert.state is AlertState.RESOLVED
