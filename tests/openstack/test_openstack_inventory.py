"""The pure inventory and quota core: API items in, rows out (no network)."""

from __future__ import annotations

import json

from stackwatch.openstack import inventory, quotas
from tests.openstack.fake_cloud import ANSWERS


def server(sid, host="c1", status="ACTIVE", flavor="m1.tiny", project="p1", updated="2026-11-25T10:00:00Z"):
    return {"id": sid, "status": status, "OS-EXT-SRV-ATTR:host": host, "flavor": {"original_name": flavor},
            "tenant_id": project, "updated": updated}


def rows_dict(rows):
    return {(r.name, r.labels): r.value for r in rows}


def test_instances_are_counted_per_host_state_flavor_and_project():
    cache = inventory.ServerCache()
    cache.replace([server("a"), server("b"), server("c", host="c2"), server("d", flavor="m1.small", status="ERROR")])
    got = rows_dict(cache.rows())
    key = lambda **l: ("stackwatch_openstack_instances", tuple(sorted(l.items())))
    assert got == {key(host="c1", state="ACTIVE", flavor="m1.tiny", project="p1"): 2,
                   key(host="c2", state="ACTIVE", flavor="m1.tiny", project="p1"): 1,
                   key(host="c1", state="ERROR", flavor="m1.small", project="p1"): 1}


def test_changes_since_updates_the_cache_and_drops_deleted_servers():
    cache = inventory.ServerCache()
    cache.replace([server("a", updated="2026-11-25T10:00:00Z"), server("b", updated="2026-11-25T11:00:00Z")])
    assert cache.marker == "2026-11-25T11:00:00Z"
    cache.update([server("a", status="DELETED", updated="2026-11-25T12:00:00Z"),
                  server("c", host="c9", updated="2026-11-25T12:30:00Z")])
    assert set(cache.servers) == {"b", "c"}
    assert cache.servers["c"].host == "c9"
    assert cache.marker == "2026-11-25T12:30:00Z"


def test_a_server_without_an_embedded_flavor_uses_the_flavor_names():
    view = inventory.server_view({"id": "x", "flavor": {"id": "2"}, "status": "active"}, {"2": "m1.small"})
    assert view.flavor == "m1.small" and view.state == "ACTIVE"


def test_hypervisors_and_allocation_ratios_from_the_lab_answers():
    got = rows_dict(inventory.hypervisors(ANSWERS["hypervisors"]["hypervisors"],
                                          {"vm": ANSWERS["inventories"]["inventories"]}))
    assert got[("stackwatch_openstack_hypervisor_vcpus", (("hypervisor", "vm"),))] == 1000
    assert got[("stackwatch_openstack_hypervisor_disk_gb", (("hypervisor", "vm"),))] == 600000
    assert got[("stackwatch_openstack_allocation_ratio", (("hypervisor", "vm"), ("resource", "vcpus")))] == 16.0
    assert got[("stackwatch_openstack_allocation_ratio", (("hypervisor", "vm"), ("resource", "memory_mb")))] == 1.5


def test_images_count_bytes_and_snapshots():
    items = [{"status": "active", "visibility": "public", "size": 10},
             {"status": "active", "visibility": "public", "size": 5, "image_type": "snapshot"},
             {"status": "queued", "visibility": "private", "size": None}]
    got = rows_dict(inventory.images(items))
    assert got[("stackwatch_openstack_images", (("status", "active"), ("visibility", "public")))] == 2
    assert got[("stackwatch_openstack_image_bytes", (("status", "active"), ("visibility", "public")))] == 15
    assert got[("stackwatch_openstack_images", (("status", "queued"), ("visibility", "private")))] == 1
    assert got[("stackwatch_openstack_snapshots", ())] == 1


def test_floating_ips_used_and_free_per_network():
    got = rows_dict(inventory.floating_ips([{"floating_network_id": "n1", "port_id": "p"},
                                            {"floating_network_id": "n1", "port_id": None},
                                            {"floating_network_id": "n1", "port_id": None}], {"n1": "public"}))
    assert got == {("stackwatch_openstack_floating_ips", (("network", "public"), ("status", "used"))): 1,
                   ("stackwatch_openstack_floating_ips", (("network", "public"), ("status", "free"))): 2}


def test_volumes_and_agents():
    got = rows_dict(inventory.volumes([{"status": "available", "size": 2, "os-vol-tenant-attr:tenant_id": "p"},
                                       {"status": "available", "size": 3, "os-vol-tenant-attr:tenant_id": "p"}]))
    assert got[("stackwatch_openstack_volume_gb", (("project", "p"), ("status", "available")))] == 5
    agents = rows_dict(inventory.network_agents([{"host": "n1", "agent_type": "DHCP agent", "alive": False,
                                                  "admin_state_up": True}]))
    assert list(agents) == [("stackwatch_openstack_network_agents", (("admin_state", "up"), ("alive", "false"),
                                                                    ("host", "n1"), ("type", "DHCP agent")))]


def test_quota_rows_from_the_three_services_lab_answers():
    rows = (quotas.parse("admin", "compute", ANSWERS["compute_quota"])
            + quotas.parse("admin", "volume", ANSWERS["volume_quota"])
            + quotas.parse("admin", "network", ANSWERS["network_quota"]))
    by = {(q.service, q.resource): q for q in rows}
    assert by[("compute", "cores")].limit == 20
    assert by[("volume", "gigabytes")].limit == 1000
    assert by[("network", "port")].limit == 500
    assert by[("network", "subnetpool")].percent is None  # unlimited


def test_percent_high_and_renderings():
    rows = [quotas.QuotaRow("p1", "compute", "cores", 17, 20), quotas.QuotaRow("p1", "compute", "ram", 0, -1),
            quotas.QuotaRow("p2", "volume", "volumes", 1, 0)]
    assert rows[0].percent == 85 and rows[0].high
    assert rows[2].percent == 100.0
    table = quotas.table(rows)
    cores = next(line for line in table.splitlines() if line.startswith("| compute.cores"))
    assert cores.split("|")[1:5] == [" compute.cores ", "   17 ", "        20 ", " 85% "] and cores.endswith(" !")
    assert not next(line for line in table.splitlines() if line.startswith("| compute.ram")).endswith("!")
    assert "unlimited" in table and "Project p2" in table
    assert quotas.to_csv(rows).splitlines()[1] == "p1,compute,cores,17,20,85.0"
    assert json.loads(quotas.to_json(rows))[1] == {"project": "p1", "service": "compute", "resource": "ram",
                                                   "used": 0, "limit": -1, "percent": None}
    series = rows_dict(quotas.series(rows[:2]))
    labels = (("project", "p1"), ("resource", "cores"), ("service", "compute"))
    assert series[("stackwatch_openstack_quota_percent", labels)] == 85
    assert ("stackwatch_openstack_quota_percent", (("project", "p1"), ("resource", "ram"), ("service", "compute"))) \
        not in series
