"""The image probe against a fake glance that answers 500, garbage or nothing, and a keystone that refuses
expired credentials or a catalog without glance: a clear CRITICAL (or UNKNOWN) naming the cause, never a
traceback, and no probe image left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stackwatch.checks.probes import core
from stackwatch.checks.probes.runner import kind_lock
from stackwatch.checks.probes.service import run_probe
from stackwatch.openstack.config import OpenStackConfig, ProbeConfig
from stackwatch.states import State
from tests.openstack.conftest import fake_cloud  # noqa: F401 (fixture)

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:openstack"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack")]

CONFIG = OpenStackConfig(enabled=True, timeout=2, probes=ProbeConfig(step_timeout=3, image_size_mb=1))


def probe(tmp_path: Path):
    result = run_probe("image", CONFIG, tmp_path)
    return result, core.evaluate(result, 60)


def test_the_fake_glance_passes_the_probe(fake_cloud, tmp_path):  # noqa: F811
    result, outcome = probe(tmp_path)
    assert outcome.state is State.OK, outcome.summary
    assert [s.name for s in result.steps] == ["connect", "create", "upload", "wait-active", "download-verify",
                                              "delete"]
    assert fake_cloud.created_images == {}


def test_a_corrupt_download_fails_the_verify_step(fake_cloud, tmp_path):  # noqa: F811
    fake_cloud.image_data = CorruptingDict()
    result, outcome = probe(tmp_path)
    assert outcome.state is State.CRITICAL
    assert outcome.summary.startswith("step download-verify failed") and "sha512 differs" in outcome.summary
    assert fake_cloud.created_images == {}


class CorruptingDict(dict):
    def __setitem__(self, key, value):
        super().__setitem__(key, value[:-1] + bytes([value[-1] ^ 1]))


@pytest.mark.parametrize("where, fault, step, cause", [
    ("POST /image/v2/images$", "500", "create", "HTTP 500: Unexpected API Error"),
    ("POST /image/v2/images$", "garbage", "create", "answer is not JSON"),
    ("PUT /image/v2/images/.*/file", "500", "upload", "HTTP 500"),
    ("GET /image/v2/images/[^/]+$", "hang", "wait-active", "no answer"),
])
def test_a_failing_glance_is_critical_naming_the_step_and_leaves_nothing(fake_cloud, tmp_path, where, fault,  # noqa: F811
                                                                         step, cause):
    fake_cloud.hang_seconds = 4
    fake_cloud.faults[where] = fault
    result, outcome = probe(tmp_path)
    assert outcome.state is State.CRITICAL
    assert outcome.summary.startswith(f"step {step} failed")
    assert cause in outcome.summary
    if fault != "hang":  # the fake's answer carried a request id: it is named, with its trace link
        assert "(request req-" in outcome.summary and "trace /trace/req-" in outcome.summary
    assert "\n" not in outcome.summary and "Traceback" not in outcome.summary
    assert fake_cloud.created_images == {}, "the probe left its image behind"


def test_expired_credentials_fail_the_connect_step(fake_cloud, tmp_path):  # noqa: F811
    fake_cloud.expired = True
    result, outcome = probe(tmp_path)
    assert outcome.state is State.CRITICAL
    assert outcome.summary.startswith("step connect failed") and "expired" in outcome.summary
    assert not any(m == "POST" and "/image" in p for m, p in fake_cloud.requests)


def test_a_catalog_without_glance_is_critical_with_no_endpoint(fake_cloud, tmp_path):  # noqa: F811
    fake_cloud.catalog_without.add("image")
    result, outcome = probe(tmp_path)
    assert outcome.state is State.CRITICAL
    assert "step create failed" in outcome.summary and "no endpoint" in outcome.summary


def test_a_second_probe_of_a_kind_is_unknown_while_one_runs(fake_cloud, tmp_path):  # noqa: F811
    with kind_lock(tmp_path, "image"):
        result, outcome = probe(tmp_path)
    assert outcome.state is State.UNKNOWN and "another image probe is running" in outcome.summary
    assert fake_cloud.created_images == {}


def check(args, env):
    return subprocess.run([sys.executable, "-m", "stackwatch.checks.runner", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_stackwatch_check_prints_one_status_line(fake_cloud, tmp_path):  # noqa: F811
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    ok = check(["probe-image", "--data-dir", str(tmp_path), "--image-size-mb", "1", "-t", "60"], env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("IMAGE PROBE OK - 6 steps in") and "| connect=" in ok.stdout
    fake_cloud.expired = True
    bad = check(["probe-image", "--data-dir", str(tmp_path), "-t", "60"], env)
    assert bad.returncode == 2
    assert bad.stdout.startswith("IMAGE PROBE CRITICAL - step connect failed") and len(bad.stdout.splitlines()) == 1
    assert "Traceback" not in bad.stdout + bad.stderr
    unconfigured = {k: v for k, v in env.items() if not k.startswith("OS_")}
    none = check(["probe-user", "--data-dir", str(tmp_path)], unconfigured)
    assert none.returncode == 3 and none.stdout.startswith("USER PROBE UNKNOWN - no cloud configured")
    missing = check(["probe-instance", "--data-dir", str(tmp_path)], env)
    assert missing.returncode == 3 and "--image is required" in missing.stdout


@pytest.mark.parametrize("fault, cause", [("500", "500"), ("garbage", ""), ("hang", "")])
def test_a_broken_keystone_fails_the_connect_step_in_one_line(fake_cloud, tmp_path, fault, cause):  # noqa: F811
    fake_cloud.hang_seconds = 5
    fake_cloud.faults["POST /identity/v3/auth/tokens"] = fault
    result, outcome = probe(tmp_path)
    assert outcome.state is State.CRITICAL
    assert outcome.summary.startswith("step connect failed"), outcome.summary
    assert cause in outcome.summary and "\n" not in outcome.summary and "Traceback" not in outcome.summary
    assert [s.name for s in result.steps] == ["connect"]
    assert fake_cloud.created_images == {}


INSTANCE = OpenStackConfig(enabled=True, timeout=2, probes=ProbeConfig(step_timeout=3, image="img-0"))


@pytest.mark.parametrize("where, fault, step, cause", [
    ("POST /compute/v2.1/servers$", "500", "boot", "HTTP 500: Unexpected API Error"),
    ("POST /compute/v2.1/servers$", "garbage", "boot", "answer is not JSON"),
    ("GET /compute/v2.1/flavors$", "hang", "lookup", "no answer"),
    ("GET /compute/v2.1/servers/[^/]+$", "500", "wait-active", "HTTP 500"),
])
def test_a_failing_nova_fails_the_instance_probe_and_leaves_no_server(fake_cloud, tmp_path, where, fault, step,  # noqa: F811
                                                                      cause):
    fake_cloud.hang_seconds = 4
    fake_cloud.boot_status = "BUILD"
    fake_cloud.faults[where] = fault
    result = run_probe("instance", INSTANCE, tmp_path)
    outcome = core.evaluate(result, 60)
    assert outcome.state is State.CRITICAL
    assert outcome.summary.startswith(f"step {step} failed") and cause in outcome.summary, outcome.summary
    fake_cloud.faults.clear()
    assert fake_cloud.created_servers == {}, "the probe left its server behind"
    if step != "wait-active":  # (a GET answering 500 also fails the cleanup's wait for the server to go)
        assert result.cleanup_errors == ()


def test_the_instance_probe_passes_and_a_scheduler_error_is_named(fake_cloud, tmp_path):  # noqa: F811
    ok = run_probe("instance", INSTANCE, tmp_path)
    assert core.evaluate(ok, 60).state is State.OK
    assert [s.name for s in ok.steps] == ["connect", "lookup", "boot", "wait-active", "delete", "wait-deleted"]
    fake_cloud.boot_status = "ERROR"
    failed = core.evaluate(run_probe("instance", INSTANCE, tmp_path), 60)
    assert failed.state is State.CRITICAL
    assert failed.summary.startswith("step wait-active failed") and "No valid host was found" in failed.summary
    assert fake_cloud.created_servers == {}
