"""`stackwatch nrpe-config`: the generated command file, and Debian's NRPE running it for real:
check_nrpe -> nrpe -> stackwatch-check answers with the plugin's status line and exit code."""

from __future__ import annotations

import re

import pytest

from stackwatch.nagios import nrpe
from stackwatch.nagios.plan import host_services

from .daemons import NrpeServer, cloud_config


def test_render_fixed_commands(cloud):
    text = nrpe.render(cloud, cloud.inventory.host("compute-1"), "/opt/sw/bin/stackwatch-check")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert lines[:2] == ["dont_blame_nrpe=0", "allowed_hosts=127.0.0.1"]
    commands = lines[2:]
    assert "command[sw_disk_root]=exec /opt/sw/bin/stackwatch-check disk -p / -w 20% -c 10%" in commands
    assert "command[sw_proc_nova_compute]=exec /opt/sw/bin/stackwatch-check procs -a nova-compute -c 1:" in commands
    assert len(commands) == len(host_services(cloud, cloud.inventory.host("compute-1")))
    assert all(re.fullmatch(r"command\[sw_\w+\]=exec /opt/sw/bin/stackwatch-check [^$]*", c) for c in commands), commands
    assert "$ARG" not in text  # no client-supplied arguments


def test_default_program_is_this_venvs(cloud):
    import sys
    from pathlib import Path

    text = nrpe.render(cloud, cloud.inventory.host("block-1"))
    assert f"=exec {Path(sys.executable).with_name('stackwatch-check')} procs -a cinder-volume -c 1:" in text


def test_program_from_config(tmp_path):
    cfg = cloud_config(tmp_path, nagios={"server": "10.0.0.5", "nrpe": {"check_program": "/usr/local/bin/swc"}})
    assert "command[sw_load]=exec /usr/local/bin/swc load" in nrpe.render(cfg, cfg.inventory.host("compute-3"))


@pytest.fixture
def nrpe_server(tmp_path, nrpe_check_program):
    """A real NRPE serving the generated commands of a host whose role runs `nova-compute`-like processes,
    plus one that is surely missing and a disk check whose warning is always reached."""
    user, program = nrpe_check_program
    cfg = cloud_config(
        tmp_path, roles={"probe": {"processes": ["stackwatch-no-such-daemon"]}},
        hosts=[{"name": "probe-1", "address": "127.0.0.1", "roles": ["probe"]}],
        checks={"host": [{"type": "disk", "name": "disk-root", "options": {"path": "/", "warning": "20%",
                                                                             "critical": "10%"}},
                         {"type": "disk", "name": "disk-always-warn", "options": {"path": "/", "warning": "101%",
                                                                                   "critical": "0%"}},
                         {"type": "load", "options": {"warning": "1000,1000,1000", "critical": "2000,2000,2000"}}]})
    with NrpeServer(nrpe.render(cfg, cfg.inventory.host("probe-1"), program), user) as server:
        yield server


def test_real_nrpe_answers(nrpe_server):
    version = nrpe_server.check()
    assert version.returncode == 0 and version.stdout.startswith("NRPE v"), version

    load = nrpe_server.check("sw_load")
    assert load.returncode == 0, load
    assert re.fullmatch(r"LOAD OK - total load average: [\d.]+, [\d.]+, [\d.]+ \| load1=.*\n", load.stdout)

    disk = nrpe_server.check("sw_disk_root")
    assert disk.returncode in (0, 1, 2) and disk.stdout.startswith("DISK "), disk
    assert re.search(r"\| /=\d+MB;\d+;\d+;0;\d+$", disk.stdout.strip())

    warn = nrpe_server.check("sw_disk_always_warn")
    assert warn.returncode == 1 and warn.stdout.startswith("DISK WARNING - "), warn

    missing = nrpe_server.check("sw_proc_stackwatch_no_such_daemon")
    assert missing.returncode == 2, missing
    assert missing.stdout.startswith("PROCS CRITICAL: 0 processes with args 'stackwatch-no-such-daemon'"), missing


def test_real_nrpe_refuses_arguments_and_unknown_commands(nrpe_server, tmp_path):
    import subprocess

    from .daemons import CHECK_NRPE

    unknown = nrpe_server.check("sw_rm_rf")
    assert unknown.returncode == 3 and "not defined" in unknown.stdout
    marker = tmp_path / "pwned"
    with_args = subprocess.run([CHECK_NRPE, "-H", "127.0.0.1", "-p", str(nrpe_server.port), "-c", "sw_load",
                                "-a", f"; touch {marker}"], capture_output=True, text=True, timeout=30)
    assert with_args.returncode == 3 and "LOAD" not in with_args.stdout, with_args  # dont_blame_nrpe=0: refused
    assert not marker.exists()


def test_real_nrpe_answers_only_the_nagios_server(tmp_path, nrpe_check_program):
    """allowed_hosts comes from nagios.server: a client at another address is refused."""
    user, program = nrpe_check_program
    cfg = cloud_config(tmp_path, nagios={"server": "192.0.2.10"})
    text = nrpe.render(cfg, cfg.inventory.host("compute-1"), program)
    assert "allowed_hosts=192.0.2.10\n" in text
    with NrpeServer(text, user) as server:
        refused = server.check("sw_load")
    assert refused.returncode != 0 and "LOAD" not in refused.stdout, refused


def test_program_with_a_line_break_refused(cloud):
    from stackwatch.nagios.plan import PlanError

    with pytest.raises(PlanError, match="line break"):
        nrpe.render(cloud, cloud.inventory.host("compute-1"), "/bin/sw\ncommand[x]=/bin/sh")
