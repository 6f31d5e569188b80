"""Every OpenStack check against a misbehaving cloud (tests/checks/fake_cloud.py, real HTTP on loopback, the real
openstacksdk and keystoneauth): a 500, a body that is not JSON, JSON of another shape, a hang, refused
credentials, a catalog without the service, nothing listening. Each is UNKNOWN with the reason in one line,
never a traceback and never OK. The os-endpoints check judges the endpoints themselves: a 500 or a hang of
one endpoint is CRITICAL there, while keystone failing is UNKNOWN."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from stackwatch.checks import get_check
from stackwatch.states import State
from tests.checks.fake_cloud import FakeCloud
from tests.conftest import console_script

# openstacksdk warns about its own deprecations (influxdb...) while loading a cloud config; not ours to fix
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:openstack"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack")]

CHECK_OF = {"compute": "os-compute-services", "volume": "os-volume-services", "network": "os-network-agents",
            "placement": "os-capacity"}


@pytest.fixture
def cloud(monkeypatch):
    fake = FakeCloud()
    fake.hang_seconds = 2.0
    for key in list(os.environ):
        if key.startswith("OS_"):
            monkeypatch.delenv(key)
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", os.devnull)  # no clouds.yaml of this machine's
    yield fake
    fake.close()


def run(name: str, **options):
    plugin = get_check(name)
    return plugin(plugin.Options(api_timeout=0.5, **options)).run()


def assert_unknown(outcome, *words):
    assert outcome.state is State.UNKNOWN, outcome
    assert "\n" not in outcome.summary and "Traceback" not in outcome.summary
    for word in words:
        assert word in outcome.summary, outcome.summary


@pytest.mark.parametrize("name", ["os-compute-services", "os-volume-services", "os-network-agents",
                                  "os-instances", "os-endpoints"])
def test_a_well_behaved_fake_is_ok(cloud, name):
    outcome = run(name)
    assert outcome.state is State.OK, outcome


@pytest.mark.parametrize("service, mode, words", [
    ("compute", "500", ["HTTP 500"]), ("volume", "500", ["HTTP 500"]), ("network", "500", ["HTTP 500"]),
    ("placement", "500", ["placement"]),
    ("compute", "garbage", ["malformed JSON"]), ("volume", "garbage", ["malformed JSON"]),
    ("network", "garbage", ["malformed JSON"]), ("placement", "garbage", ["placement"]),
    ("compute", "shape", ["malformed answer"]), ("volume", "shape", ["malformed answer"]),
    ("network", "shape", ["malformed answer"]), ("placement", "shape", ["malformed answer"]),
    ("compute", "hang", ["timed out"]), ("network", "hang", ["timed out"]),
])
def test_service_failures_are_unknown(cloud, service, mode, words):
    cloud.behaviour[service] = mode
    assert_unknown(run(CHECK_OF[service]), *words)


@pytest.mark.parametrize("mode, words", [("500", ["HTTP 500"]), ("garbage", ["malformed JSON"]),
                                         ("shape", ["malformed answer"]), ("hang", ["timed out"])])
def test_instances_failures_are_unknown(cloud, mode, words):
    cloud.behaviour["compute"] = mode
    assert_unknown(run("os-instances"), "servers", *words)


@pytest.mark.parametrize("name", sorted(set(CHECK_OF.values()) | {"os-instances", "os-endpoints"}))
def test_refused_credentials_are_unknown(cloud, name):
    cloud.behaviour["keystone"] = "401"
    assert_unknown(run(name), "credentials refused")


def test_keystone_500_and_hang_are_unknown(cloud):
    cloud.behaviour["keystone"] = "500"
    assert_unknown(run("os-compute-services"), "HTTP 500")
    cloud.behaviour["keystone"] = "hang"
    assert_unknown(run("os-endpoints"), "timed out")


@pytest.mark.parametrize("service", ["volume", "placement"])
def test_missing_catalog_endpoint_is_unknown(cloud, service):
    cloud.missing.add(service)
    assert_unknown(run(CHECK_OF[service]), "not present in the service catalog")


def test_nothing_listening_is_unknown(monkeypatch, cloud):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("OS_AUTH_URL", f"http://127.0.0.1:{port}/v3")
    assert_unknown(run("os-compute-services"), "unreachable")


def test_no_cloud_configured_is_unknown(monkeypatch, cloud):
    monkeypatch.delenv("OS_AUTH_URL")
    assert_unknown(run("os-compute-services"), "no cloud configured")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", os.devnull)
    assert_unknown(run("os-compute-services", cloud="nosuch"), "nosuch")


def test_endpoints_judge_each_endpoint(cloud):
    cloud.behaviour["compute"] = "500"
    outcome = run("os-endpoints")
    assert outcome.state is State.CRITICAL and "answers HTTP 500" in outcome.summary
    cloud.behaviour["compute"] = "hang"
    outcome = run("os-endpoints")
    assert outcome.state is State.CRITICAL and "does not answer: timed out" in outcome.summary
    perf = {p.label for p in outcome.perfdata}
    assert {"token", "compute_public_RegionOne", "network_public_RegionOne"} <= perf


def test_the_session_recovers_after_a_failure(cloud):
    plugin = get_check("os-compute-services")
    check = plugin(plugin.Options(api_timeout=0.5))
    cloud.behaviour["compute"] = "500"
    assert check.run().state is State.UNKNOWN
    cloud.behaviour["compute"] = "ok"
    assert check.run().state is State.OK


def test_stackwatch_check_prints_one_line_and_exits_3(cloud):
    cloud.behaviour["compute"] = "garbage"
    env = {k: v for k, v in os.environ.items()}
    proc = subprocess.run([console_script("stackwatch-check"), "os-compute-services", "--api-timeout", "2"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 3
    assert proc.stdout.count("\n") == 1 and proc.stdout.startswith("NOVA SERVICES UNKNOWN - compute services: malformed JSON")


def test_openstack_is_imported_only_inside_probe():
    code = ("import sys; from stackwatch.checks import get_check\n"
            "for n in ('os-compute-services', 'os-endpoints', 'os-capacity', 'os-instances', 'rabbitmq', 'amqp-log'):\n"
            "    get_check(n)\n"
            "print(sorted(m for m in ('openstack', 'keystoneauth1', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
