import textwrap

import pytest
from click.testing import CliRunner

from stackwatch.cli import cli
from stackwatch.config import ConfigError, build_config, load_config
from tests.conftest import ROOT, minimal_raw


def test_sample_config_is_valid():
    cfg = load_config(ROOT / "config.yaml", environ={})
    assert cfg.web.listen_host == "127.0.0.1"
    assert cfg.database_path.name == "stackwatch.db"
    assert [h.name for h in cfg.inventory.hosts] == ["localhost"]
    assert cfg.local_hosts()[0].name == "localhost"
    names = {c.name for c in cfg.checks}
    assert {"disk-root", "load", "memory", "proc-stackwatch"} <= names
    assert [t.step for t in cfg.metrics.rollups] == [300, 3600, 86400]
    assert cfg.metrics.rollups[-1].retention is None


def test_roles_name_the_guides_processes(make_config):
    cfg = make_config(inventory={"hosts": [{"name": "c1", "address": "10.0.0.1", "roles": ["controller"]},
                                           {"name": "n1", "address": "10.0.0.2", "roles": ["compute"]},
                                           {"name": "b1", "address": "10.0.0.3", "roles": ["block-storage"]}]})
    inv = cfg.inventory
    assert {"nova-api", "nova-scheduler", "nova-conductor", "glance-api", "keystone", "cinder-api",
            "cinder-scheduler", "rabbitmq-server", "mysqld"} <= set(inv.processes_for(inv.host("c1")))
    assert {"nova-compute", "libvirtd"} <= set(inv.processes_for(inv.host("n1")))
    assert "cinder-volume" in inv.processes_for(inv.host("b1"))
    assert cfg.local_hosts() == ()  # none at loopback: nothing checked in-process here


def test_process_checks_generated_for_local_roles(make_config):
    cfg = make_config(inventory={"hosts": [{"name": "h1", "address": "127.0.0.1", "roles": ["compute"]}]})
    procs = {c.name: c for c in cfg.checks if c.type == "procs"}
    assert set(procs) == {"proc-nova-compute", "proc-libvirtd"}
    assert procs["proc-nova-compute"].hosts == ("h1",)


def test_all_problems_reported_at_once_with_paths(tmp_path):
    raw = minimal_raw(tmp_path, colectors=[], web={"listen": "127.0.0.1:8080", "refresh": "5 minutes",
                                                   "users": [{"name": "a", "password": {"env": "SW_UNSET_PW"}}]})
    with pytest.raises(ConfigError) as err:
        build_config(raw, tmp_path / "c.yaml", environ={})
    text = str(err.value)
    assert "colectors: unknown key (did you mean 'collectors'?)" in text
    assert "web.refresh: bad duration '5 minutes'" in text
    assert "web.users[0].password.env: environment variable SW_UNSET_PW is unset" in text
    assert len(err.value.problems) == 3


def test_inline_secret_refused(tmp_path):
    raw = minimal_raw(tmp_path, web={"users": [{"name": "a", "password": "hunter2"}]})
    with pytest.raises(ConfigError) as err:
        build_config(raw, tmp_path / "c.yaml", environ={})
    assert "web.users[0].password: secrets are referenced" in str(err.value)
    assert "hunter2" not in str(err.value)


def test_secret_from_env_and_file(tmp_path):
    (tmp_path / "pw").write_text("s3cret\n")
    raw = minimal_raw(tmp_path, web={"users": [{"name": "a", "password": {"env": "PW"}},
                                               {"name": "b", "password": {"file": "pw"}}]})
    cfg = build_config(raw, tmp_path / "c.yaml", environ={"PW": "from-env"})
    assert cfg.web.users == (("a", "from-env"), ("b", "s3cret"))
    assert "from-env" not in repr(cfg.web)


@pytest.mark.parametrize("extra, expected", [
    ({"inventory": {"hosts": [{"name": "x", "roles": ["compute-node"]}]}}, "inventory.hosts[0].roles: unknown role"),
    ({"inventory": {"hosts": []}}, "inventory.hosts: at least one host is required"),
    ({"checks": {"host": [{"type": "nosuch"}]}}, "checks.host[0].type: unknown check 'nosuch'"),
    ({"collectors": [{"type": "nosuch"}]}, "collectors[0].type: unknown collector 'nosuch'"),
    ({"metrics": {"rollups": [{"step": "1h"}, {"step": "5m"}]}}, "metrics.rollups[1].step: rollup steps must grow"),
    ({"alerting": {"rules": [{"name": "r"}]}}, "alerting.rules[0]: give exactly one of metric, check or log"),
    ({"alerting": {"rules": [{"name": "r", "metric": "m", "op": "=>"}]}}, "alerting.rules[0].op: '=>' is not one of"),
    ({"web": {"listen": "8080"}}, "web.listen: bad listen address '8080'"),
    ({"checks": {"host": [{"type": "disk", "options": {"warning": "lots"}}]}}, "checks.host[0].options.warning"),
])
def test_problem_paths(tmp_path, extra, expected):
    with pytest.raises(ConfigError) as err:
        build_config(minimal_raw(tmp_path, **extra), tmp_path / "c.yaml", environ={})
    assert expected in str(err.value)


def test_invalid_yaml_is_one_clear_problem(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("web: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "not valid YAML" in str(err.value)


def test_config_check_command(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["config", "check", "--config", str(ROOT / "config.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent(f"""
        data_dir: {tmp_path}
        unknown_section: 1
        alerting:
          evaluation_interval: soon
        web:
          users:
            - name: admin
              password: {{env: STACKWATCH_TEST_UNSET_VARIABLE}}
        inventory:
          hosts: [{{name: h, address: 127.0.0.1}}]
    """))
    res = runner.invoke(cli, ["config", "check", "--config", str(bad)], env={"STACKWATCH_TEST_UNSET_VARIABLE": ""})
    assert res.exit_code == 1
    assert "unknown_section: unknown key" in res.output
    assert "alerting.evaluation_interval: bad duration 'soon'" in res.output
    assert "web.users[0].password.env: environment variable STACKWATCH_TEST_UNSET_VARIABLE is unset" in res.output


def test_two_local_hosts_sharing_a_role_get_one_process_check_each(tmp_path):
    from stackwatch.config import build_config

    raw = {"data_dir": str(tmp_path),
           "inventory": {"hosts": [{"name": "cmp1", "address": "127.0.0.2", "roles": ["compute"]},
                                   {"name": "cmp2", "address": "127.0.0.3", "roles": ["compute"]}]}}
    config = build_config(raw, tmp_path / "config.yaml", environ={})
    procs = {c.name: c.hosts for c in config.checks if c.type == "procs"}
    assert procs == {"proc-nova-compute": ("cmp1", "cmp2"), "proc-libvirtd": ("cmp1", "cmp2")}
