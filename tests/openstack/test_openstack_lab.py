"""Against the real OpenStack lab: every probe passes and leaves nothing; the quota report matches `openstack quota
show` / `openstack limits show`; instances per host and flavors in use match `openstack server list --all-projects
--long`; the reaper deletes an old probe leftover. One run of each probe serves all its assertions."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from click.testing import CliRunner

from stackwatch.checks.probes import core, probe_class
from stackwatch.checks.probes.service import connect_probe_api, reap_all, run_probe
from stackwatch.cli import cli
from stackwatch.collectors.openstack import OpenStackCollector
from stackwatch.openstack.config import PROBE_KINDS, OpenStackConfig
from stackwatch.openstack.source import InventorySource
from stackwatch.states import State
from tests.lab import lab_lock, openstack_lab  # noqa: F401 (fixture)
from tests.openstack.lab_support import ensure_probe_project, lab_environ, probe_config, wait_until

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:openstack"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack"),
              pytest.mark.filterwarnings("ignore::ResourceWarning")]


@pytest.fixture(scope="module")
def lab(openstack_lab):  # noqa: F811
    """The lab, held shared for this module's tests (no fault injection meanwhile), admin env set."""
    with lab_lock(exclusive=False), lab_environ(openstack_lab):
        ensure_probe_project(openstack_lab)
        yield openstack_lab


@pytest.fixture(scope="module")
def probe_runs(lab, tmp_path_factory):
    """One run of every probe kind against the lab."""
    lock_dir = tmp_path_factory.mktemp("probe-locks")
    return {kind: run_probe(kind, probe_config(), lock_dir) for kind in PROBE_KINDS}


@pytest.mark.parametrize("kind", PROBE_KINDS)
def test_every_probe_passes_step_by_step(probe_runs, kind):
    result = probe_runs[kind]
    outcome = core.evaluate(result, slow=600)
    assert outcome.state is State.OK, outcome.summary + " " + " / ".join(outcome.details)
    names = [s.name for s in result.steps]
    expected = {"image": ["connect", "create", "upload", "wait-active", "download-verify", "delete"],
                "instance": ["connect", "lookup", "boot", "wait-active", "delete", "wait-deleted"],
                "user": ["connect", "create", "authenticate", "delete"],
                "object": ["connect", "create-container", "put", "get-verify", "delete"],
                "volume": ["connect", "create", "wait-available", "delete", "wait-deleted"]}[kind]
    assert names == expected
    assert result.cleanup_errors == ()
    samples = {str(s.key): s.value for s in core.samples(result, 0.0)}
    assert samples[f'stackwatch_probe_success{{probe="{kind}"}}'] == 1.0
    assert all(f'stackwatch_probe_step_seconds{{probe="{kind}",step="{n}"}}' in samples for n in names)


def test_no_probe_resource_remains(lab, probe_runs):
    api = connect_probe_api(probe_config())
    for kind, result in probe_runs.items():
        names = [name for _id, name in probe_class(kind)(api, probe_config().probes).list_resources()]
        assert core.resource_name(kind, result.run_id) not in names, f"{kind} probe left {names}"


def test_the_reaper_deletes_an_old_probe_leftover_and_counts_it(lab, tmp_path):
    api = connect_probe_api(probe_config())
    name = core.resource_name("image", core.run_id(time.time() - 7200, "0ld0"))
    created = api.decode("image", "POST /images", api.request("image", "POST", "/images", json={
        "name": name, "disk_format": "raw", "container_format": "bare", "tags": ["stackwatch-probe"]}))
    found = reap_all(probe_config(), tmp_path, time.time(), kinds=("image",))
    assert found["image"][0] >= 1 and found["image"][1] == []
    left = [rid for rid, _name in probe_class("image")(api, probe_config().probes).list_resources()]
    assert created["id"] not in left


QUOTA_LIMITS = {("compute", "instances"): "instances", ("compute", "cores"): "cores", ("compute", "ram"): "ram",
                ("volume", "volumes"): "volumes", ("volume", "gigabytes"): "gigabytes",
                ("volume", "snapshots"): "snapshots", ("network", "network"): "networks",
                ("network", "subnet"): "subnets", ("network", "port"): "ports"}
