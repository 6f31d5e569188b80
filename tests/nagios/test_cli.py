"""`stackwatch nrpe-config` and `stackwatch nagios-config` through click, as a user runs them."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from stackwatch.cli import cli
from stackwatch.nagios import objects

from .daemons import cloud_raw


def write_config(tmp_path, **kwargs):
    path = tmp_path / "config.yaml"
    raw = cloud_raw(tmp_path, **kwargs)
    raw["nagios"]["contacts"][1].pop("pager")  # no environment variable in these runs
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def test_nrpe_config_prints_and_writes(tmp_path):
    config = write_config(tmp_path)
    printed = CliRunner().invoke(cli, ["nrpe-config", "--config", config, "--host", "compute-1",
                                       "--check-program", "/opt/sw/bin/stackwatch-check"])
    assert printed.exit_code == 0, printed.output
    assert "command[sw_proc_nova_compute]=exec /opt/sw/bin/stackwatch-check procs -a nova-compute -c 1:" in printed.output
    target = tmp_path / "nrpe.d" / "stackwatch.cfg"
    written = CliRunner().invoke(cli, ["nrpe-config", "--config", config, "--host", "compute-1",
                                       "--check-program", "/opt/sw/bin/stackwatch-check", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text() == printed.output


def test_nrpe_config_unknown_host(tmp_path):
    result = CliRunner().invoke(cli, ["nrpe-config", "--config", write_config(tmp_path), "--host", "nope"])
    assert result.exit_code == 1
    assert "unknown host 'nope'; inventory: controller-1, compute-1" in result.output


def test_nrpe_config_needs_a_host_when_this_machine_is_not_one(tmp_path):
    result = CliRunner().invoke(cli, ["nrpe-config", "--config", write_config(tmp_path)])
    assert result.exit_code == 1 and "give --host" in result.output


def test_without_nagios_section(tmp_path):
    path = tmp_path / "config.yaml"
    raw = cloud_raw(tmp_path)
    del raw["nagios"]
    path.write_text(yaml.safe_dump(raw))
    for args in (["nrpe-config", "--host", "compute-1"], ["nagios-config"]):
        result = CliRunner().invoke(cli, [*args, "--config", str(path)])
        assert result.exit_code == 1 and "no nagios: section" in result.output, result.output


def test_nagios_config_writes_the_files(tmp_path):
    out = tmp_path / "objects"
    result = CliRunner().invoke(cli, ["nagios-config", "--config", write_config(tmp_path), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(objects.FILES)
    assert "check_nrpe!sw_disk_root" in (out / "services.cfg").read_text()
    passive = CliRunner().invoke(cli, ["nagios-config", "--config", write_config(tmp_path), "--passive"])
    assert passive.exit_code == 0 and "# ==> services.cfg <==" in passive.output
    assert "active_checks_enabled   0" in passive.output and "check_command           check_nrpe!" not in passive.output


def test_bad_name_is_one_clear_error(tmp_path):
    config = write_config(tmp_path, hosts=[{"name": "a(b)", "address": "10.0.0.1", "roles": ["compute"]}])
    result = CliRunner().invoke(cli, ["nagios-config", "--config", config])
    assert result.exit_code == 1 and "host 'a(b)' cannot be a Nagios name" in result.output
    assert "Traceback" not in result.output


def test_cloud_checks_through_the_cli(tmp_path):
    """nrpe-config --host <the runner> prints the cloud commands; nagios-config the virtual host and services."""
    from .daemons import CLOUD_CHECKS, HOST_CHECKS

    config = write_config(tmp_path, checks={"host": HOST_CHECKS, "cloud": CLOUD_CHECKS})
    runner = CliRunner().invoke(cli, ["nrpe-config", "--config", config, "--host", "controller-1",
                                      "--check-program", "/opt/sw/bin/stackwatch-check"])
    assert runner.exit_code == 0, runner.output
    assert ("command[sw_os_compute_services]=exec /opt/sw/bin/stackwatch-check os-compute-services --cloud mycloud"
            in runner.output)
    other = CliRunner().invoke(cli, ["nrpe-config", "--config", config, "--host", "compute-1"])
    assert other.exit_code == 0 and "sw_os_compute_services" not in other.output
    objects_out = CliRunner().invoke(cli, ["nagios-config", "--config", config])
    assert objects_out.exit_code == 0, objects_out.output
    assert "host_name               openstack\n" in objects_out.output
    assert "check_command           stackwatch-cloud-nrpe!sw_os_endpoints" in objects_out.output


def test_cloud_checks_without_a_runner_is_one_clear_error(tmp_path):
    from .daemons import CLOUD_CHECKS, CLOUD_HOSTS

    config = write_config(tmp_path, hosts=[h for h in CLOUD_HOSTS if "controller" not in h["roles"]],
                          checks={"host": [], "cloud": CLOUD_CHECKS})
    result = CliRunner().invoke(cli, ["nagios-config", "--config", config])
    assert result.exit_code == 1 and "set nagios.cloud_checks_host" in result.output and "Traceback" not in result.output
