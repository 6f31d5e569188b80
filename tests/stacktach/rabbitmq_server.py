"""Test helper: a real RabbitMQ node (Debian's rabbitmq-server) started by hand for the tests and benches.

No systemd and nothing shared with another node on this machine (the OpenStack lab runs its own RabbitMQ
on 5673/15673 with an epmd on 4370; never touched): the node has its own name, its own epmd on a free port
(started here in the foreground, so it is ours to stop), free AMQP / management / distribution ports on
127.0.0.1, and its config, enabled-plugins file, Mnesia and logs in a temporary directory. What it runs
(see `RabbitBroker.command_lines()` for the exact lines of a run):

    epmd -address 127.0.0.1 -port EPMD_PORT
    env -i PATH=... HOME=DIR/home RABBITMQ_NODENAME=stackwatch-test@localhost RABBITMQ_NODE_PORT=...
        RABBITMQ_DIST_PORT=... ERL_EPMD_PORT=EPMD_PORT RABBITMQ_CONFIG_FILE=DIR/rabbitmq.conf
        RABBITMQ_ENABLED_PLUGINS_FILE=DIR/enabled_plugins RABBITMQ_MNESIA_BASE=DIR/mnesia ...
        /usr/lib/rabbitmq/bin/rabbitmq-server

The config creates one administrator (`default_user`, a random password; no guest) and the management
plugin listens on 127.0.0.1. Ready = the management API answers /api/overview with that user and the AMQP
port accepts connections. Stopped with SIGTERM (then SIGKILL) of the process group we started.

`rabbitmq` is a session fixture: skipped on a laptop without rabbitmq-server (installed with apt-get when
running as root), a failure when CI is set. One node serves the whole session.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
RABBITMQCTL = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")
NODENAME = "stackwatch-test@localhost"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def ensure_installed() -> str | None:
    """None when rabbitmq-server is there (installing it as root if missing), else why not."""
    if RABBITMQ_SERVER.exists() and shutil.which("epmd"):
        return None
    if os.geteuid() != 0:
        return "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "rabbitmq-server"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:                      # stale package lists: update once, then retry
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=900)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0 or not RABBITMQ_SERVER.exists():
        return f"apt-get install rabbitmq-server failed: {done.stderr[-1000:]}"
    return None


class RabbitBroker:
    """One RabbitMQ node in `base` (a directory of its own); `start()` returns once it answers."""

    def __init__(self, base: Path, nodename: str = NODENAME, user: str = "stackwatch-test",
                 stats_interval_ms: int = 500):
        self.base = Path(base)
        self.nodename = nodename
        self.user = user
        self.password = secrets.token_urlsafe(16)
        self.stats_interval_ms = stats_interval_ms
        self.port = self.mgmt_port = self.dist_port = self.epmd_port = 0
        self.server: subprocess.Popen | None = None
        self.epmd: subprocess.Popen | None = None
        self.env: dict[str, str] = {}

    # -- addresses --------------------------------------------------------------------------------
    def url(self, user: str | None = None, password: str | None = None, port: int | None = None,
            vhost: str = "/") -> str:
        user = self.user if user is None else user
        password = self.password if password is None else password
        return (f"amqp://{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}"
                f"@127.0.0.1:{port or self.port}/{urllib.parse.quote(vhost, safe='')}")

    @property
    def mgmt_url(self) -> str:
        return f"http://127.0.0.1:{self.mgmt_port}"

    # -- start / stop -----------------------------------------------------------------------------
    def _write_config(self) -> None:
        for sub in ("home", "mnesia", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            f"management.tcp.port = {self.mgmt_port}\n"
            "management.tcp.ip = 127.0.0.1\n"
            f"collect_statistics_interval = {self.stats_interval_ms}\n"
            f"default_user = {self.user}\n"
            f"default_pass = {self.password}\n"
            "default_vhost = /\n"
            "default_user_tags.administrator = true\n"
            "default_permissions.configure = .*\n"
            "default_permissions.read = .*\n"
            "default_permissions.write = .*\n"
            "log.console = false\n"
            "log.file.level = info\n")
        (self.base / "enabled_plugins").write_text("[rabbitmq_management].\n")
        (self.base / "rabbitmq-env.conf").write_text("# empty: everything comes from the environment\n")

    def _environment(self) -> dict[str, str]:
        b = self.base
        return {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "HOME": str(b / "home"),                      # the Erlang cookie lives here
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_CONF_ENV_FILE": str(b / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(b / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(b / "advanced.config"),   # absent on purpose
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(b / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(b / "mnesia"),
            "RABBITMQ_LOG_BASE": str(b / "log"),
            "RABBITMQ_PID_FILE": str(b / "rabbit.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_CTL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def command_lines(self) -> list[str]:
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items() if k != "PATH")
        return [f"epmd -address 127.0.0.1 -port {self.epmd_port}",
                f"env -i PATH=$PATH {env} {RABBITMQ_SERVER}"]

    def start(self, timeout: float = 120.0) -> RabbitBroker:
        self.port, self.mgmt_port, self.dist_port, self.epmd_port = (free_port() for _ in range(4))
        self._write_config()
        self.env = self._environment()
        out = (self.base / "server.out").open("ab")
        self.epmd = subprocess.Popen(["epmd", "-address", "127.0.0.1", "-port", str(self.epmd_port)],
                                     stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=self.env, start_new_session=True)
        deadline = time.monotonic() + 20
        while not _port_open(self.epmd_port):
            if self.epmd.poll() is not None or time.monotonic() > deadline:
                out.close()
                self.stop()
                raise RuntimeError(f"epmd did not start on {self.epmd_port}: {self.log_tail()}")
            time.sleep(0.05)
        self.server = subprocess.Popen([str(RABBITMQ_SERVER)], stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=self.env, start_new_session=True)
        out.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.server.poll() is not None:
                self.stop()
                raise RuntimeError(f"rabbitmq-server exited ({self.base}): {self.log_tail()}")
            if _port_open(self.port) and self._api_ready():
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"rabbitmq-server did not answer in {timeout}s: {self.log_tail()}")
            time.sleep(0.25)

    def _api_ready(self) -> bool:
        try:
            return bool(self.api("GET", "/api/overview").get("rabbitmq_version"))
        except (OSError, ValueError):
            return False

    def log_tail(self) -> str:
        parts = []
        for path in [self.base / "server.out", *sorted((self.base / "log").glob("*.log"))]:
            if path.exists():
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-1500:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        for attr in ("server", "epmd"):
            proc = getattr(self, attr)
            if proc is None:
                continue
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)     # the group we started: sh -> beam.smp etc.
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)         # leftovers of that group (erl_child_setup)
            except ProcessLookupError:
                pass
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
            setattr(self, attr, None)

    # -- management API and rabbitmqctl -----------------------------------------------------------
    def api(self, method: str, path: str, body: object | None = None, user: str | None = None,
            password: str | None = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.mgmt_url + path, data=data, method=method)
        auth = f"{user or self.user}:{password or self.password}".encode()
        req.add_header("Authorization", "Basic " + base64.b64encode(auth).decode())
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    def queue(self, name: str, vhost: str = "/") -> dict:
        return self.api("GET", f"/api/queues/{urllib.parse.quote(vhost, safe='')}/"
                               f"{urllib.parse.quote(name, safe='')}")

    def delete_queue(self, name: str, vhost: str = "/") -> None:
        try:
            self.api("DELETE", f"/api/queues/{urllib.parse.quote(vhost, safe='')}/"
                               f"{urllib.parse.quote(name, safe='')}")
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise

    def add_user(self, name: str, password: str, tags: str = "", permissions: bool = True) -> None:
        self.api("PUT", f"/api/users/{urllib.parse.quote(name, safe='')}", {"password": password, "tags": tags})
        if permissions:
            self.api("PUT", f"/api/permissions/%2F/{urllib.parse.quote(name, safe='')}",
                     {"configure": ".*", "write": ".*", "read": ".*"})

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        """rabbitmqctl against this node only (its name, cookie, epmd)."""
        return subprocess.run([str(RABBITMQCTL), "-n", self.nodename, *args], env=self.env,
                              capture_output=True, text=True, timeout=120)


_BROKER: RabbitBroker | None = None


def _stop_session_broker() -> None:
    global _BROKER
    if _BROKER is not None:
        broker, _BROKER = _BROKER, None
        broker.stop()
        shutil.rmtree(broker.base, ignore_errors=True)


def session_broker() -> RabbitBroker:
    """The one node of this process (started on first use, stopped at exit or by the fixture)."""
    global _BROKER
    if _BROKER is None:
        why = ensure_installed()
        if why:
            if os.environ.get("CI"):
                pytest.fail(f"CI must provide RabbitMQ: {why}")
            pytest.skip(why)
        base = Path(tempfile.mkdtemp(prefix="stackwatch-rabbitmq-"))
        _BROKER = RabbitBroker(base).start()
        atexit.register(_stop_session_broker)
    return _BROKER


@pytest.fixture(scope="session")
def rabbitmq():
    """A running RabbitMQ node for the whole session (import this fixture into a test module)."""
    yield session_broker()
    _stop_session_broker()
