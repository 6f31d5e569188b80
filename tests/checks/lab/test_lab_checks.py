"""The OpenStack and RabbitMQ checks against the real lab (../shared/lab: OpenStack Zed on loopback).

- happy paths: every OpenStack check is OK on the healthy lab, in-process and through `stackwatch-check`;
- heartbeat: nova-compute stopped is tests/e2e/test_lab_compute_down.py (one stop shared with the alerting and
  probe tests);
- RabbitMQ: a queue of our own on the lab broker, N messages published and nobody consuming, turns the check
  WARNING then CRITICAL by its thresholds; the queue is deleted afterwards;
- instances: a server of our own reset to ERROR turns os-instances WARNING (and is deleted afterwards).

Skipped on a laptop without the lab, failures when CI or STACKWATCH_LAB is set (tests/lab.py).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from stackwatch.checks import get_check
from stackwatch.states import State
from tests.conftest import console_script
from tests.lab import SYSTEM_PATH, OpenStackLab, healthy_lab, openstack_lab  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.timeout(600),
              pytest.mark.filterwarnings("ignore::DeprecationWarning:openstack"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack")]

# the lab's OpenStack RPC queues, which have consumers (the notification queues have none, by design)
RPC_QUEUES = "conductor*,scheduler*,compute*,cinder-*"


@pytest.fixture
def admin_env(openstack_lab: OpenStackLab, monkeypatch):
    for key in list(os.environ):
        if key.startswith("OS_"):
            monkeypatch.delenv(key)
    for key, value in openstack_lab.os_env.items():
        monkeypatch.setenv(key, value)
    return openstack_lab.os_env


def check(name: str, **options):
    plugin = get_check(name)
    return plugin(plugin.Options(**options))


# ------------------------------------------------------------------------------------------ happy --
@pytest.mark.parametrize("name, options, words", [
    ("os-compute-services", {}, "services up"),
    ("os-volume-services", {}, "services up"),
    ("os-network-agents", {}, "0 agents"),   # the lab runs neutron-server without agents
    ("os-endpoints", {"warning": "30", "critical": "60", "token_warning": "30", "token_critical": "60"},
     "endpoints answer"),
    ("os-capacity", {}, "of 16000 free"),  # vCPUs of the fake driver: 1000 x allocation ratio 16 (others may boot)
    ("os-instances", {}, "instances in ERROR"),
])
def test_every_openstack_check_is_ok_on_the_healthy_lab(healthy_lab, admin_env, name, options, words):
    outcome = check(name, **options).run()
    assert outcome.state is State.OK, outcome
    assert words in outcome.summary


def test_heartbeats_see_the_lab_services(healthy_lab, admin_env):
    outcome = check("os-compute-services").run()
    perf = {p.label: p.value for p in outcome.perfdata}
    assert perf["total"] >= 3 and perf["down"] == 0     # nova-compute, -conductor, -scheduler at least
    outcome = check("os-endpoints", interface="internal", warning="30", critical="60", token_warning="30",
                    token_critical="60").run()
    labels = {p.label for p in outcome.perfdata}
    assert {"token", "compute_internal_RegionOne", "identity_internal_RegionOne", "placement_internal_RegionOne",
            "image_internal_RegionOne", "network_internal_RegionOne"} <= labels


def test_stackwatch_check_against_the_lab(healthy_lab, admin_env):
    env = {"PATH": SYSTEM_PATH, "HOME": os.environ.get("HOME", "/root"), **admin_env}
    proc = subprocess.run([console_script("stackwatch-check"), "os-compute-services", "--binary", "nova-compute",
                           "-t", "60"], capture_output=True, text=True, env=env, timeout=90)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("NOVA SERVICES OK - 1 of 1 services up | down=0;;0;0;1")
    proc = subprocess.run([console_script("stackwatch-check"), "os-compute-services", "--cloud", "no-such-cloud"],
                          capture_output=True, text=True, env=env, timeout=90)
    assert proc.returncode == 3 and proc.stdout.startswith("NOVA SERVICES UNKNOWN - ") and proc.stdout.count("\n") == 1


# --------------------------------------------------------------------------------------- rabbitmq --
class Broker:
    """Our own queue on the lab broker, through its management API."""

    def __init__(self, lab: OpenStackLab, queue: str):
        self.lab, self.queue = lab, queue
        self.base = f"http://{lab.amqp_host}:{lab.mgmt_port}/api"
        self.vhost = urllib.parse.quote(lab.vhost, safe="")
        token = base64.b64encode(f"{lab.amqp_user}:{lab.amqp_password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def _call(self, method: str, path: str, body=None):
        req = urllib.request.Request(f"{self.base}/{path}", method=method, headers=self.headers,
                                     data=None if body is None else json.dumps(body).encode())
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as resp:
            data = resp.read()
        return json.loads(data) if data else None

    def declare(self):
        self._call("PUT", f"queues/{self.vhost}/{urllib.parse.quote(self.queue, safe='')}",
                   {"auto_delete": False, "durable": False, "arguments": {}})

    def publish(self, n: int):
        for i in range(n):
            routed = self._call("POST", f"exchanges/{self.vhost}/amq.default/publish",
                                {"properties": {}, "routing_key": self.queue, "payload": f"stackwatch test {i}",
                                 "payload_encoding": "string"})
            assert routed == {"routed": True}

    def delete(self):
        try:
            self._call("DELETE", f"queues/{self.vhost}/{urllib.parse.quote(self.queue, safe='')}")
        except OSError:
            pass


def _until(run, wanted: State, text: str = "", timeout: float = 60):
    """Run the check until it says `wanted` with `text` in its summary (the broker refreshes its queue
    statistics every few seconds)."""
    deadline = time.time() + timeout
    outcome = run()
    while outcome.state is not wanted or text not in outcome.summary:
        assert time.time() < deadline, f"still {outcome.state.name}: {outcome.summary}"
        time.sleep(1)
        outcome = run()
    return outcome


@pytest.fixture
def rabbit_env(openstack_lab, monkeypatch):
    monkeypatch.setenv("STACKWATCH_RABBITMQ_USER", openstack_lab.amqp_user)
    monkeypatch.setenv("STACKWATCH_LAB_RABBIT_PASSWORD", openstack_lab.amqp_password)
    return f"http://{openstack_lab.amqp_host}:{openstack_lab.mgmt_port}"


def test_rabbitmq_is_ok_on_the_healthy_lab(healthy_lab, rabbit_env):
    outcome = check("rabbitmq", url=rabbit_env, password_env="STACKWATCH_LAB_RABBIT_PASSWORD", queues=RPC_QUEUES).run()
    assert outcome.state is State.OK, outcome
    perf = {p.label: p.value for p in outcome.perfdata}
    assert perf["connections"] > 0 and perf["no_consumer"] == 0
    assert f"mem_used_{healthy_lab.mgmt('nodes')[0]['name']}" in perf


def test_queue_with_messages_and_no_consumer_warns_then_goes_critical(healthy_lab, rabbit_env):
    queue = f"stackwatch.check-test.{os.getpid()}.{int(time.time())}"
    broker = Broker(healthy_lab, queue)
    broker.declare()
    try:
        rmq = check("rabbitmq", url=rabbit_env, password_env="STACKWATCH_LAB_RABBIT_PASSWORD", queues=queue,
                    warning="5", critical="20", no_consumer_warning="0")
        first = rmq.run()                               # a queue just declared has no counts yet: no OK
        assert first.state is State.OK or "gives no message counts" in first.summary, first
        _until(rmq.run, State.OK)                       # counted, empty: nothing to say
        broker.publish(3)
        outcome = _until(rmq.run, State.WARNING, f"({queue}=3)")      # 3 messages, no consumer
        assert outcome.summary.startswith(f"1 queues with messages and no consumer ({queue}=3)")
        broker.publish(7)                                                # 10 > 5: the depth warns too
        outcome = _until(rmq.run, State.WARNING, f"queue {queue} has 10 messages (outside range 0:5)")
        broker.publish(15)                                               # 25 > 20: the depth is critical
        outcome = _until(rmq.run, State.CRITICAL, f"queue {queue} has 25 messages (outside range 0:20)")
        strict = check("rabbitmq", url=rabbit_env, password_env="STACKWATCH_LAB_RABBIT_PASSWORD", queues=queue,
                       warning="100", critical="1000", no_consumer_critical="0")
        assert strict.run().state is State.CRITICAL      # the same queue judged by the no-consumer threshold
    finally:
        broker.delete()
    assert healthy_lab.mgmt(healthy_lab.queue_path(queue)) is None


# -------------------------------------------------------------------------------------- instances --
def test_an_instance_in_error_is_reported(healthy_lab, admin_env):
    import openstack

    conn = openstack.connect(load_envvars=True)
    image = conn.image.find_image("cirros-lab")
    assert image is not None, "the lab's cirros-lab image is missing"
    name = f"stackwatch-check-error-{os.getpid()}"
    server = conn.compute.create_server(name=name, flavor_id="1", image_id=image.id, networks="none")
    try:
        conn.compute.wait_for_server(server, status="ACTIVE", wait=120)
        conn.compute.reset_server_state(server, "error")
        outcome = _until(check("os-instances").run, State.WARNING, name, timeout=30)
        assert f"{name} ({server.id})" in outcome.summary
        outcome = check("os-instances", error_critical="0").run()
        assert outcome.state is State.CRITICAL
    finally:
        conn.compute.delete_server(server, ignore_missing=True)
        conn.compute.wait_for_delete(server, wait=120)
        conn.close()
