"""The cloud-wide checks of `checks.cloud` for Nagios shops: the host that runs them, the virtual host
`openstack` and its host group, services named as stackwatch names the checks, their NRPE commands on the
runner only with references to secrets and never a secret, and the real programs accepting all of it:
nagios4 -v (active and passive) and Debian's NRPE answering check_nrpe for cloud commands."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from stackwatch.config import ConfigError, build_config
from stackwatch.nagios import nrpe, objects
from stackwatch.nagios.cloud import cloud_hosts, runner
from stackwatch.nagios.plan import PlanError, host_services

from .daemons import (CLOUD_CHECKS, CLOUD_HOSTS, HOST_CHECKS, NAGIOS_SECTION, NrpeServer, cloud_config, cloud_raw,
                      free_port, nagios_main_cfg, nagios_verify)
from .test_objects import blocks, verify

MONITORING = {"monitoring": {"processes": []}}


def with_cloud(tmp_path, cloud=None, hosts=None, nagios=None, roles=None):
    checks = {"defaults": {"interval": "60s"}, "processes": {"critical": "1:"}, "host": HOST_CHECKS,
              "cloud": CLOUD_CHECKS if cloud is None else cloud}
    return cloud_config(tmp_path, checks=checks, hosts=hosts, nagios=nagios, roles=roles)


def test_runner_is_the_monitoring_host_else_the_first_controller_else_configured(tmp_path):
    assert runner(with_cloud(tmp_path)).name == "controller-1"
    monitor = {"name": "nagios-1", "address": "10.0.0.5", "roles": ["monitoring"]}
    assert runner(with_cloud(tmp_path, hosts=CLOUD_HOSTS + [monitor], roles=MONITORING)).name == "nagios-1"
    chosen = with_cloud(tmp_path, nagios={**NAGIOS_SECTION, "cloud_checks_host": "compute-3"},
                        hosts=CLOUD_HOSTS + [monitor], roles=MONITORING)
    assert runner(chosen).name == "compute-3"
    assert runner(cloud_config(tmp_path)) is None  # no checks.cloud: nothing to run


def test_runner_unknown_or_missing_is_one_clear_error(tmp_path):
    unknown = with_cloud(tmp_path, nagios={**NAGIOS_SECTION, "cloud_checks_host": "nagios-9"})
    with pytest.raises(PlanError, match=r"nagios.cloud_checks_host: unknown host 'nagios-9'; inventory: controller-1"):
        objects.render(unknown)
    computes = with_cloud(tmp_path, hosts=[h for h in CLOUD_HOSTS if "controller" not in h["roles"]])
    with pytest.raises(PlanError, match="set nagios.cloud_checks_host"):
        objects.render(computes)
    with pytest.raises(ConfigError) as exc:
        build_config(cloud_raw(tmp_path, nagios={"server": "x", "cloud_checks_host": "a;b"}), tmp_path / "c.yaml",
                     environ={})
    assert any(p.startswith("nagios.cloud_checks_host: 'a;b' holds characters") for p in exc.value.problems)


def test_cloud_hosts_and_command_names(tmp_path):
    clouds = {c.name: c for c in cloud_hosts(with_cloud(tmp_path))}
    assert [(n, c.virtual) for n, c in clouds.items()] == [("openstack", True), ("rabbit-1", True),
                                                         ("controller-1", False)]
    assert [(s.service, s.command) for s in clouds["openstack"].services] == [
        ("os-compute-services", "sw_os_compute_services"), ("os-endpoints", "sw_os_endpoints"),
        ("os-capacity", "sw_os_capacity")]
    assert [s.command for s in clouds["rabbit-1"].services] == ["sw_rabbit_1_rabbitmq"]
    assert [s.command for s in clouds["controller-1"].services] == ["sw_controller_1_backup_mysql"]


def test_objects_virtual_hosts_group_services_and_dependencies(tmp_path):
    files = objects.render(with_cloud(tmp_path))
    hosts = {h["host_name"]: h for h in blocks(files["hosts.cfg"], "host")}
    assert len(hosts) == len(CLOUD_HOSTS) + 2  # openstack and rabbit-1; controller-1 is not defined twice
    assert (hosts["openstack"]["address"], hosts["openstack"]["check_command"]) == ("10.0.0.11", "stackwatch-cloud-host")
    groups = {g["hostgroup_name"]: g["members"] for g in blocks(files["hosts.cfg"], "hostgroup")}
    assert groups["openstack-cloud"] == "openstack,rabbit-1"
    services = blocks(files["services.cfg"], "service")
    cloud = [(s["host_name"], s["service_description"], s["check_command"]) for s in services
             if s["check_command"].startswith("stackwatch-cloud-nrpe!")]
    assert cloud == [("openstack", "os-compute-services", "stackwatch-cloud-nrpe!sw_os_compute_services"),
                     ("openstack", "os-endpoints", "stackwatch-cloud-nrpe!sw_os_endpoints"),
                     ("openstack", "os-capacity", "stackwatch-cloud-nrpe!sw_os_capacity"),
                     ("rabbit-1", "rabbitmq", "stackwatch-cloud-nrpe!sw_rabbit_1_rabbitmq"),
                     ("controller-1", "backup-mysql", "stackwatch-cloud-nrpe!sw_controller_1_backup_mysql")]
    deps = [d for d in blocks(files["services.cfg"], "servicedependency") if d["dependent_host_name"] == "openstack"]
    assert deps == [{"host_name": "controller-1", "service_description": "nrpe", "dependent_host_name": "openstack",
                     "dependent_service_description": "os-compute-services,os-endpoints,os-capacity",
                     "execution_failure_criteria": "c,u", "notification_failure_criteria": "c,u"}]
    commands = {c["command_name"]: c["command_line"] for c in blocks(files["commands.cfg"], "command")}
    assert commands["stackwatch-cloud-nrpe"] == "/usr/lib/nagios/plugins/check_nrpe -H 10.0.0.11 -p 5666 -t 30 -c $ARG1$"


def test_passive_objects(tmp_path):
    cfg = with_cloud(tmp_path, nagios={**NAGIOS_SECTION, "passive": {"command_file": "/x/nagios.cmd"}})
    files = objects.render(cfg, passive=True)
    services = {(s["host_name"], s["service_description"]): s for s in blocks(files["services.cfg"], "service")}
    capacity = services[("openstack", "os-capacity")]
    assert (capacity["check_command"], capacity["freshness_threshold"]) == ("stackwatch-stale", "900")
    assert not blocks(files["services.cfg"], "servicedependency")


def test_nrpe_commands_on_the_runner_only(tmp_path):
    cfg = with_cloud(tmp_path)
    text = nrpe.render(cfg, cfg.inventory.host("controller-1"), "/opt/sw/bin/stackwatch-check")
    commands = [ln for ln in text.splitlines() if ln.startswith("command[")]
    own = len(host_services(cfg, cfg.inventory.host("controller-1")))
    assert len(commands) == own + len(CLOUD_CHECKS)
    assert commands[own:] == [
        "command[sw_os_compute_services]=exec /opt/sw/bin/stackwatch-check os-compute-services --cloud mycloud "
        "--api-timeout 8.0 -c 0",
        "command[sw_os_endpoints]=exec /opt/sw/bin/stackwatch-check os-endpoints --api-timeout 8.0 -i public -w 1 "
        "-c 5 --token-warning 2 --token-critical 10",
        "command[sw_os_capacity]=exec /opt/sw/bin/stackwatch-check os-capacity --api-timeout 8.0 "
        "--vcpus-warning 64 --ram-warning 10% --ram-critical 5% --disk-warning 10% --disk-critical 5%",
        "command[sw_rabbit_1_rabbitmq]=exec /opt/sw/bin/stackwatch-check rabbitmq -u http://10.0.0.5:15672 "
        "--user monitor --password-env STACKWATCH_RABBITMQ_PASSWORD --password-file /etc/stackwatch/rabbitmq.password "
        "-q '*' -w 1000 -c 10000 --no-consumer-warning 0 --api-timeout 8.0",
        "command[sw_controller_1_backup_mysql]=exec /opt/sw/bin/stackwatch-check backup -d /var/backups/mysql "
        "-p '*.sql.gz' -w 26h -c 50h --min-size 1B"]
    assert "$ARG" not in text and "dont_blame_nrpe=0" in text
    other = nrpe.render(cfg, cfg.inventory.host("compute-1"), "/opt/sw/bin/stackwatch-check")
    assert "sw_os_" not in other and "cloud-wide" not in other


def test_secrets_never_written(tmp_path, monkeypatch):
    """A password in a file or a variable stays there: the NRPE file names the file or variable only."""
    secret = "s3cr3t-Rabbit-pw"
    pw = tmp_path / "rabbitmq.password"
    pw.write_text(secret + "\n")
    monkeypatch.setenv("SW_TEST_RABBIT_PW", secret)
    cfg = with_cloud(tmp_path, cloud=[
        {"type": "rabbitmq", "name": "rabbit-file", "options": {"user": "monitor", "password_file": str(pw)}},
        {"type": "rabbitmq", "name": "rabbit-env", "options": {"user": "monitor", "password_env": "SW_TEST_RABBIT_PW"}}])
    text = nrpe.render(cfg, cfg.inventory.host("controller-1"), "/opt/sw/bin/stackwatch-check")
    assert f"--password-file {pw}" in text and "--password-env SW_TEST_RABBIT_PW" in text
    assert secret not in text and secret not in "".join(objects.render(cfg).values())


def test_password_in_a_url_refused(tmp_path):
    cfg = with_cloud(tmp_path, cloud=[{"type": "rabbitmq", "options": {"url": "http://monitor:s3cr3t@10.0.0.5:15672"}}])
    for render in (lambda: nrpe.render(cfg, cfg.inventory.host("controller-1"), "swc"), lambda: objects.render(cfg)):
        with pytest.raises(PlanError, match="checks.cloud 'rabbitmq' .* URL with a password") as exc:
            render()
        assert "s3cr3t" not in str(exc.value)


@pytest.mark.parametrize("cloud, hosts_roles, expected", [
    ([{"type": "backup", "name": "disk-root", "host": "controller-1"}], None,
     "checks.cloud 'disk-root' on host controller-1: that host already has a check of that name"),
    ([{"type": "backup", "name": "disk-root"}], None,
     "check 'disk-root' of controller-1 and cloud check 'disk-root' of openstack both become NRPE command sw_disk_root"),
    ([{"type": "backup", "name": "nrpe"}], None, "check name 'nrpe' is taken"),
    ([{"type": "backup", "host": "open(stack)"}], None, "host 'open(stack)' cannot be a Nagios name"),
    ([{"type": "backup"}], {"openstack-cloud": {"processes": []}}, "role 'openstack-cloud' clashes"),
])
def test_clashes_refused(tmp_path, cloud, hosts_roles, expected):
    hosts = CLOUD_HOSTS + ([{"name": "x-1", "address": "10.0.0.9", "roles": list(hosts_roles)}] if hosts_roles else [])
    cfg = with_cloud(tmp_path, cloud=cloud, hosts=hosts, roles=hosts_roles)
    with pytest.raises(PlanError, match=re.escape(expected)):
        objects.render(cfg)


def test_nagios4_accepts_cloud_checks_active(tmp_path):
    cfg = with_cloud(tmp_path)
    out = verify(tmp_path, objects.render(cfg))
    own = sum(len(host_services(cfg, cfg.inventory.host(h["name"]))) + 1 for h in CLOUD_HOSTS)
    assert f"Checked {own + len(CLOUD_CHECKS)} services." in out
    assert "Checked 8 hosts." in out and "Checked 5 host groups." in out
    # each check but the nrpe services depends on an nrpe service, once for execution and once for notification
    assert f"Checked {2 * (own - len(CLOUD_HOSTS) + len(CLOUD_CHECKS))} service dependencies\n" in out


def test_nagios4_accepts_cloud_checks_passive(tmp_path):
    cfg = with_cloud(tmp_path, nagios={**NAGIOS_SECTION, "passive": {"command_file": str(tmp_path / "nagios.cmd")}})
    out = verify(tmp_path, objects.render(cfg, passive=True))
    own = sum(len(host_services(cfg, cfg.inventory.host(h["name"]))) for h in CLOUD_HOSTS)  # no nrpe services
    assert f"Checked {own + len(CLOUD_CHECKS)} services." in out
    assert "Checked 8 hosts." in out and "Checked 0 service dependencies\n" in out


def test_nagios4_accepts_cloud_checks_beside_debians_stock_definitions(tmp_path):
    stock = ["/etc/nagios-plugins/config", "/etc/nagios4/objects/commands.cfg", "/etc/nagios4/objects/timeperiods.cfg"]
    if not all(Path(p).exists() for p in stock):
        pytest.skip("Debian's nagios4 stock configuration is not installed")
    cfg = with_cloud(tmp_path, nagios={**NAGIOS_SECTION, "define_common": False})
    objdir = tmp_path / "objects"
    objects.write(objects.render(cfg), objdir)
    result = nagios_verify(nagios_main_cfg(tmp_path / "nagios", objdir, cfg_file=stock[1:],
                                           cfg_dir=[stock[0], str(objdir)]))
    assert result.returncode == 0 and "Total Errors:   0" in result.stdout, result.stdout + result.stderr


@pytest.fixture
def readable_dir():
    """A directory NRPE's user (nagios, when the tests run as root) can read."""
    path = Path(tempfile.mkdtemp(prefix="sw-nagios-cloud-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_real_nrpe_answers_cloud_checks(tmp_path, nrpe_check_program, readable_dir):
    """Debian's NRPE with the runner's generated file: a backup check over a tmp dir (OK with a fresh dump,
    CRITICAL with none), an os-* check whose cloud is not in any clouds.yaml and a rabbitmq check whose
    broker is not there (UNKNOWN, exit 3, one line each) pass their status line and exit code through."""
    user, program = nrpe_check_program
    dumps, empty = readable_dir / "dumps", readable_dir / "empty"
    dumps.mkdir()
    empty.mkdir()
    (dumps / "nova-2026.sql.gz").write_bytes(b"\x1f\x8b" + b"dump" * 100)
    os.utime(dumps / "nova-2026.sql.gz", (time.time() - 3600, time.time() - 3600))
    for d in (dumps, empty):
        d.chmod(0o755)
    (dumps / "nova-2026.sql.gz").chmod(0o644)
    secret = "s3cr3t-Rabbit-pw"
    pw = readable_dir / "rabbitmq.password"
    pw.write_text(secret + "\n")
    pw.chmod(0o644)
    cfg = with_cloud(tmp_path, hosts=[{"name": "nagios-1", "address": "127.0.0.1", "roles": ["monitoring"]}],
                     roles=MONITORING, nagios={"server": "127.0.0.1"}, cloud=[
                         {"type": "backup", "options": {"directory": str(dumps), "pattern": "*.sql.gz"}},
                         {"type": "backup", "name": "backup-none", "options": {"directory": str(empty)}},
                         {"type": "os-compute-services", "options": {"cloud": "stackwatch-no-such-cloud"}},
                         {"type": "rabbitmq", "host": "rabbit-1", "options": {
                             "url": f"http://127.0.0.1:{free_port()}", "user": "monitor", "password_file": str(pw)}}])
    text = nrpe.render(cfg, cfg.inventory.host("nagios-1"), program)
    assert secret not in text and f"--password-file {pw}" in text
    with NrpeServer(text, user) as server:
        backup = server.check("sw_backup")
        none = server.check("sw_backup_none")
        nova = server.check("sw_os_compute_services")
        rabbit = server.check("sw_rabbit_1_rabbitmq")
    assert backup.returncode == 0 and backup.stdout.startswith("BACKUP OK - "), backup
    assert "nova-2026.sql.gz" in backup.stdout, backup
    assert none.returncode == 2 and none.stdout.startswith("BACKUP CRITICAL - no backup matches"), none
    assert nova.returncode == 3, nova
    assert nova.stdout == "NOVA SERVICES UNKNOWN - ConfigException: Cloud stackwatch-no-such-cloud was not found.\n"
    assert rabbit.returncode == 3 and rabbit.stdout.startswith("RABBITMQ UNKNOWN - management API http://127.0.0.1:"), \
        rabbit
    assert "unreachable" in rabbit.stdout and rabbit.stdout.count("\n") == 1 and secret not in rabbit.stdout
