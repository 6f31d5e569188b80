"""Helpers of the OpenStack lab tests: the lab admin's OS_* environment for in-process openstacksdk calls, the
dedicated probe project, and the probe config used against the lab."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time

from stackwatch.openstack.config import OpenStackConfig, ProbeConfig

PROBE_PROJECT = "stackwatch-probes"


@contextlib.contextmanager
def lab_environ(lab):
    """os.environ with the lab admin's OS_* variables (and no other OS_*), restored afterwards."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith("OS_"):
            del os.environ[key]
    os.environ.update({k: v for k, v in lab.os_env.items() if k.startswith("OS_") or k.lower() == "no_proxy"})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def ensure_probe_project(lab) -> None:
    """The dedicated probe project, with the admin user holding admin in it (created once, kept)."""
    found = lab.openstack("project", "show", PROBE_PROJECT, check=False)
    if found.returncode != 0:
        lab.openstack("project", "create", PROBE_PROJECT, "--description", "stackwatch probes (tests)")
    lab.openstack("role", "add", "--project", PROBE_PROJECT, "--user", "admin", "admin")


def probe_config(step_timeout: float = 90) -> OpenStackConfig:
    return OpenStackConfig(enabled=True, timeout=30, probes=ProbeConfig(
        project=PROBE_PROJECT, image="cirros-lab", flavor="m1.tiny", network="none", microversion="2.37",
        step_timeout=step_timeout, image_size_mb=4, reaper_max_age=3600))


def lab_daemon(lab, action: str, name: str) -> None:
    """`openstack-lab.sh stop|start NAME` (never the whole lab)."""
    proc = subprocess.run([str(lab.dir / "openstack-lab.sh"), action, name], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"openstack-lab.sh {action} {name}: {proc.stdout[-1000:]} {proc.stderr[-1000:]}"


def wait_until(what: str, predicate, timeout: float, interval: float = 3.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)
