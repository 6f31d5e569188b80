"""Test helpers: the real Debian programs, started by hand on loopback (no systemd), and the 6-host cloud
config the issue names (1 controller, 3 compute, 1 block-storage, 1 object-storage).

- `nagios_main_cfg` writes a tmp main.cfg that cfg_dir's generated objects (nagios_user: the current user);
- `NrpeServer` runs Debian's /usr/sbin/nrpe in the foreground (-f) on a free loopback port with a config
  that includes a generated command file. NRPE refuses to run as root: as root it runs as the `nagios`
  user (created by the package); when that user cannot execute the venv's interpreter (a pyenv Python
  under /root), `check_program_for` writes a launcher doing what a console script does (same package,
  same site-packages) under Debian's python3, in a world-readable tmp directory.
"""

from __future__ import annotations

import contextlib
import copy
import getpass
import grp
import os
import shutil
import site
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import stackwatch

NAGIOS = "/usr/sbin/nagios4"
NRPE = "/usr/sbin/nrpe"
CHECK_NRPE = "/usr/lib/nagios/plugins/check_nrpe"

CLOUD_HOSTS = [
    {"name": "controller-1", "address": "10.0.0.11", "roles": ["controller"]},
    {"name": "compute-1", "address": "10.0.0.21", "roles": ["compute"]},
    {"name": "compute-2", "address": "10.0.0.22", "roles": ["compute"]},
    {"name": "compute-3", "address": "10.0.0.23", "roles": ["compute"]},
    {"name": "block-1", "address": "10.0.0.31", "roles": ["block-storage"]},
    {"name": "object-1", "address": "10.0.0.41", "roles": ["object-storage"]},
]

HOST_CHECKS = [
    {"type": "disk", "name": "disk-root", "interval": "60s", "options": {"path": "/", "warning": "20%", "critical": "10%"}},
    {"type": "load", "interval": "30s", "options": {"warning": "15,10,5", "critical": "30,25,20"}},
    {"type": "cpu", "interval": "30s", "options": {"warning": "90", "critical": "98"}},
    {"type": "memory", "interval": "30s", "options": {"warning": "90", "critical": "95"}},
    {"type": "swap", "interval": "60s", "options": {"warning": "50%", "critical": "20%"}},
    {"type": "interface", "name": "interfaces", "interval": "30s"},
]

# checks.cloud as a Nagios shop would write it: under host `openstack` (the default), one under a host of
# its own that is not in the inventory, one under an inventory host; secrets only by reference.
CLOUD_CHECKS = [
    {"type": "os-compute-services", "interval": "60s", "options": {"critical": "0", "cloud": "mycloud"}},
    {"type": "os-endpoints", "interval": "2m"},
    {"type": "os-capacity", "interval": "5m", "options": {"vcpus_warning": "64"}},
    {"type": "rabbitmq", "host": "rabbit-1", "options": {"url": "http://10.0.0.5:15672", "user": "monitor",
                                                          "password_file": "/etc/stackwatch/rabbitmq.password"}},
    {"type": "backup", "name": "backup-mysql", "host": "controller-1", "interval": "30m",
     "options": {"directory": "/var/backups/mysql", "pattern": "*.sql.gz"}},
]

NAGIOS_SECTION = {
    "server": ["127.0.0.1"],
    "contacts": [
        {"name": "ops", "alias": "Operations", "email": "ops@example.org"},
        {"name": "oncall", "email": "oncall@example.org", "notification_period": "workhours",
         "pager": {"env": "SW_TEST_PAGER"}},
    ],
    "contact_groups": [{"name": "cloud-ops", "alias": "Cloud operations", "members": ["ops", "oncall"]}],
    "timeperiods": {"nights": {"alias": "Nights", "monday": "00:00-07:00,19:00-24:00"}},
}


def cloud_raw(tmp_path: Path, hosts=None, nagios=None, checks=None, roles=None) -> dict:
    raw = {
        "data_dir": str(tmp_path / "data"),
        "hostname": "not-in-the-inventory",
        "inventory": {"hosts": hosts if hosts is not None else CLOUD_HOSTS},
        "checks": checks if checks is not None else {"defaults": {"interval": "60s"}, "processes": {"critical": "1:"},
                                                     "host": HOST_CHECKS},
        "nagios": copy.deepcopy(NAGIOS_SECTION if nagios is None else nagios),
    }
    if roles:
        raw["inventory"]["roles"] = roles
    return raw


def cloud_config(tmp_path: Path, **kwargs):
    from stackwatch.config import build_config

    return build_config(cloud_raw(tmp_path, **kwargs), tmp_path / "config.yaml", environ={"SW_TEST_PAGER": "555-0100"})


def need_program(path: str) -> str:
    """A real program a test needs: skip on a laptop without it, fail in CI (as tests/conftest.py's)."""
    if os.path.exists(path):
        return path
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide {path} (scripts/test.sh installs it)")
    pytest.skip(f"{path} not installed (apt-get install nagios4 nagios-nrpe-server nagios-nrpe-plugin)")


