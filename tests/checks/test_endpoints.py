"""The os-endpoints judgement (pure): answers, statuses, latencies and the token issue time."""

from __future__ import annotations

from stackwatch.checks.endpoints import Catalog, EndpointsCheck, EndpointsOptions, judge
from stackwatch.checks.openstack_api import EndpointAnswer
from stackwatch.states import State


def ans(service, stype, seconds=0.01, status=200, error=None, region="RegionOne", interface="public"):
    return EndpointAnswer(service, stype, interface, region, f"http://10.0.0.1/{stype}", status, seconds, error)


CATALOG = [ans("nova", "compute"), ans("glance", "image", status=300), ans("cinderv3", "volumev3", status=404),
           ans("keystone", "identity")]
OPTS = EndpointsOptions(warning="1", critical="5", token_warning="2", token_critical="10")


def test_every_answer_below_5xx_is_ok():
    check = EndpointsCheck(OPTS)
    outcome = judge(Catalog(0.25, CATALOG), OPTS)
    assert outcome.state is State.OK
    assert check.status_line(outcome) == (
        "ENDPOINTS OK - 4 endpoints answer, token issued in 0.250s | token=0.25s;2;10;0 "
        "compute_public_RegionOne=0.01s;1;5;0 image_public_RegionOne=0.01s;1;5;0 "
        "volumev3_public_RegionOne=0.01s;1;5;0 identity_public_RegionOne=0.01s;1;5;0")


def test_slow_endpoints_and_token_by_thresholds():
    assert judge(Catalog(0.2, CATALOG + [ans("swift", "object-store", 1.5)]), OPTS).state is State.WARNING
    outcome = judge(Catalog(0.2, CATALOG + [ans("swift", "object-store", 6)]), OPTS)
    assert outcome.state is State.CRITICAL and outcome.summary.startswith("swift 200 in 6.000s (outside range 0:5)")
    assert judge(Catalog(3.0, CATALOG), OPTS).state is State.WARNING
    assert judge(Catalog(11.0, CATALOG), OPTS).state is State.CRITICAL


def test_no_answer_and_5xx_are_critical_whatever_the_latency():
    outcome = judge(Catalog(0.2, CATALOG + [ans("neutron", "network", 0.001, None, "unreachable: refused"),
                                             ans("heat", "orchestration", 0.001, 503)]), OPTS)
    assert outcome.state is State.CRITICAL
    assert "neutron (http://10.0.0.1/network) does not answer: unreachable: refused" in outcome.summary
    assert "heat (http://10.0.0.1/orchestration) answers HTTP 503" in outcome.summary


def test_service_filter_and_empty_selection():
    only = EndpointsOptions(service="compute,image")
    assert judge(Catalog(0.1, CATALOG), only).summary.startswith("2 endpoints answer")
    none = judge(Catalog(0.1, CATALOG), EndpointsOptions(service="baremetal"))
    assert none.state is State.UNKNOWN and none.summary == "no public endpoint of type baremetal in the catalog"


def test_two_endpoints_of_one_type_keep_their_perfdata():
    outcome = judge(Catalog(0.1, [ans("nova", "compute"), ans("nova2", "compute")]), OPTS)
    assert [p.label for p in outcome.perfdata] == ["token", "compute_public_RegionOne", "compute_public_RegionOne_"]
