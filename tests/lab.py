"""Test helper: the shared OpenStack lab (../shared/lab: a real single-node OpenStack Zed on loopback, brought
up by `scripts/lab.sh`) as a session fixture, `openstack_lab`.

Nothing here starts or stops the lab. When it is not running the fixture skips on a laptop, but fails when CI
(or STACKWATCH_LAB) is set: there the lab must be up (`scripts/lab.sh` before pytest).

Every credential is read from the lab's own files, never written here:
- the broker from nova's `transport_url` (/etc/nova/nova.conf, `[DEFAULT]`), its management API port from the
  lab's RabbitMQ config (/etc/openstack-lab/rabbitmq/rabbitmq.conf, `management.tcp.port`);
- the admin's OS_* variables from /etc/openstack-lab/openrc (`export K=V` lines), for the `openstack` CLI.
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import fcntl
import json
import os
import shlex
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOVA_CONF = Path(os.environ.get("STACKWATCH_LAB_NOVA_CONF", "/etc/nova/nova.conf"))
ETC_LAB = Path(os.environ.get("STACKWATCH_LAB_ETC", "/etc/openstack-lab"))
OPENRC = ETC_LAB / "openrc"
RABBIT_CONF = ETC_LAB / "rabbitmq" / "rabbitmq.conf"
# the system tools first: the lab's `openstack` CLI is Debian's, on the system python3
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Several test runs (developers' sessions) may share one lab: a test that breaks it on purpose (stops a daemon)
# holds this lock exclusively; a test that needs it healthy holds it shared (see `lab_lock`).
LAB_LOCK = Path(os.environ.get("STACKWATCH_LAB_LOCK", "/tmp/stackwatch-lab.lock"))
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the lab is loopback only: no proxy


def lab_dir() -> Path:
    """../shared/lab beside this checkout (as CI lays it out), else /work/shared/lab."""
    for p in (ROOT.parent / "shared" / "lab", Path("/work/shared/lab")):
        if (p / "openstack-lab.sh").exists():
            return p
    return Path("/work/shared/lab")


def parse_openrc(text: str) -> dict[str, str]:
    """`export K=V [K2=V2]` lines (shell quoting allowed) -> {K: V}; comments and other lines ignored."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line, comments=True)
        if words and words[0] == "export":
            words = words[1:]
        for w in words:
            key, sep, value = w.partition("=")
            if sep and key.replace("_", "").isalnum():
                env[key] = value
    return env


def read_nova_conf(path: Path = NOVA_CONF) -> configparser.RawConfigParser:
    cp = configparser.RawConfigParser(strict=False, interpolation=None)
    cp.optionxform = str  # type: ignore[assignment]
    cp.read(path)
    return cp


def conf_get(cp: configparser.RawConfigParser, section: str, key: str, default: str | None = None) -> str | None:
    if section == "DEFAULT":
        return cp.defaults().get(key, default)
    return cp.get(section, key, fallback=default) if cp.has_section(section) else default