def console_script(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    return str(path) if path.exists() else (shutil.which(name) or pytest.fail(f"{name} not installed: pip install -e ."))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nagios_main_cfg(directory: Path, objects: Path, **extra: str) -> Path:
    """A main.cfg for `nagios4 -v` or a foreground run, everything under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "checkresults").mkdir(exist_ok=True)
    settings = {
        "cfg_dir": str(objects),
        "check_result_path": str(directory / "checkresults"),
        "lock_file": str(directory / "nagios.lock"),
        "temp_file": str(directory / "nagios.tmp"),
        "temp_path": str(directory),
        "status_file": str(directory / "status.dat"),
        "log_file": str(directory / "nagios.log"),
        "state_retention_file": str(directory / "retention.dat"),
        "object_cache_file": str(directory / "objects.cache"),
        "nagios_user": getpass.getuser(),
        "nagios_group": grp.getgrgid(os.getgid()).gr_name,
        "illegal_object_name_chars": "`~!$%^&*|'\"<>?,()=",
        "illegal_macro_output_chars": "`~$&|'\"<>",
        "use_syslog": "0",
    }
    settings.update(extra)
    lines = []
    for key, value in settings.items():
        for v in value if isinstance(value, list) else [value]:
            lines.append(f"{key}={v}")
    path = directory / "main.cfg"
    path.write_text("\n".join(lines) + "\n")
    return path


def nagios_verify(main_cfg: Path) -> subprocess.CompletedProcess:
    return subprocess.run([need_program(NAGIOS), "-v", str(main_cfg)], capture_output=True, text=True, timeout=60)


def nrpe_user() -> str | None:
    """The user NRPE runs as: None (the current one) unless we are root, which NRPE refuses."""
    return "nagios" if os.geteuid() == 0 else None


def check_program_for(user: str | None, shared: Path) -> str:
    """A stackwatch-check that `user` can execute: the venv's console script when it can, else a launcher
    written into `shared` (a world-readable directory the caller removes)."""
    script = console_script("stackwatch-check")
    if user is None or subprocess.run(["runuser", "-u", user, "--", script, "--list"], capture_output=True,
                                      timeout=30).returncode == 0:
        return script
    python = "/usr/bin/python3"
    version = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                             text=True).stdout.strip()
    if version != str(tuple(sys.version_info[:2])):
        raise RuntimeError(f"{user} cannot run {script} and {python} is not Python {sys.version_info[:2]}")
    paths = [str(Path(stackwatch.__file__).resolve().parents[1]), *site.getsitepackages()]
    launcher = shared / "stackwatch-check"
    launcher.write_text(f"#!{python} -S\nimport sys\nsys.path[:0] = {paths!r}\n"
                        "from stackwatch.checks.runner import main\nsys.exit(main())\n")
    launcher.chmod(0o755)
    return str(launcher)


class NrpeServer:
    """Debian's nrpe in the foreground on a free loopback port, including a generated command file."""

    def __init__(self, commands_cfg: str, user: str | None):
        self.user = user
        self.dir = Path(tempfile.mkdtemp(prefix="sw-nrpe-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        (self.dir / "stackwatch.cfg").write_text(commands_cfg)
        lines = [f"pid_file={self.dir / 'nrpe.pid'}", "server_address=127.0.0.1", f"server_port={self.port}",
                 "command_timeout=60", "connection_timeout=60", "debug=0", f"include={self.dir / 'stackwatch.cfg'}"]
        if user:
            lines[1:1] = [f"nrpe_user={user}", f"nrpe_group={user}"]
        self.config = self.dir / "nrpe.cfg"
        self.config.write_text("\n".join(lines) + "\n")
        for f in self.dir.iterdir():
            f.chmod(0o644)
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "NrpeServer":
        self.proc = subprocess.Popen([need_program(NRPE), "-c", str(self.config), "-f"], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nrpe exited {self.proc.returncode}: {self.proc.stdout.read()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nrpe did not listen within 15 s")

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def check(self, command: str | None = None) -> subprocess.CompletedProcess:
        args = [need_program(CHECK_NRPE), "-H", "127.0.0.1", "-p", str(self.port), "-t", "30"]
        return subprocess.run(args + (["-c", command] if command else []), capture_output=True, text=True, timeout=60)


@contextlib.contextmanager
def running_nagios(run: Path, objects_dir: Path, **settings: str):
    """A real nagios4 in the foreground, its external command file at run/nagios.cmd; yields that path."""
    need_program(NAGIOS)
    cmd = run / "nagios.cmd"
    defaults = dict(check_external_commands="1", command_file=str(cmd), status_update_interval="1",
                    check_result_reaper_frequency="1", enable_notifications="0", retain_state_information="0",
                    check_host_freshness="0", log_passive_checks="1", max_service_check_spread="1",
                    max_host_check_spread="1")
    main = nagios_main_cfg(run, objects_dir, **{**defaults, **settings})
    proc = subprocess.Popen([NAGIOS, str(main)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (cmd.exists() and (run / "status.dat").exists()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"nagios4 did not start: {proc.stdout.read() if proc.poll() is not None else ''}")
            time.sleep(0.1)
        yield cmd
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def status_blocks(path: Path) -> list[tuple[str, dict[str, str]]]:
    """status.dat as (kind, fields) blocks."""
    out, kind, fields = [], None, {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.endswith("{"):
            kind, fields = line[:-1].strip(), {}
        elif line == "}":
            out.append((kind, fields))
        elif "=" in line and kind:
            key, _, value = line.partition("=")
            fields[key] = value
    return out


def wait_for_status(path: Path, kind: str, match, timeout: float = 30.0) -> dict[str, str]:
    """The first `kind` block of status.dat that `match`es, waiting for Nagios to write it."""
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        if path.exists():
            for k, fields in status_blocks(path):
                if k == kind and match(fields):
                    return fields
                if k == kind:
                    seen = fields
        time.sleep(0.2)
    raise AssertionError(f"no {kind} matching in {path} within {timeout}s; last seen: {seen}")
