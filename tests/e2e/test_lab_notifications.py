"""Against the real OpenStack lab (../shared/lab, brought up by scripts/lab.sh): `stackwatch serve` consumes the
lab's RabbitMQ; a server is booted and deleted with the real `openstack` CLI; stackwatch then shows the
instance's lifecycle and its boot time (CLI and web page), finds the create's request, and runs the usage
audit on what it captured.

What the lab's nova emits is read from its nova.conf, not assumed: legacy notifications on
`notifications.info` and/or versioned ones on `versioned_notifications.info` per `notification_format`, and
`compute.instance.exists` only from the periodic usage audit (`instance_usage_audit`, once per
`instance_usage_audit_period` for the period just ended). A server booted and deleted within this test is
therefore normally audited as "missing" (alive in the period, no exists captured); the test asserts exactly
that, or "verified" if an exists for it did arrive. A second test rebuilds a server, which makes nova itself
send an exists for the current period, and the audit verifies it. Nothing is ever published into the lab by
the tests: every notification comes from nova.

Needs the lab running (`scripts/lab.sh`): skipped on a laptop without it, a failure when CI or STACKWATCH_LAB
is set (tests/lab.py). Each test boots one m1.tiny server and always deletes it; its stackwatch queue is
deleted from the lab broker afterwards.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
import urllib.request
import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from tests.conftest import console_script
from tests.e2e.test_serve import free_port, shipped_config_with_free_ports, start
from tests.lab import OpenStackLab, healthy_lab, openstack_lab  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
PASSWORD_ENV = "STACKWATCH_LAB_AMQP_PASSWORD"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def stackwatch(config: Path, data: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([console_script("stackwatch"), *args, "--config", str(config), "--data-dir", str(data)],
                          capture_output=True, text=True, timeout=timeout)


def wait_bound(lab: OpenStackLab, queue: str, wanted: set[tuple[str, str]], serve: subprocess.Popen,
               timeout: float = 90) -> set[tuple[str, str]]:
    """Until the lab broker shows our queue with every wanted binding (the consumer's topology is set up)."""
    deadline = time.time() + timeout
    bound: set[tuple[str, str]] | None = None
    while time.time() < deadline:
        if serve.poll() is not None:
            pytest.fail(f"serve exited {serve.returncode}: {serve.stderr.read()[-3000:]}")
        bound = lab.queue_bindings(queue)
        if bound is not None and wanted <= bound:
            return bound
        time.sleep(0.5)
    pytest.fail(f"queue {queue} not bound to {sorted(wanted)} in the lab broker within {timeout}s: {bound}")


def wait_stored(db_path: Path, instance: str, event_types: set[str], timeout: float = 120) -> list[tuple]:
    """Until the archive holds every wanted event type for the instance; returns its rows (event_type, name,
    request_id, ts)."""
    deadline = time.time() + timeout
    rows: list[tuple] = []
    while time.time() < deadline:
        if db_path.exists():
            db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
            try:
                rows = db.execute("SELECT event_type, name, request_id, ts FROM notifications "
                                  "WHERE instance_uuid = ? ORDER BY ts", (instance,)).fetchall()
            except sqlite3.OperationalError:
                rows = []
            finally:
                db.close()
            if event_types <= {r[0] for r in rows}:
                return rows
        time.sleep(1)
    pytest.fail(f"not archived within {timeout}s: {sorted(event_types - {r[0] for r in rows})} "
                f"(have {sorted({r[0] for r in rows})})")


@dataclass
class LabServe:
    """`stackwatch serve` consuming the lab's broker into its own data dir, and what nova is set to emit."""

    config: Path
    data: Path
    port: int
    proc: subprocess.Popen
    queue: str
    notification_format: str
    legacy: bool                     # compute.instance.* on <exchange nova> notifications.info
    versioned: bool                  # instance.* on versioned_notifications.info

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return stackwatch(self.config, self.data, *args)

    def forms(self, *actions: str) -> set[str]:
        """The event types nova sends for these actions (`create.start`...) in the forms it is set to emit."""
        return ({f"compute.instance.{a}" for a in actions if self.legacy}
                | {f"instance.{a}" for a in actions if self.versioned})

    def wait_stored(self, instance: str, event_types: set[str], timeout: float = 120) -> list[tuple]:
        return wait_stored(self.data / "stackwatch.db", instance, event_types, timeout)


@pytest.fixture
def lab_serve(openstack_lab, tmp_path, monkeypatch):  # noqa: F811
    lab: OpenStackLab = openstack_lab
    fmt = (lab.nova("notifications", "notification_format", "unversioned") or "").strip().lower()
    driver = (lab.nova("oslo_messaging_notifications", "driver", "") or "").strip()
    topics = [t.strip() for t in (lab.nova("oslo_messaging_notifications", "topics", "notifications") or "").split(",")]
    versioned_topics = [t.strip() for t in (lab.nova("notifications", "versioned_notifications_topics",
                                                     "versioned_notifications") or "").split(",")]
    if driver in ("", "noop"):
        pytest.fail(f"the lab's nova emits no notifications ([oslo_messaging_notifications] driver = {driver!r})")
    legacy = fmt in ("both", "unversioned") and "notifications" in topics
    versioned = fmt in ("both", "versioned") and "versioned_notifications" in versioned_topics
    if not (legacy or versioned):
        pytest.fail(f"the lab's nova emits nothing stackwatch binds by default: format {fmt}, topics {topics}, "
                    f"versioned topics {versioned_topics}")

    queue = f"stackwatch.lab-test.{uuidlib.uuid4().hex[:10]}"
    config = shipped_config_with_free_ports(tmp_path / "config.yaml")
    raw = yaml.safe_load(config.read_text())
    raw["notifications"] = {"deployments": [{
        "name": "lab", "urls": [lab.amqp_url_without_password()], "password": {"env": PASSWORD_ENV},
        "queue": queue, "max_length": 100000}]}
    config.write_text(yaml.safe_dump(raw))
    assert lab.amqp_password not in config.read_text()  # the config names the variable, never the password
    monkeypatch.setenv(PASSWORD_ENV, lab.amqp_password)
    port = free_port()
    proc = start(tmp_path / "data", port, config=config)
    try:
        wanted = ({("nova", "notifications.info")} if legacy else set()) | (
            {("nova", "versioned_notifications.info")} if versioned else set())
        wait_bound(lab, queue, wanted, proc)
        yield LabServe(config, tmp_path / "data", port, proc, queue, fmt, legacy, versioned)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=60)
        finally:
            try:
                lab.delete_queue(queue)  # durable: it would keep collecting the lab's notifications otherwise
            except OSError:
                pass
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]


