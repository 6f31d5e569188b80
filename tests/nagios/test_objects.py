"""`stackwatch nagios-config`: the object files, and Debian's nagios4 -v accepting them for the issue's
inventory (1 controller, 3 compute, 1 block-storage, 1 object-storage), active and passive, alone and
beside Debian's stock definitions (define_common: false)."""

from __future__ import annotations

import re

import pytest

from stackwatch.nagios import objects
from stackwatch.nagios.plan import PlanError, host_services

from .daemons import CLOUD_HOSTS, NAGIOS_SECTION, cloud_config, nagios_main_cfg, nagios_verify


def blocks(text: str, kind: str) -> list[dict[str, str]]:
    """Each `define KIND { ... }` as a dict of its directives."""
    out = []
    for body in re.findall(r"define %s \{\n(.*?)\n\}" % kind, text, re.S):
        out.append(dict(line.strip().split(None, 1) for line in body.splitlines() if line.strip()))
    return out


def test_hosts_and_groups_per_role(cloud):
    files = objects.render(cloud)
    assert list(files) == list(objects.FILES)
    hosts = blocks(files["hosts.cfg"], "host")
    assert [(h["host_name"], h["address"]) for h in hosts] == [(h["name"], h["address"]) for h in CLOUD_HOSTS]
    groups = {g["hostgroup_name"]: g["members"] for g in blocks(files["hosts.cfg"], "hostgroup")}
    assert groups == {"block-storage": "block-1", "compute": "compute-1,compute-2,compute-3",
                      "controller": "controller-1", "object-storage": "object-1"}


def test_services_through_check_nrpe_with_dependencies(cloud):
    files = objects.render(cloud)
    services = blocks(files["services.cfg"], "service")
    compute = [s for s in services if s["host_name"] == "compute-1"]
    expected = host_services(cloud, cloud.inventory.host("compute-1"))
    assert [s["service_description"] for s in compute] == ["nrpe"] + [e.service for e in expected]
    assert compute[0]["check_command"] == "stackwatch-nrpe-alive"
    assert [s["check_command"] for s in compute[1:]] == [f"check_nrpe!{e.command}" for e in expected]
    assert {s["check_interval"] for s in compute if s["service_description"] == "load"} == {"0.5"}
    total = sum(len(host_services(cloud, cloud.inventory.host(h["name"]))) + 1 for h in CLOUD_HOSTS)
    assert len(services) == total
    deps = blocks(files["services.cfg"], "servicedependency")
    assert len(deps) == len(CLOUD_HOSTS)
    dep = next(d for d in deps if d["host_name"] == "compute-1")
    assert (dep["service_description"], dep["dependent_host_name"]) == ("nrpe", "compute-1")
    assert dep["dependent_service_description"].split(",") == [e.service for e in expected]
    assert "check_nrpe -H $HOSTADDRESS$ -p 5666 -t 30 -c $ARG1$" in files["commands.cfg"]


def test_contacts_periods_templates(cloud):
    files = objects.render(cloud)
    contacts = {c["contact_name"]: c for c in blocks(files["contacts.cfg"], "contact")}
    assert contacts["ops"]["email"] == "ops@example.org"
    assert contacts["oncall"]["service_notification_period"] == "workhours"
    assert contacts["oncall"]["pager"] == "555-0100"
    assert blocks(files["contacts.cfg"], "contactgroup") == [
        {"contactgroup_name": "cloud-ops", "alias": "Cloud operations", "members": "ops,oncall"}]
    periods = {p["timeperiod_name"]: p for p in blocks(files["timeperiods.cfg"], "timeperiod")}
    assert set(periods) == {"24x7", "workhours", "nights"}
    assert periods["workhours"]["friday"] == "09:00-17:00" and "saturday" not in periods["workhours"]
    assert periods["nights"]["monday"] == "00:00-07:00,19:00-24:00"
    host_tpl, = blocks(files["templates.cfg"], "host")
    assert (host_tpl["check_command"], host_tpl["contact_groups"], host_tpl["register"]) == (
        "check-host-alive", "cloud-ops", "0")


