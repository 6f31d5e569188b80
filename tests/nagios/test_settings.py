"""The `nagios:` section of config.yaml: defaults, contacts, groups, time periods, passive mode, and every
mistake reported with its dotted path."""

from __future__ import annotations

import pytest

from stackwatch.config import ConfigError, build_config
from stackwatch.nagios.settings import BUILTIN_PERIODS

from .daemons import cloud_config, cloud_raw


def problems(tmp_path, nagios, environ=None) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        build_config(cloud_raw(tmp_path, nagios=nagios), tmp_path / "config.yaml", environ=environ or {})
    return exc.value.problems


def test_no_section_is_none(make_config):
    assert make_config().nagios is None


def test_shipped_config_still_loads():
    from pathlib import Path

    from stackwatch.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[2] / "config.yaml")
    assert cfg.nagios is None or cfg.nagios.allowed_hosts


def test_section_read(tmp_path):
    nagios = cloud_config(tmp_path).nagios
    assert nagios.allowed_hosts == ("127.0.0.1",)
    assert [c.name for c in nagios.contacts] == ["ops", "oncall"]
    oncall = nagios.contacts[1]
    assert (oncall.host_notification_period, oncall.service_notification_period) == ("workhours", "workhours")
    assert oncall.pager == "555-0100"  # from {env: SW_TEST_PAGER}
    assert "555-0100" not in repr(oncall)
    assert nagios.contact_groups[0].members == ("ops", "oncall")
    assert [p.name for p in nagios.timeperiods] == ["24x7", "workhours", "nights"]
    assert nagios.period("nights").ranges == (("monday", "00:00-07:00,19:00-24:00"),)
    assert nagios.period("24x7") == BUILTIN_PERIODS[0]
    assert (nagios.nrpe.port, nagios.nrpe.timeout, nagios.max_check_attempts) == (5666, 30.0, 3)
    assert nagios.passive is None and nagios.define_common
    assert (nagios.process_critical, nagios.process_warning) == ("1:", "")
    assert nagios.cloud_checks_host is None  # plan time: a monitoring host, else the first controller


def test_server_as_a_string_and_passive(tmp_path):
    nagios = cloud_config(tmp_path, nagios={"server": "10.0.0.5", "passive": {
        "command_file": "/var/lib/nagios4/rw/nagios.cmd", "host_interval": "5m"}}).nagios
    assert nagios.allowed_hosts == ("10.0.0.5",)
    assert nagios.passive.command_file == "/var/lib/nagios4/rw/nagios.cmd"
    assert nagios.passive.host_interval == 300.0 and nagios.passive.host_results


@pytest.mark.parametrize("section, expected", [
    ({}, "nagios.server: required"),
    ({"server": "10.0.0.5; rm -rf /"}, "nagios.server[0]: not an address"),
    ({"server": "x", "contacts": [{"name": "ops"}]}, "nagios.contacts[0]: a contact needs an email or a pager"),
    ({"server": "x", "contacts": [{"name": "ops", "email": "not-mail"}]}, "nagios.contacts[0].email: not an email"),
    ({"server": "x", "contacts": [{"name": "o;ps", "email": "a@b"}]}, "nagios.contacts[0].name: 'o;ps' holds"),
    ({"server": "x", "contacts": [{"name": "ops", "email": "a@b", "notification_period": "lunch"}]},
     "nagios.contacts[0].notification_period: unknown time period 'lunch'"),
    ({"server": "x", "contacts": [{"name": "ops", "email": "a@b", "service_notification_options": "w,x"}]},
     "nagios.contacts[0].service_notification_options: unknown notification option 'x'"),
    ({"server": "x", "contact_groups": [{"name": "g", "members": ["nobody"]}]},
     "nagios.contact_groups[0].members: unknown contact 'nobody'"),
    ({"server": "x", "timeperiods": {"late": {"monday": "25:00-26:00"}}},
     "nagios.timeperiods.late.monday: bad time range '25:00-26:00'"),
    ({"server": "x", "timeperiods": {"late": {"someday": "10:00-11:00"}}}, "nagios.timeperiods.late.someday: unknown key"),
    ({"server": "x", "check_period": "never"}, "nagios.check_period: unknown time period 'never'"),
    ({"server": "x", "define_common": False, "nrpe": {"port": 5667}}, "nagios.nrpe.port: the stock check_nrpe"),
    ({"server": "x", "passive": {}}, "nagios.passive.command_file: required"),
    ({"server": "x", "contcts": []}, "nagios.contcts: unknown key (did you mean 'contacts'?)"),
    ({"server": "x", "contacts": [{"name": "ops", "email": "a@b", "alias": "x\n    check_command evil"}]},
     "nagios.contacts[0].alias: must be one line"),
    ({"server": "x", "nrpe": {"check_program": "/bin/sw\ncommand[x]=/bin/sh"}},
     "nagios.nrpe.check_program: must be one line"),
])
def test_mistakes_named_with_their_path(tmp_path, section, expected):
    found = problems(tmp_path, section)
    assert any(p.startswith(expected) for p in found), found


def test_pager_secret_must_be_set(tmp_path):
    found = problems(tmp_path, {"server": "x", "contacts": [{"name": "ops", "pager": {"env": "UNSET_PAGER"}}]})
    assert any(p.startswith("nagios.contacts[0].pager.env: environment variable UNSET_PAGER") for p in found), found


def test_commented_example_in_config_yaml_is_valid(tmp_path):
    """The `#nagios:` block of the shipped config.yaml, uncommented, is a valid section."""
    from pathlib import Path

    import yaml

    lines = (Path(__file__).resolve().parents[2] / "config.yaml").read_text().splitlines()
    start = lines.index("#nagios:")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[1:])
    section = yaml.safe_load("\n".join(block))["nagios"]
    raw = cloud_raw(tmp_path, nagios=section)
    nagios = build_config(raw, tmp_path / "config.yaml", environ={"ONCALL_PAGER": "555-0199"}).nagios
    assert nagios.allowed_hosts == ("10.0.0.5",) and nagios.passive.command_file == "/var/lib/nagios4/rw/nagios.cmd"
    assert [c.name for c in nagios.contacts] == ["ops", "oncall"] and nagios.contacts[1].pager == "555-0199"
    assert nagios.cloud_checks_host == "controller-1"


def test_settings_module_is_pure():
    """settings.py says "stdlib only": it imports the standard library and config_reader, nothing else."""
    import ast
    import sys
    from pathlib import Path

    import stackwatch.nagios.settings as settings

    tree = ast.parse(Path(settings.__file__).read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {n for n in names if n.split(".")[0] not in sys.stdlib_module_names} == {"stackwatch.config_reader"}