class LabServer:
    """One server booted in the lab for a test, deleted by `delete()` or, whatever happened, by `cleanup()`."""

    def __init__(self, lab: OpenStackLab) -> None:
        self.lab = lab
        self.name = f"stackwatch-lab-{uuidlib.uuid4().hex[:8]}"
        self.id: str | None = None
        self.deleted = False

    def boot(self) -> dict:
        server = self.lab.openstack("--os-compute-api-version", "2.37", "server", "create", "--flavor", "m1.tiny",
                                    "--image", "cirros-lab", "--nic", "none", "--wait", self.name, as_json=True,
                                    timeout=300)
        self.id = server["id"]
        assert server["status"] == "ACTIVE", server
        return server

    def request_of(self, action: str) -> str:
        """The request id nova recorded for the instance action (`openstack server event list`)."""
        actions = self.lab.openstack("server", "event", "list", self.id, as_json=True)
        return next(a["Request ID"] for a in actions if a["Action"] == action)

    def delete(self) -> None:
        self.lab.openstack("server", "delete", "--wait", self.id, timeout=300)
        self.deleted = True

    def cleanup(self) -> None:
        if not self.deleted:  # by id, or by name when the create failed half-way
            self.lab.openstack("server", "delete", "--wait", self.id or self.name, timeout=300, check=False)


@pytest.fixture
def lab_server(openstack_lab):  # noqa: F811
    server = LabServer(openstack_lab)
    try:
        yield server
    finally:
        server.cleanup()