def test_passive_services(tmp_path):
    cfg = cloud_config(tmp_path, nagios={**NAGIOS_SECTION, "passive": {"command_file": "/x/nagios.cmd"}})
    files = objects.render(cfg, passive=True)
    service_tpl, = blocks(files["templates.cfg"], "service")
    assert (service_tpl["active_checks_enabled"], service_tpl["passive_checks_enabled"],
            service_tpl["check_freshness"]) == ("0", "1", "1")
    services = blocks(files["services.cfg"], "service")
    assert "nrpe" not in {s["service_description"] for s in services}
    disk = next(s for s in services if s["service_description"] == "disk-root")
    assert (disk["check_command"], disk["freshness_threshold"]) == ("stackwatch-stale", "180")
    assert not blocks(files["services.cfg"], "servicedependency")


def test_refuses_bad_names(tmp_path):
    cfg = cloud_config(tmp_path, hosts=[{"name": "bad;host", "address": "10.0.0.1", "roles": ["compute"]}])
    with pytest.raises(PlanError, match="host 'bad;host' cannot be a Nagios name"):
        objects.render(cfg)


def verify(tmp_path, files, **main) -> str:
    objdir = tmp_path / "objects"
    objects.write(files, objdir)
    result = nagios_verify(nagios_main_cfg(tmp_path / "nagios", objdir, **main))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "Total Warnings: 0" in out and "Total Errors:   0" in out, out
    return out


def test_nagios4_accepts_the_cloud(cloud, tmp_path):
    out = verify(tmp_path, objects.render(cloud))
    services = sum(len(host_services(cloud, cloud.inventory.host(h["name"]))) + 1 for h in CLOUD_HOSTS)
    assert f"Checked {services} services." in out
    assert "Checked 6 hosts." in out and "Checked 4 host groups." in out
    assert "Checked 2 contacts." in out and "Checked 1 contact groups." in out
    assert "Checked 3 time periods." in out


def test_nagios4_accepts_passive(tmp_path):
    cfg = cloud_config(tmp_path, nagios={**NAGIOS_SECTION,
                                         "passive": {"command_file": str(tmp_path / "nagios.cmd")}})
    out = verify(tmp_path, objects.render(cfg, passive=True))
    assert "Checked 6 hosts." in out and "Checked 0 service dependencies" in out


def test_nagios4_accepts_beside_debians_stock_definitions(tmp_path):
    """define_common: false for a Nagios whose nagios.cfg already loads Debian's check_nrpe,
    check-host-alive, 24x7, workhours and notify-*-by-email."""
    from pathlib import Path

    stock = ["/etc/nagios-plugins/config", "/etc/nagios4/objects/commands.cfg", "/etc/nagios4/objects/timeperiods.cfg"]
    if not all(Path(p).exists() for p in stock):
        pytest.skip("Debian's nagios4 stock configuration is not installed")
    cfg = cloud_config(tmp_path, nagios={**NAGIOS_SECTION, "define_common": False})
    files = objects.render(cfg)
    assert "command_name    check_nrpe\n" not in files["commands.cfg"]
    assert "24x7" not in files["timeperiods.cfg"] and "nights" in files["timeperiods.cfg"]
    verify(tmp_path, files, cfg_file=stock[1:], cfg_dir=[stock[0], str(tmp_path / "objects")])


def test_contacts_required(tmp_path):
    cfg = cloud_config(tmp_path, nagios={"server": "127.0.0.1"})
    with pytest.raises(PlanError, match="Nagios refuses a configuration without contacts"):
        objects.render(cfg)


def test_contacts_without_groups_are_the_default_contacts(tmp_path):
    cfg = cloud_config(tmp_path, nagios={"server": "127.0.0.1", "contacts": [{"name": "ops", "email": "o@example.org"},
                                                                             {"name": "dba", "email": "d@example.org"}]})
    files = objects.render(cfg)
    host_tpl, = blocks(files["templates.cfg"], "host")
    assert host_tpl["contacts"] == "ops,dba" and "contact_groups" not in host_tpl
    verify(tmp_path, files)
