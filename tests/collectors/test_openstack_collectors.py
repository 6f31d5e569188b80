"""The OpenStack collectors against a local fake cloud replaying the lab's answers: counts, changes-since
polling, cached results between polls, and bad answers (500, garbage, a hang, expired credentials) counted as
errors without losing the other parts."""

from __future__ import annotations

import pytest

from stackwatch.collectors.openstack import InventoryCycle, OpenStackCollector
from stackwatch.openstack.config import COLLECTOR_NAMES, OpenStackConfig
from stackwatch.openstack.source import InventorySource
from tests.openstack.conftest import fake_cloud  # noqa: F401 (fixture)

# openstacksdk warns about its own future (influxdb support) on every connection
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:openstack"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack")]


def values(samples, name):
    return {s.key.labels: s.value for s in samples if s.key.name == name}


@pytest.fixture
def source(fake_cloud):  # noqa: F811
    src = InventorySource(OpenStackConfig(enabled=True, timeout=3, page_size=50))
    yield src
    src.close()


def test_a_full_cycle_reads_every_part(fake_cloud, source):  # noqa: F811
    cycle = InventoryCycle(source, COLLECTOR_NAMES)
    samples = cycle.collect(1000.0)
    cycle.close()
    up = values(samples, "stackwatch_collector_up")
    assert set(up.values()) == {1.0}, [c.last_error for c in cycle.collectors]
    instances = values(samples, "stackwatch_openstack_instances")
    assert sum(instances.values()) == 120
    per_host = {}
    for labels, n in instances.items():
        per_host[dict(labels)["host"]] = per_host.get(dict(labels)["host"], 0) + n
    assert per_host == {"compute-000": 40, "compute-001": 40, "compute-002": 40}
    errors = {dict(l)["state"] for l in instances}
    assert errors == {"ACTIVE", "ERROR"}
    assert values(samples, "stackwatch_openstack_hypervisor_vcpus") == {(("hypervisor", f"compute-00{i}"),): 1000
                                                                        for i in range(3)}
    assert values(samples, "stackwatch_openstack_floating_ips") == {
        (("network", "public"), ("status", "used")): 1, (("network", "public"), ("status", "free")): 1}
    assert set(values(samples, "stackwatch_openstack_collector_duration_seconds")) == {
        (("collector", p),) for p in COLLECTOR_NAMES}
    quota_projects = {dict(l)["project"] for l in values(samples, "stackwatch_openstack_quota_limit")}
    assert quota_projects == {"project-0", "project-1", "project-2"}
    # 120 servers in pages of 50: three GETs
    assert sum(1 for m, p in fake_cloud.requests if p.endswith("/servers/detail")) == 3


def test_servers_are_polled_with_changes_since_after_the_first_full_list(fake_cloud, source):  # noqa: F811
    collector = OpenStackCollector(source, "instances")
    collector.collect(1.0)
    fake_cloud.servers[0].update({"status": "DELETED", "updated": "2026-11-25T12:00:00Z"})
    fake_cloud.servers[1].update({"OS-EXT-SRV-ATTR:host": "compute-009", "updated": "2026-11-25T12:00:01Z"})
    samples = collector.collect(2.0)
    instances = values(samples, "stackwatch_openstack_instances")
    assert sum(instances.values()) == 119
    assert any(dict(l)["host"] == "compute-009" for l in instances)
    assert source.servers.marker == "2026-11-25T12:00:01Z"


def test_cached_rows_are_served_between_polls(fake_cloud, source):  # noqa: F811
    collector = OpenStackCollector(source, "compute_services", min_age=60)
    first = collector.collect(100.0)
    calls = len(fake_cloud.requests)
    again = collector.collect(130.0)
    assert len(fake_cloud.requests) == calls
    assert values(again, "stackwatch_openstack_compute_services") == values(first, "stackwatch_openstack_compute_services")
    assert all(s.timestamp == 130.0 for s in again)
    collector.collect(170.0)
    assert len(fake_cloud.requests) > calls


@pytest.mark.parametrize("fault", ["500", "garbage", "hang"])
def test_a_bad_answer_is_an_error_of_that_part_only(fake_cloud, source, fault):  # noqa: F811
    fake_cloud.hang_seconds = 6
    source.config = OpenStackConfig(enabled=True, timeout=1)
    source.api().timeout = 1
    fake_cloud.faults["/servers/detail"] = fault
    cycle = InventoryCycle(source, ("instances", "images"))
    samples = cycle.collect(5.0)
    cycle.close()
    up = {dict(l)["collector"]: v for l, v in values(samples, "stackwatch_collector_up").items()}
    assert up == {"openstack_instances": 0.0, "openstack_images": 1.0}
    assert values(samples, "stackwatch_openstack_collector_errors_total")[(("collector", "instances"),)] == 1
    error = cycle.collectors[0].last_error
    expected = {"500": "HTTP 500: Unexpected API Error", "garbage": "answer is not JSON", "hang": "no answer"}[fault]
    assert expected in error and "GET /servers/detail" in error


def test_expired_credentials_are_an_error_not_a_crash(fake_cloud):  # noqa: F811
    clock = [100.0]
    source = InventorySource(OpenStackConfig(enabled=True, timeout=3), clock=lambda: clock[0])
    fake_cloud.expired = True
    collector = OpenStackCollector(source, "compute_services")
    samples = collector.collect(1.0)
    assert values(samples, "stackwatch_collector_up") == {(("collector", "openstack_compute_services"),): 0.0}
    assert "expired" in collector.last_error
    fake_cloud.expired = False
    clock[0] += 60  # the next poll, a minute later, authenticates again
    assert values(collector.collect(2.0), "stackwatch_collector_up") == {
        (("collector", "openstack_compute_services"),): 1.0}
    source.close()


def test_a_cloud_without_cinder_has_quotas_of_the_others_and_a_clear_volume_error(fake_cloud, source):  # noqa: F811
    fake_cloud.catalog_without.add("volumev3")
    source.forget_connection()
    quota = OpenStackCollector(source, "quotas").collect(1.0)
    services = {dict(l)["service"] for l in values(quota, "stackwatch_openstack_quota_limit")}
    assert services == {"compute", "network"}
    volumes = OpenStackCollector(source, "volumes")
    volumes.collect(1.0)
    assert "volume GET /volumes/detail: no endpoint" in volumes.last_error


def test_a_list_the_cloud_does_not_offer_is_no_rows_and_no_error(fake_cloud, source):  # noqa: F811
    fake_cloud.faults["GET /network/v2.0/agents"] = "404"   # neutron without the agent extension
    collector = OpenStackCollector(source, "network_agents")
    samples = collector.collect(1.0)
    assert collector.last_error is None
    assert values(samples, "stackwatch_openstack_network_agents") == {}


def test_one_cycle_tries_a_failing_keystone_once(fake_cloud, source):  # noqa: F811
    fake_cloud.expired = True
    cycle = InventoryCycle(source, COLLECTOR_NAMES)
    samples = cycle.collect(1.0)
    cycle.close()
    assert set(values(samples, "stackwatch_collector_up").values()) == {0.0}
    assert sum(1 for m, p in fake_cloud.requests if p.endswith("/auth/tokens")) == 1
