"""Which services each host gets: the host checks everywhere, a procs check per process of its roles,
names shared by NRPE commands, Nagios services and passive results."""

from __future__ import annotations

import pytest

from stackwatch.inventory import DEFAULT_ROLE_PROCESSES
from stackwatch.nagios.plan import PlanError, arguments, command_name, host_services

from .daemons import CLOUD_HOSTS, HOST_CHECKS, cloud_config


def test_compute_host_services(cloud):
    services = host_services(cloud, cloud.inventory.host("compute-2"))
    assert [s.service for s in services] == ["disk-root", "load", "cpu", "memory", "swap", "interfaces",
                                             "proc-nova-compute", "proc-libvirtd"]
    by_name = {s.service: s for s in services}
    disk = by_name["disk-root"]
    assert (disk.command, disk.check_type, disk.interval) == ("sw_disk_root", "disk", 60.0)
    assert disk.command_line("/opt/sw/bin/stackwatch-check") == "/opt/sw/bin/stackwatch-check disk -p / -w 20% -c 10%"
    assert by_name["proc-nova-compute"].command_line("stackwatch-check") == "stackwatch-check procs -a nova-compute -c 1:"
    assert by_name["load"].interval == 30.0


def test_every_role_process_of_every_host(cloud):
    for host in CLOUD_HOSTS:
        services = host_services(cloud, cloud.inventory.host(host["name"]))
        procs = [s.service for s in services if s.check_type == "procs"]
        assert procs == [f"proc-{p}" for p in DEFAULT_ROLE_PROCESSES[host["roles"][0]]]
        assert len(services) == len(HOST_CHECKS) + len(procs)


def test_process_thresholds_from_checks_processes(tmp_path):
    cfg = cloud_config(tmp_path, checks={"processes": {"critical": "1:", "warning": "1:4"}, "host": []})
    (svc,) = [s for s in host_services(cfg, cfg.inventory.host("block-1"))]
    assert svc.arguments == ("-a", "cinder-volume", "-w", "1:4", "-c", "1:")


def test_arguments_quote_for_the_shell(tmp_path):
    cfg = cloud_config(tmp_path, roles={"odd": {"processes": ["my daemon"]}},
                       hosts=[{"name": "h1", "address": "10.0.0.1", "roles": ["odd"]}], checks={"host": []})
    (svc,) = host_services(cfg, cfg.inventory.host("h1"))
    assert svc.command_line("stackwatch-check") == "stackwatch-check procs -a 'my daemon' -c 1:"


def test_booleans_only_when_not_default():
    from stackwatch.checks.load import LoadOptions

    assert arguments(LoadOptions()) == ("-w", "15,10,5", "-c", "30,25,20")
    assert arguments(LoadOptions(per_cpu=True))[-1] == "-r"


@pytest.mark.parametrize("check, expected", [("disk-root", "sw_disk_root"), ("proc-nova-api", "sw_proc_nova_api"),
                                             ("a.b", "sw_a_b")])
def test_command_names(check, expected):
    assert command_name(check) == expected


def test_names_nagios_refuses_are_refused(tmp_path):
    cfg = cloud_config(tmp_path, roles={"odd": {"processes": ["nova(api)"]}},
                       hosts=[{"name": "h1", "address": "10.0.0.1", "roles": ["odd"]}], checks={"host": []})
    with pytest.raises(PlanError, match=r"check 'proc-nova\(api\)' cannot be a Nagios name"):
        host_services(cfg, cfg.inventory.host("h1"))


def test_command_name_clash_refused(tmp_path):
    cfg = cloud_config(tmp_path, roles={"odd": {"processes": ["a-b", "a_b"]}},
                       hosts=[{"name": "h1", "address": "10.0.0.1", "roles": ["odd"]}], checks={"host": []})
    with pytest.raises(PlanError, match="both become NRPE command sw_proc_a_b"):
        host_services(cfg, cfg.inventory.host("h1"))