def _rabbit_setting(key: str) -> str | None:
    try:
        for line in RABBIT_CONF.read_text().splitlines():
            k, sep, v = line.partition("=")
            if sep and k.strip() == key:
                return v.strip()
    except OSError:
        pass
    return None


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@dataclass
class OpenStackLab:
    """The running lab: its broker (from nova's transport_url), its management API, the admin CLI."""

    dir: Path
    amqp_host: str
    amqp_port: int
    amqp_user: str
    amqp_password: str = field(repr=False)
    vhost: str
    mgmt_port: int
    os_env: dict[str, str] = field(repr=False)
    nova_conf: configparser.RawConfigParser = field(repr=False)

    # ------------------------------------------------------------- broker --
    def amqp_url_without_password(self) -> str:
        """amqp://USER@HOST:PORT/VHOST for a stackwatch config (its password goes in through an env var)."""
        return (f"amqp://{urllib.parse.quote(self.amqp_user, safe='')}@{self.amqp_host}:{self.amqp_port}/"
                f"{urllib.parse.quote(self.vhost, safe='')}")

    def mgmt(self, path: str, method: str = "GET", timeout: float = 10):
        """The lab broker's management HTTP API (JSON); None for a 404."""
        req = urllib.request.Request(f"http://{self.amqp_host}:{self.mgmt_port}/api/{path.lstrip('/')}",
                                     method=method)
        token = base64.b64encode(f"{self.amqp_user}:{self.amqp_password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
        try:
            with _LOCAL.open(req, timeout=timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 404:
                return None
            raise
        return json.loads(body) if body else {}

    def queue_path(self, queue: str) -> str:
        return f"queues/{urllib.parse.quote(self.vhost, safe='')}/{urllib.parse.quote(queue, safe='')}"

    def queue_bindings(self, queue: str) -> set[tuple[str, str]] | None:
        """{(exchange, routing key)} bound to the queue in the lab broker; None if the queue does not exist."""
        rows = self.mgmt(self.queue_path(queue) + "/bindings")
        if rows is None:
            return None
        return {(r["source"], r["routing_key"]) for r in rows if r.get("source")}

    def delete_queue(self, queue: str) -> None:
        self.mgmt(self.queue_path(queue), method="DELETE")

    # ---------------------------------------------------------------- CLI --
    def openstack(self, *args: str, timeout: float = 180, as_json: bool = False, check: bool = True):
        """Run the `openstack` CLI as the lab's admin (OS_* from the openrc only, no proxies).
        as_json adds `-f json` and returns the parsed output; otherwise the CompletedProcess."""
        cmd = ["openstack", *args] + (["-f", "json"] if as_json else [])
        env = {"PATH": SYSTEM_PATH, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", **self.os_env}
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"{shlex.join(cmd)} did not finish within {timeout}s: {exc.stderr!r}") from None
        if check and proc.returncode != 0:
            raise AssertionError(f"{shlex.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        if as_json:
            return json.loads(proc.stdout) if proc.stdout.strip() else None
        return proc

    # ------------------------------------------------------------ nova.conf --
    def nova(self, section: str, key: str, default: str | None = None) -> str | None:
        return conf_get(self.nova_conf, section, key, default)


def lab_problem() -> str | None:
    """Why the lab is not usable (None when it is): config files, keystone, the broker."""
    for path in (NOVA_CONF, OPENRC):
        if not path.exists():
            return f"{path} missing (the lab is not installed)"
    try:
        with _LOCAL.open("http://127.0.0.1:5000/v3", timeout=5) as resp:
            if resp.status != 200:
                return f"keystone answered {resp.status}"
    except (OSError, ValueError) as exc:
        return f"keystone does not answer on 127.0.0.1:5000 ({exc})"
    url = conf_get(read_nova_conf(), "DEFAULT", "transport_url")
    if not url:
        return f"no transport_url in {NOVA_CONF}"
    parts = urllib.parse.urlsplit(url)
    if not _port_open(parts.hostname or "127.0.0.1", parts.port or 5672):
        return f"the lab's RabbitMQ does not answer on {parts.hostname}:{parts.port}"
    return None


def load_lab() -> OpenStackLab:
    cp = read_nova_conf()
    url = conf_get(cp, "DEFAULT", "transport_url") or ""
    # rabbit://USER:PASS@HOST:PORT[,USER:PASS@HOST2:PORT]/VHOST[?options]: the first host will do
    scheme, _, rest = url.partition("://")
    hosts, _, vpath = rest.partition("/")
    parts = urllib.parse.urlsplit(f"{scheme}://{hosts.split(',')[0]}/")
    if parts.scheme not in ("rabbit", "amqp") or not parts.username or parts.password is None:
        raise RuntimeError(f"unexpected transport_url in {NOVA_CONF} (scheme {parts.scheme!r})")
    vhost = urllib.parse.unquote(vpath.partition("?")[0]) or "/"
    mgmt_port = int(_rabbit_setting("management.tcp.port") or os.environ.get("LAB_RABBIT_MGMT_PORT", "15673"))
    return OpenStackLab(lab_dir(), parts.hostname or "127.0.0.1", parts.port or 5672,
                        urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password), vhost,
                        mgmt_port, parse_openrc(OPENRC.read_text()), cp)


def _required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("STACKWATCH_LAB", "") not in ("", "0")


@pytest.fixture(scope="session")
def openstack_lab() -> OpenStackLab:
    problem = lab_problem()
    if problem:
        message = f"the OpenStack lab is not running: {problem}; bring it up with scripts/lab.sh"
        if _required():
            pytest.fail(message + " (CI / STACKWATCH_LAB set: the lab must be up)")
        pytest.skip(message)
    lab = load_lab()
    deadline = time.time() + 30
    while True:                          # the broker's management API answers a moment after AMQP
        try:
            lab.mgmt("overview")
            break
        except (OSError, ValueError) as exc:
            if time.time() > deadline:
                pytest.fail(f"the lab broker's management API on {lab.amqp_host}:{lab.mgmt_port}: {exc}")
            time.sleep(1)
    return lab


@contextlib.contextmanager
def lab_lock(exclusive: bool):
    """Hold the lab lock: exclusive while a test stops lab daemons (fault injection), shared while a test needs
    the lab healthy. Waits for the other holders; within one pytest run tests are sequential, so it never
    blocks there."""
    LAB_LOCK.touch(exist_ok=True)
    with open(LAB_LOCK, "r") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture
def healthy_lab(openstack_lab):
    """The lab, held shared for one test: nobody stops a daemon of it meanwhile."""
    with lab_lock(exclusive=False):
        yield openstack_lab


@pytest.fixture
def lab_faults(openstack_lab):
    """The lab, held exclusively for one test that stops and restarts daemons (`openstack-lab.sh stop X`)."""
    with lab_lock(exclusive=True):
        yield openstack_lab
