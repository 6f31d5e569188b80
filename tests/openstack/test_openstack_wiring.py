"""The openstack: config section, serve's OpenStack jobs, the CLI commands and the /quotas page, against the fake
cloud (no lab needed)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from stackwatch.cli import cli
from stackwatch.config import ConfigError, build_config
from stackwatch.model import Kind, Sample, SeriesKey, State
from stackwatch.openstack import quotas
from stackwatch.runtime import Runtime
from stackwatch.web import create_app
from tests.openstack.conftest import fake_cloud  # noqa: F401 (fixture)

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:openstack"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack")]

HOSTS = {"hosts": [{"name": "h1", "address": "127.0.0.1", "roles": []}]}


def config(tmp_path, openstack, **extra):
    raw = {"data_dir": str(tmp_path), "inventory": HOSTS, "openstack": openstack, **extra}
    return build_config(raw, tmp_path / "config.yaml", environ={})


def test_the_section_is_read_and_checked(tmp_path):
    c = config(tmp_path, {"cloud": "prod", "timeout": "10s", "collectors": {"interval": "2m", "enabled": ["quotas"]},
                          "probes": {"project": "p", "kinds": ["image", "instance"], "image": "cirros",
                                     "reaper_max_age": "30m"}})
    oc = c.openstack
    assert oc.enabled and oc.cloud == "prod" and oc.timeout == 10 and oc.interval == 120
    assert oc.collectors == ("quotas",)
    assert oc.probes.kinds == ("image", "instance") and oc.probes.reaper_max_age == 1800
    assert build_config({"inventory": HOSTS}, tmp_path / "c.yaml", environ={}).openstack.enabled is False
    with pytest.raises(ConfigError) as err:
        config(tmp_path, {"collectors": {"enabled": ["instancez"]}, "probes": {"kinds": ["instance", "dns"]},
                          "bogus": 1})
    text = str(err.value)
    assert "openstack.collectors.enabled: unknown collector 'instancez'" in text
    assert "openstack.probes.kinds: unknown probe 'dns'" in text
    assert "openstack.probes.image: required by the instance probe" in text
    assert "openstack.bogus: unknown key" in text


def test_serve_runs_the_inventory_and_a_probe_into_the_stores(fake_cloud, tmp_path):  # noqa: F811
    c = config(tmp_path, {"timeout": "5s", "probes": {"kinds": ["image"], "image_size_mb": 1, "host": "cloud-a"}},
               collectors=[])
    rt = Runtime.build(c)
    try:
        jobs = set(rt.scheduler.stats)
        assert {"openstack:inventory", "openstack:probe-image", "openstack:probe-reaper"} <= jobs
        rt.openstack.collect(1000.0)
        assert sum(v for _i, _t, v in rt.store.metrics.latest("stackwatch_openstack_instances")) == 120
        assert rt.store.metrics.latest("stackwatch_openstack_quota_limit")
        rt.openstack._probe_job("image")(1001.0)
        (cur,) = rt.store.checks.current("cloud-a")
        assert cur.check == "probe-image" and cur.state is State.OK, cur.summary
        assert rt.store.metrics.latest("stackwatch_probe_success", {"probe": "image"})[0][2] == 1.0
        rt.openstack.reap(1002.0)
        assert rt.store.metrics.latest("stackwatch_probe_leaked_resources", {"kind": "image"})[0][2] == 0.0
    finally:
        rt.stop()


def test_quota_report_and_probe_commands(fake_cloud, tmp_path):  # noqa: F811
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps({"data_dir": str(tmp_path), "inventory": HOSTS,
                                "openstack": {"probes": {"image_size_mb": 1}}}))
    runner = CliRunner()
    table = runner.invoke(cli, ["quota-report", "--config", str(path), "--project", "project-1"])
    assert table.exit_code == 0, table.output
    assert table.output.startswith("Project project-1\n") and "compute.cores" in table.output
    rows = json.loads(runner.invoke(cli, ["quota-report", "--config", str(path), "--format", "json"]).output)
    assert {r["project"] for r in rows} == {"project-0", "project-1", "project-2"}
    csv = runner.invoke(cli, ["quota-report", "--config", str(path), "--format", "csv"]).output
    assert csv.splitlines()[0] == "project,service,resource,used,limit,percent"
    missing = runner.invoke(cli, ["quota-report", "--config", str(path), "--project", "nope"])
    assert missing.exit_code == 1 and "no project 'nope'" in missing.output

    ok = runner.invoke(cli, ["probe", "image", "--config", str(path)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("IMAGE PROBE OK - 6 steps")
    assert [line.split()[0] for line in ok.output.splitlines()[1:]] == [
        "connect", "create", "upload", "wait-active", "download-verify", "delete"]
    fake_cloud.faults["PUT /image/v2/images/.*/file"] = "500"
    bad = runner.invoke(cli, ["probe", "image", "--json", "--config", str(path)])
    assert bad.exit_code == 2
    doc = json.loads(bad.output)
    assert doc["state"] == "CRITICAL" and doc["failed_step"] == "upload"
    upload = doc["steps"][2]
    assert upload["request_id"].startswith("req-") and upload["trace"] == f"/trace/{upload['request_id']}"
    assert fake_cloud.created_images == {}
    no_image = runner.invoke(cli, ["probe", "instance", "--config", str(path)])
    assert no_image.exit_code == 1 and "openstack.probes.image" in no_image.output


XSS = "<script>alert(1)</script>"


def test_quotas_page_sorts_highlights_and_escapes(tmp_path):
    c = config(tmp_path, {})
    from stackwatch.store.sqlite import open_store

    store = open_store(tmp_path / "q.db", c.metrics)
    rows = [quotas.QuotaRow("p1", "compute", "cores", 18, 20), quotas.QuotaRow("p1", "compute", "ram", 100, 1000),
            quotas.QuotaRow(XSS, "volume", "volumes", 1, -1)]
    store.metrics.write([Sample(SeriesKey(r.name, r.labels), 1000.0, r.value, Kind.GAUGE) for r in quotas.series(rows)])
    try:
        client = create_app(c, store, clock=lambda: 1060.0).test_client()
        page = client.get("/quotas").get_data(as_text=True)
        assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        body = page[page.index("<tbody>"):]
        assert body.index("cores") < body.index("ram")          # by percent, highest first
        rows_html = {r.split("<td>")[3].split("<")[0]: r for r in body.split("<tr")[1:]}
        assert "quota-high" in rows_html["cores"] and "90%" in rows_html["cores"]
        assert "quota-high" not in rows_html["ram"] and "unlimited" in rows_html["volumes"]
        by_resource = client.get("/quotas?sort=resource&order=asc").get_data(as_text=True)
        tbody = by_resource[by_resource.index("<tbody>"):]
        assert tbody.index(">cores<") < tbody.index(">ram<") < tbody.index(">volumes<")
        only = client.get("/quotas?project=p1").get_data(as_text=True)
        assert "volumes" not in only[only.index("<tbody>"):]
        assert client.get("/quotas?sort=evil&order=sideways").status_code == 200
    finally:
        store.close()


def test_probes_page_links_the_failed_steps_request_id_to_its_trace(tmp_path):
    from stackwatch.model import CheckResult
    from stackwatch.store.sqlite import open_store

    c = config(tmp_path, {})
    store = open_store(tmp_path / "p.db", c.metrics)
    rid = "req-0b2dc194-22ab-10ad-bb30-772ebeaea2f2"
    store.checks.record(CheckResult("openstack", "probe-image", State.CRITICAL,
                                    f"step upload failed after 2.0s: image PUT /images/x/file: HTTP 503: {XSS} "
                                    f"(request {rid}, trace /trace/{rid})", 1000.0))
    store.checks.record(CheckResult("openstack", "probe-user", State.OK, "4 steps in 1.2s", 1000.0))
    store.checks.record(CheckResult("h1", "disk", State.OK, "DISK OK", 1000.0))
    store.metrics.write([Sample(SeriesKey.of("stackwatch_probe_step_seconds", {"probe": "image", "step": "create"}),
                                1000.0, 0.25, Kind.GAUGE)])
    try:
        page = create_app(c, store, clock=lambda: 1010.0).test_client().get("/probes").get_data(as_text=True)
    finally:
        store.close()
    assert f'<a class="request-id" href="/trace/{rid}">{rid}</a>' in page
    assert XSS not in page and "&lt;script&gt;" in page
    assert "probe-user" in page and ">disk<" not in page
    assert "create 0.25s" in page