QUOTA_USED = {("compute", "instances"): "totalInstancesUsed", ("compute", "cores"): "totalCoresUsed",
              ("compute", "ram"): "totalRAMUsed", ("volume", "volumes"): "totalVolumesUsed",
              ("volume", "gigabytes"): "totalGigabytesUsed", ("volume", "snapshots"): "totalSnapshotsUsed"}


@pytest.mark.parametrize("project", ["admin", "demo"])
def test_quota_report_matches_openstack_quota_show_and_limits_show(lab, project, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("inventory: {hosts: [{name: localhost, address: 127.0.0.1, roles: []}]}\nopenstack: {}\n")

    def usage():
        return {d["Name"]: d["Value"] for d in lab.openstack("limits", "show", "--absolute", "--project", project,
                                                              as_json=True)}

    for _attempt in range(3):  # other sessions may boot or delete in the project meanwhile: a quiet moment
        before = usage()
        out = CliRunner().invoke(cli, ["quota-report", "--config", str(config), "--project", project,
                                       "--format", "json"])
        limits = usage()
        if before == limits:
            break
    assert out.exit_code == 0, out.output
    ours = {(r["service"], r["resource"]): r for r in json.loads(out.output)}
    assert {r["project"] for r in ours.values()} == {project}
    shown = lab.openstack("quota", "show", project, as_json=True)
    for key, cli_name in QUOTA_LIMITS.items():
        assert ours[key]["limit"] == shown[cli_name], (key, ours[key], shown[cli_name])
    for key, cli_name in QUOTA_USED.items():
        assert ours[key]["used"] == limits[cli_name], (key, ours[key], limits[cli_name])
    table = CliRunner().invoke(cli, ["quota-report", "--config", str(config), "--project", project])
    assert table.exit_code == 0 and f"Project {project}" in table.output and "| Resource" in table.output


@pytest.fixture(scope="module")
def servers(lab):
    """Three servers in the admin project (two m1.tiny, one m1.small), deleted afterwards."""
    tag = f"sw-inv-{int(time.time())}"
    try:
        lab.openstack("--os-compute-api-version", "2.37", "server", "create", "--flavor", "m1.tiny", "--image",
                      "cirros-lab", "--nic", "none", "--min", "2", "--max", "2", f"{tag}-tiny")
        lab.openstack("--os-compute-api-version", "2.37", "server", "create", "--flavor", "m1.small", "--image",
                      "cirros-lab", "--nic", "none", f"{tag}-small")
        wait_until("three ACTIVE servers", lambda: [s["Status"] for s in lab.openstack(
            "server", "list", "--name", tag, as_json=True)] == ["ACTIVE"] * 3, 120, 2)
        yield tag
    finally:
        ids = [s["ID"] for s in lab.openstack("server", "list", "--all-projects", "--name", tag, as_json=True)]
        if ids:
            lab.openstack("server", "delete", *ids, check=False)


def test_instances_per_host_and_flavors_match_server_list(lab, servers):
    source = InventorySource(OpenStackConfig(enabled=True))
    collector = OpenStackCollector(source, "instances")
    try:
        for _attempt in range(3):  # other sessions may boot or delete meanwhile: compare a quiet moment
            # --limit -1: the CLI otherwise lists nova's first page only (max_limit, 1,000 servers)
            before = lab.openstack("server", "list", "--all-projects", "--long", "--limit", "-1", as_json=True)
            samples = collector.collect(time.time())
            after = lab.openstack("server", "list", "--all-projects", "--long", "--limit", "-1", as_json=True)
            if sorted(s["ID"] for s in before) == sorted(s["ID"] for s in after):
                break
    finally:
        source.close()
    assert collector.last_error is None
    per_host, per_flavor, per_status = Counter(), Counter(), Counter()
    for s in samples:
        if s.key.name == "stackwatch_openstack_instances":
            per_host[s.key.label("host")] += s.value
            per_flavor[s.key.label("flavor")] += s.value
            per_status[s.key.label("state")] += s.value
    assert per_host == Counter(s["Host"] or "" for s in after)
    assert per_flavor == Counter(s["Flavor Name"] for s in after)
    assert per_status == Counter(s["Status"] for s in after)
    assert per_flavor["m1.small"] >= 1 and per_flavor["m1.tiny"] >= 2
