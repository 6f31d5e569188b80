"""The heartbeat checks' judgement (pure): nova/cinder services and neutron agents down or disabled."""

from __future__ import annotations

import pytest

from stackwatch.checks.heartbeat import ComputeServicesCheck, HeartbeatOptions, NetworkAgentsCheck, judge
from stackwatch.checks.openstack_api import ServiceRow
from stackwatch.states import State


def svc(binary="nova-compute", host="c1", up=True, enabled=True, forced_down=False, reason=None,
        updated="2026-11-25T19:25:38.000000"):
    return ServiceRow(binary, host, up, enabled, forced_down, reason, updated)


CLOUD = [svc("nova-scheduler", "ctl"), svc("nova-conductor", "ctl"), svc(host="c1"), svc(host="c2"), svc(host="c3")]


@pytest.mark.parametrize("rows, options, state", [
    (CLOUD, HeartbeatOptions(), State.OK),
    (CLOUD[:2] + [svc(host="c1", up=False)] + CLOUD[3:], HeartbeatOptions(), State.CRITICAL),   # the guide's XXX
    (CLOUD[:2] + [svc(host="c1", up=False)] + CLOUD[3:], HeartbeatOptions(warning="0", critical="1"), State.WARNING),
    (CLOUD[:2] + [svc(host="c1", up=False), svc(host="c2", up=False)], HeartbeatOptions(warning="0", critical="1"),
     State.CRITICAL),
    (CLOUD[:2] + [svc(host="c1", forced_down=True)], HeartbeatOptions(), State.CRITICAL),       # forced down is down
    (CLOUD + [svc(host="c4", enabled=False, reason="maintenance")], HeartbeatOptions(), State.OK),  # only reported
    (CLOUD + [svc(host="c4", enabled=False)], HeartbeatOptions(disabled_warning="0"), State.WARNING),
    (CLOUD + [svc(host="c4", up=False, enabled=False)], HeartbeatOptions(), State.OK),          # down, but disabled
    ([], HeartbeatOptions(), State.OK),                                                          # a fact, not an error
])
def test_states(rows, options, state):
    assert judge(rows, options).state is state


def test_status_line_names_the_services_down_and_disabled():
    rows = CLOUD[:2] + [svc(host="c1", up=False), svc(host="c2", enabled=False, reason="disk swap"), svc(host="c3")]
    check = ComputeServicesCheck(HeartbeatOptions())
    line = check.status_line(judge(rows, check.options))
    assert line == ("NOVA SERVICES CRITICAL - 3 of 5 services up; 1 down: nova-compute@c1 (last heartbeat "
                    "2026-11-25T19:25:38.000000); 1 disabled: nova-compute@c2 (disk swap)"
                    " | down=1;;0;0;5 disabled=1;;;0;5 total=5;;;0")


def test_filters_by_binary_and_host():
    rows = CLOUD[:2] + [svc(host="c1", up=False), svc("nova-scheduler", "ctl2", up=False)]
    typo = judge(rows, HeartbeatOptions(binary="nova-compte"))
    assert typo.state is State.UNKNOWN and typo.summary == "none of the 4 services matches --binary nova-compte"
    assert judge(rows, HeartbeatOptions(binary="nova-compute", host="c2,c3")).state is State.UNKNOWN
    outcome = judge(rows, HeartbeatOptions(binary="nova-scheduler,nova-conductor"))
    assert outcome.state is State.CRITICAL and "nova-scheduler@ctl2" in outcome.summary
    assert "nova-compute" not in outcome.summary


def test_no_agents_is_reported_as_a_fact():
    check = NetworkAgentsCheck(HeartbeatOptions())
    assert check.status_line(judge([], check.options, "agent")) == (
        "NEUTRON AGENTS OK - 0 agents | down=0;;0;0;0 disabled=0;;;0;0 total=0;;;0")
