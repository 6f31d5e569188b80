"""The whole active path with the generated files only: a real nagios4 runs the generated services'
`check_nrpe!sw_...` against a real NRPE serving the generated commands, which run stackwatch-check; the
plugin's state and status line land in Nagios's status.dat."""

from __future__ import annotations

import time

from stackwatch.nagios import nrpe, objects

from .daemons import NrpeServer, cloud_config, running_nagios, wait_for_status


def test_nagios_runs_the_checks_through_nrpe(tmp_path, nrpe_check_program):
    user, program = nrpe_check_program
    probe = {"name": "probe-1", "address": "127.0.0.1", "roles": ["probe"]}
    checks = {"host": [{"type": "disk", "name": "disk-root", "options": {"path": "/", "warning": "0%", "critical": "0%"}},
                       {"type": "disk", "name": "disk-always-warn", "options": {"path": "/", "warning": "101%",
                                                                                 "critical": "0%"}}]}
    roles = {"probe": {"processes": ["stackwatch-no-such-daemon"]}}
    first = cloud_config(tmp_path, hosts=[probe], checks=checks, roles=roles, nagios={"server": "127.0.0.1"})
    with NrpeServer(nrpe.render(first, first.inventory.host("probe-1"), program), user) as server:
        cfg = cloud_config(tmp_path, hosts=[probe], checks=checks, roles=roles,
                           nagios={"server": "127.0.0.1", "nrpe": {"port": server.port},
                                   "contacts": [{"name": "ops", "email": "ops@example.org"}]})
        objects.write(objects.render(cfg), tmp_path / "objects")
        run = tmp_path / "nagios"
        with running_nagios(run, tmp_path / "objects", execute_host_checks="0") as cmd:
            now = int(time.time())
            with open(cmd, "w") as fifo:  # check now rather than at the scheduled time
                for service in ("nrpe", "disk-root", "disk-always-warn", "proc-stackwatch-no-such-daemon"):
                    fifo.write(f"[{now}] SCHEDULE_FORCED_SVC_CHECK;probe-1;{service};{now}\n")
            status = run / "status.dat"

            def checked(service):
                return lambda f: (f["host_name"], f["service_description"]) == ("probe-1", service) \
                    and f["has_been_checked"] == "1"

            alive = wait_for_status(status, "servicestatus", checked("nrpe"))
            assert alive["current_state"] == "0" and alive["plugin_output"].startswith("NRPE v"), alive
            disk = wait_for_status(status, "servicestatus", checked("disk-root"))
            assert disk["current_state"] == "0" and disk["plugin_output"].startswith("DISK OK - free space: / "), disk
            assert disk["performance_data"].startswith("/=") and disk["check_type"] == "0"  # active
            warn = wait_for_status(status, "servicestatus", checked("disk-always-warn"))
            assert warn["current_state"] == "1" and warn["plugin_output"].startswith("DISK WARNING - "), warn
            proc = wait_for_status(status, "servicestatus", checked("proc-stackwatch-no-such-daemon"))
            assert proc["current_state"] == "2", proc
            assert proc["plugin_output"] == "PROCS CRITICAL: 0 processes with args 'stackwatch-no-such-daemon'", proc


def test_nagios_runs_the_cloud_checks_through_the_runners_nrpe(tmp_path, nrpe_check_program):
    """checks.cloud on the virtual host `openstack`: nagios4 runs `stackwatch-cloud-nrpe!sw_...` against the
    NRPE of the monitoring host (the runner), whose generated file holds the cloud commands; UNKNOWN (3) from
    a cloud that is not configured lands as UNKNOWN, a tmp dir's backup as OK, and the host is UP."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    user, program = nrpe_check_program
    dumps = Path(tempfile.mkdtemp(prefix="sw-nagios-dumps-"))
    try:
        dumps.chmod(0o755)
        (dumps / "keystone.sql.gz").write_bytes(b"\x1f\x8b" + b"dump" * 100)
        (dumps / "keystone.sql.gz").chmod(0o644)
        os.utime(dumps / "keystone.sql.gz", (time.time() - 600, time.time() - 600))
        monitor = {"name": "nagios-1", "address": "127.0.0.1", "roles": ["monitoring"]}
        checks = {"host": [], "cloud": [{"type": "backup", "options": {"directory": str(dumps)}},
                                        {"type": "os-compute-services", "options": {"cloud": "stackwatch-no-such-cloud"}}]}
        roles = {"monitoring": {"processes": []}}
        first = cloud_config(tmp_path, hosts=[monitor], checks=checks, roles=roles, nagios={"server": "127.0.0.1"})
        with NrpeServer(nrpe.render(first, first.inventory.host("nagios-1"), program), user) as server:
            cfg = cloud_config(tmp_path, hosts=[monitor], checks=checks, roles=roles,
                               nagios={"server": "127.0.0.1", "nrpe": {"port": server.port},
                                       "contacts": [{"name": "ops", "email": "ops@example.org"}]})
            objects.write(objects.render(cfg), tmp_path / "objects")
            run = tmp_path / "nagios"
            with running_nagios(run, tmp_path / "objects") as cmd:
                now = int(time.time())
                with open(cmd, "w") as fifo:
                    fifo.write(f"[{now}] SCHEDULE_FORCED_HOST_CHECK;openstack;{now}\n")
                    for host, service in (("nagios-1", "nrpe"), ("openstack", "backup"),
                                          ("openstack", "os-compute-services")):
                        fifo.write(f"[{now}] SCHEDULE_FORCED_SVC_CHECK;{host};{service};{now}\n")
                status = run / "status.dat"

                def checked(host, service):
                    return lambda f: (f["host_name"], f["service_description"]) == (host, service) \
                        and f["has_been_checked"] == "1"

                backup = wait_for_status(status, "servicestatus", checked("openstack", "backup"))
                assert backup["current_state"] == "0" and backup["plugin_output"].startswith("BACKUP OK - "), backup
                assert backup["check_type"] == "0"  # active, through NRPE
                nova = wait_for_status(status, "servicestatus", checked("openstack", "os-compute-services"))
                assert nova["current_state"] == "3", nova
                assert nova["plugin_output"] == ("NOVA SERVICES UNKNOWN - ConfigException: Cloud stackwatch-no-such-cloud"
                                                 " was not found."), nova
                host = wait_for_status(status, "hoststatus", lambda f: f["host_name"] == "openstack"
                                       and f["has_been_checked"] == "1")
                assert host["current_state"] == "0", host
                assert host["plugin_output"] == "OK: virtual host of the cloud-wide checks made from nagios-1", host
    finally:
        shutil.rmtree(dumps, ignore_errors=True)
