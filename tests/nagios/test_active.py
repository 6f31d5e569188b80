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
