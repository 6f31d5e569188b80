"""Route tree, grouping, inhibition, silences, maintenance and periods: pure, with `now` passed in."""

from __future__ import annotations

import datetime as dt

import pytest

from stackwatch.alerting.config import build_alerting
from stackwatch.alerting.inhibit import InhibitRule, Inhibitor
from stackwatch.alerting.matchers import parse_matchers
from stackwatch.alerting.periods import Period, parse_times, parse_weekdays
from stackwatch.alerting.routing import group_key, group_labels, match_routes
from stackwatch.alerting.silence import Ack, Maintenance, Silence, mute_reason
from stackwatch.config_reader import Reader

RECEIVERS = [{"name": n, "type": "webhook", "url": f"http://127.0.0.1:9/{n}"} for n in ("ops", "pager", "db", "lead")]


def alerting(**section):
    r = Reader({})
    cfg = build_alerting(r, {"receivers": RECEIVERS, **section})
    return cfg, r.problems


TREE = {
    "receiver": "ops", "group_by": ["alertname"], "group_wait": "10s",
    "routes": [
        {"matchers": ['severity="critical"'], "receiver": "pager", "continue": True, "group_by": ["alertname", "role"],
         "escalate": [{"after": "15m", "receiver": "lead"}]},
        {"matchers": ['service=~"mysql|galera"'], "receiver": "db",
         "routes": [{"matchers": ['severity!~"info"'], "receiver": "pager"}]},
        {"matchers": ['role="compute"'], "receiver": "ops", "group_by": ["..."]},
    ],
}


@pytest.mark.parametrize("labels, receivers", [
    ({"alertname": "A", "severity": "critical", "role": "compute"}, ["pager", "ops"]),   # continue, then compute
    ({"alertname": "A", "severity": "warning", "service": "mysql"}, ["pager"]),         # deepest match wins
    ({"alertname": "A", "severity": "info", "service": "galera"}, ["db"]),              # no child: the node
    ({"alertname": "A", "severity": "warning"}, ["ops"]),                               # the root
])
def test_route_table(labels, receivers):
    cfg, problems = alerting(route=TREE)
    assert problems == []
    assert [r.receiver for r in match_routes(cfg.route, labels)] == receivers


def test_children_inherit_and_group_keys_are_stable():
    cfg, _ = alerting(route=TREE)
    crit = cfg.route.routes[0]
    assert crit.group_wait == 10.0 and crit.repeat_interval == 4 * 3600.0      # inherited / default
    assert crit.escalate[0].receiver == "lead" and crit.escalate[0].after == 900.0
    labels = {"alertname": "HostDown", "role": "compute", "host": "c1"}
    grouped = group_labels(crit, labels)
    assert grouped == (("alertname", "HostDown"), ("role", "compute"))
    assert group_key(crit, grouped) == '0.0:{alertname="HostDown", role="compute"}'
    every = cfg.route.routes[2]
    assert group_labels(every, labels) == tuple(sorted(labels.items()))       # group_by: [...]


def test_config_problems_have_paths():
    _, problems = alerting(route={"receiver": "nobody", "group_by": ["...", "x"], "period": "office",
                                  "routes": [{"matchers": ['severity=~"(bad"'], "receiver": "ops"}]},
                           inhibit_rules=[{"source_matchers": ["oops"], "target_matchers": ['a="b"']}],
                           periods={"night": {"timezone": "Mars/Olympus"}},
                           contact_groups={"admins": {"receivers": ["ops", "ghost"]}})
    text = "\n".join(problems)
    assert "alerting.route.receiver: unknown receiver or contact group 'nobody'" in text
    assert "alerting.route.group_by: '...' groups by all labels" in text
    assert "alerting.route.period: unknown period 'office'" in text
    assert "alerting.route.routes[0].matchers: bad regular expression" in text
    assert "alerting.inhibit_rules[0].source_matchers: cannot parse matcher 'oops'" in text
    assert "alerting.periods.night: unknown timezone 'Mars/Olympus'" in text
    assert "alerting.contact_groups.admins.receivers: unknown receiver 'ghost'" in text


def test_inhibition_host_down_mutes_its_services_and_region_down_its_hosts():
    rules = [InhibitRule(parse_matchers(['alertname="HostDown"']), parse_matchers(['alertname!="HostDown"']), ("host",)),
             InhibitRule(parse_matchers(['alertname="RegionDown"']), parse_matchers(['alertname="HostDown"']), ("region",))]
    firing = [("hd1", {"alertname": "HostDown", "host": "c1", "region": "r1"}),
              ("rd", {"alertname": "RegionDown", "region": "r2"})]
    inh = Inhibitor(rules, firing)
    assert inh.inhibited_by("svc", {"alertname": "ProcessDown", "host": "c1"}) == "hd1"
    assert inh.inhibited_by("svc2", {"alertname": "ProcessDown", "host": "c2"}) is None
    assert inh.inhibited_by("hd2", {"alertname": "HostDown", "host": "c9", "region": "r2"}) == "rd"
    assert inh.inhibited_by("hd1", {"alertname": "HostDown", "host": "c1", "region": "r1"}) is None


def test_silences_maintenance_and_acks_with_now():
    s = Silence("s1", parse_matchers(['host="c1"']), 100.0, 200.0, "ann", "reboot")
    w = Maintenance("m1", (), ("compute",), 150.0, 300.0, "alice", "upgrade")
    roles = {"c1": ("compute",), "n1": ("network",)}
    assert mute_reason({"host": "c1"}, 120.0, [s], [w], roles) == "silenced:s1"
    assert mute_reason({"host": "c1"}, 160.0, [s], [w], roles) == "maintenance:m1"   # maintenance wins the mark
    assert mute_reason({"host": "n1"}, 160.0, [s], [w], roles) == ""
    assert mute_reason({"host": "c1"}, 300.0, [s], [w], roles) == ""                  # both over
    ack = Ack("fp", "bob", "", created_at=500.0, expires_at=900.0)
    assert ack.active(600.0, fired_at=400.0, still_firing=True)
    assert not ack.active(950.0, fired_at=400.0, still_firing=True)                   # expired
    assert not ack.active(600.0, fired_at=550.0, still_firing=True)                   # a new episode
    assert not ack.active(600.0, fired_at=400.0, still_firing=False)


def test_business_hours_in_a_timezone():
    p = Period("business-hours", "Europe/Paris", parse_weekdays(["mon-fri"]), parse_times(["09:00-17:00"]))
    paris = dt.timezone(dt.timedelta(hours=1))  # November: CET
    at = lambda *a: dt.datetime(*a, tzinfo=paris).timestamp()  # noqa: E731
    assert p.contains(at(2026, 11, 25, 9, 0))          # Wednesday 09:00 Paris
    assert not p.contains(at(2026, 11, 25, 8, 59))
    assert not p.contains(at(2026, 11, 25, 17, 0))
    assert not p.contains(at(2026, 11, 28, 12, 0))     # Saturday
    assert parse_weekdays(["fri-mon"]) == {4, 5, 6, 0}
    with pytest.raises(ValueError):
        parse_times(["17:00-09:00"])