def test_boot_and_delete_a_server_in_the_lab(healthy_lab, lab_serve, lab_server, record_property):  # noqa: F811
    lab, sw, vm = healthy_lab, lab_serve, lab_server

    # --- boot and delete a real server (nova's fake driver), with the real CLI
    before = time.time() - 1
    t0 = time.monotonic()
    vm.boot()
    create_wall = time.monotonic() - t0
    server_id = vm.id
    shown = lab.openstack("server", "show", server_id, as_json=True)
    create_request = vm.request_of("create")
    t0 = time.monotonic()
    vm.delete()
    delete_wall = time.monotonic() - t0

    # --- captured: every form nova is set to emit, up to the deletion's end
    rows = sw.wait_stored(server_id, sw.forms("create.start", "create.end", "delete.start", "delete.end"))
    time.sleep(2)  # a trailing instance.update of the delete may follow its delete.end
    rows = sw.wait_stored(server_id, set())
    after = time.time() + 1
    event_types = sorted({r[0] for r in rows})
    record_property("event_types", event_types)

    # --- the lifecycle on the CLI: the boot (create) and its duration, the delete, the states
    show = sw.cli("events", "show", server_id, "--json")
    assert show.returncode == 0, show.stderr
    lc = json.loads(show.stdout)
    assert lc["instance_uuid"] == server_id
    assert lc["flavor"] == "m1.tiny" and lc["host"] == shown["OS-EXT-SRV-ATTR:host"]
    assert lc["tenant_id"] == shown["project_id"]
    ops = lc["operations"]
    summary = [(o["operation"], o["outcome"], o["duration"]) for o in ops]
    creates = [o for o in ops if o["operation"] == "create"]
    deletes = [o for o in ops if o["operation"] == "delete"]
    # one boot, one delete, everything finished: each operation once, whatever forms nova sends it in
    assert [o["outcome"] for o in creates] == ["ok"], summary
    assert [o["outcome"] for o in deletes] == ["ok"], summary
    assert all(o["outcome"] == "ok" for o in ops), summary
    boot = creates[0]
    boot_time = boot["duration"]
    assert boot_time is not None and 0 < boot_time < create_wall, (boot_time, create_wall)
    assert boot["request_id"] == create_request
    assert 0 < deletes[0]["duration"] < delete_wall
    states = {s["state"] for s in lc["states"]}
    assert {"building", "active", "deleted"} <= states, states
    assert lc["launched_at"] is not None and lc["deleted_at"] is not None
    assert before < lc["launched_at"] < lc["deleted_at"] < after
    record_property("boot_time_s", boot_time)
    record_property("delete_time_s", deletes[0]["duration"])

    text = sw.cli("events", "show", server_id)
    assert text.returncode == 0, text.stderr
    assert f"{boot_time:.3f}s" in text.stdout and f"stackwatch trace {server_id}" in text.stdout

    # --- the create's request: every notification it caused (conductor, scheduler, compute)
    req = sw.cli("events", "request", create_request)
    assert req.returncode == 0, req.stderr
    lines = req.stdout.splitlines()
    assert any("instance.create.start" in ln and server_id in ln for ln in lines), req.stdout
    assert any("instance.create.end" in ln and server_id in ln for ln in lines), req.stdout
    assert any("scheduler.select_destinations.end" in ln for ln in lines), req.stdout
    # every archived notification of the instance with that request id, and no other instance's
    assert sum(1 for ln in lines if server_id in ln) == sum(1 for r in rows if r[2] == create_request)
    assert all(ln.split()[-1] in (server_id, "-") for ln in lines), req.stdout

    # --- the usage audit over the period, on what was captured
    exists = [r for r in rows if r[1] == "instance.exists"]
    audit = sw.cli("events", "audit", "--start", iso(before), "--end", iso(after), "--json")
    assert audit.returncode == 0, audit.stderr
    report = json.loads(audit.stdout)
    mine = [a for a in report["instances"] if a["instance_uuid"] == server_id]
    assert len(mine) == 1, report
    verdict = mine[0]
    if exists:   # nova's periodic usage audit happened to report it already: it must agree
        assert verdict["status"] == "verified" and verdict["exists"] == len(exists), verdict
    else:        # booted and deleted within one audit period: nova has sent no exists yet, and that is said
        assert verdict["status"] == "missing", verdict
        assert verdict["reasons"] == ["alive in the period, no exists"] and verdict["exists"] == 0
    assert verdict["tenant_id"] == shown["project_id"] and verdict["flavor"] == "m1.tiny"
    usage = [u for u in report["usage"] if u["tenant_id"] == shown["project_id"] and u["flavor"] == "m1.tiny"]
    alive_hours = (lc["deleted_at"] - lc["launched_at"]) / 3600
    assert usage and usage[0]["instances"] >= 1 and usage[0]["instance_hours"] >= alive_hours - 1e-6, usage
    assert usage[0]["vcpu_hours"] >= alive_hours - 1e-6  # m1.tiny: 1 vCPU
    record_property("audit_status", verdict["status"])

    # --- the web page: the lifecycle with the boot time, the request, the link to the log trace
    with urllib.request.urlopen(f"http://127.0.0.1:{sw.port}/events/instance/{server_id}", timeout=10) as resp:
        status, html = resp.status, resp.read().decode()
    assert status == 200
    assert "create (boot time)" in html and f"{boot_time:.3f} s" in html, html
    assert create_request in html
    assert f'<a href="/trace/{server_id}">log trace</a>' in html, html

    print("lab result:", json.dumps({
        "server": server_id, "boot_time_s": round(boot_time, 3), "delete_time_s": round(deletes[0]["duration"], 3),
        "cli_create_wall_s": round(create_wall, 1), "cli_delete_wall_s": round(delete_wall, 1),
        "audit": verdict["status"], "audit_reasons": verdict["reasons"], "exists_captured": len(exists),
        "notification_format": sw.notification_format, "event_types": event_types}))


def test_rebuild_makes_nova_send_exists_and_the_audit_verifies_it(healthy_lab, lab_serve, lab_server,  # noqa: F811
                                                                   record_property):
    """A rebuild makes nova report the instance's usage so far (`notify_usage_exists(current_period=True)`):
    a real `compute.instance.exists` / `instance.exists` without waiting for the hourly audit. The audit
    checks it against the lifecycle stackwatch built: verified."""
    lab, sw, vm = healthy_lab, lab_serve, lab_server
    before = time.time() - 1
    vm.boot()
    lab.openstack("server", "rebuild", "--image", "cirros-lab", "--wait", vm.id, timeout=300)
    vm.delete()
    wanted = sw.forms("create.end", "rebuild.end", "delete.end", "exists")
    rows = sw.wait_stored(vm.id, wanted)
    after = time.time() + 1
    exists = [r for r in rows if r[1] == "instance.exists"]
    assert {r[0] for r in exists} == sw.forms("exists"), exists
    record_property("exists_event_types", sorted({r[0] for r in exists}))

    report = json.loads(sw.cli("events", "audit", "--start", iso(before), "--end", iso(after), "--json").stdout)
    mine = [a for a in report["instances"] if a["instance_uuid"] == vm.id]
    assert len(mine) == 1 and mine[0]["status"] == "verified", mine or report
    assert mine[0]["exists"] == len(exists) and mine[0]["reasons"] == []
    show = json.loads(sw.cli("events", "show", vm.id, "--json").stdout)
    assert len(show["launches"]) == 2  # the boot and the rebuild's relaunch; the exists names the first
    record_property("audit_status", mine[0]["status"])
    print("lab rebuild result:", json.dumps({"server": vm.id, "audit": mine[0]["status"],
                                             "exists": sorted(r[0] for r in exists)}))


def resource_events(db_path: Path, service: str):
    """The archive's volume/image notifications, as the inventory job reads them (read-only, beside serve)."""
    from stackwatch.stacktach.archive import ResourceEvent

    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return [ResourceEvent(*r) for r in db.execute(
            "SELECT resource_id, ts, name, state, size, tenant_id, host FROM notifications "
            "WHERE service = ? AND resource_id IS NOT NULL ORDER BY ts, id", (service,))]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def wait_for(what: str, check, timeout: float = 120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(1)
    pytest.fail(f"not within {timeout}s: {what}")


def test_volume_and_image_lifecycles_feed_the_inventory(healthy_lab, lab_serve, tmp_path):  # noqa: F811
    """cinder's volume.* (on the `openstack` exchange) and glance's image.* notifications, sent by the lab's own
    services for a volume and an image created and deleted with the real CLI, make them appear in and leave the
    event-driven inventory."""
    from stackwatch.stacktach import inventory

    lab, sw = healthy_lab, lab_serve
    wait_bound(lab, sw.queue, {("openstack", "notifications.info"), ("glance", "notifications.info")}, sw.proc)
    db_path = sw.data / "stackwatch.db"
    tag = uuidlib.uuid4().hex[:8]
    vol = lab.openstack("volume", "create", "--size", "1", f"stackwatch-lab-vol-{tag}", as_json=True)
    image_file = tmp_path / "image.raw"
    image_file.write_bytes(b"\0" * 65536)
    image = None

    def current(service: str, rid: str, status: str):
        fold = inventory.volumes if service == "cinder" else inventory.images
        found = fold(resource_events(db_path, service)).get(rid)
        return found if found is not None and found.status == status else None
    try:
        v = wait_for("the volume available in the inventory", lambda: current("cinder", vol["id"], "available"))
        assert v.size == 1.0 and v.tenant != "unknown" and v.host != "unknown"
        image = lab.openstack("image", "create", "--file", str(image_file), "--disk-format", "raw",
                              "--container-format", "bare", f"stackwatch-lab-img-{tag}", as_json=True)
        i = wait_for("the image active in the inventory", lambda: current("glance", image["id"], "active"))
        assert i.size == 65536.0
        lab.openstack("volume", "delete", vol["id"])
        lab.openstack("image", "delete", image["id"])
        wait_for("the volume gone from the inventory",
                 lambda: vol["id"] not in inventory.volumes(resource_events(db_path, "cinder")))
        wait_for("the image gone from the inventory",
                 lambda: image["id"] not in inventory.images(resource_events(db_path, "glance")))
        names = {e.name for e in resource_events(db_path, "cinder") if e.resource_id == vol["id"]}
        assert {"volume.create.start", "volume.create.end", "volume.delete.start", "volume.delete.end"} <= names
        print("lab inventory result:", json.dumps({"volume": vol["id"], "cinder_events": sorted(names),
                                                   "glance_events": sorted({e.name for e in resource_events(
                                                       db_path, "glance") if e.resource_id == image["id"]})}))
    finally:
        lab.openstack("volume", "delete", vol["id"], check=False)
        if image is not None:
            lab.openstack("image", "delete", image["id"], check=False)
