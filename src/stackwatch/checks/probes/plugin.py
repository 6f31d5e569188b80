"""The probes as Nagios checks: `stackwatch-check probe-image|probe-instance|probe-user|probe-object|probe-volume`.

The cloud comes from `--cloud` (a clouds.yaml entry) or the OS_* environment. openstacksdk is imported only when
the check runs. The run ends in time to clean up before stackwatch-check's `-t` (pass e.g. `-t 300` for the
instance probe): the steps get what is left of it.
"""

from __future__ import annotations

import os
from pathlib import Path

from stackwatch.checks import CHECKS
from stackwatch.checks.base import CheckPlugin
from stackwatch.checks.core import CheckOutcome
from stackwatch.checks.options import Options, option

CLEANUP_MARGIN = 15.0  # seconds kept for the cleanup when -t bounds the run


class ProbeOptions(Options):
    cloud: str | None = option(None, flags=("--cloud",), help="clouds.yaml entry (default: the OS_* environment)")
    region: str | None = option(None, flags=("--region",), help="region name")
    project: str | None = option(None, flags=("--project",), help="the dedicated probe project")
    data_dir: str = option(os.environ.get("STACKWATCH_DATA_DIR", "/var/lib/stackwatch"), flags=("--data-dir",),
                           help="where the per-kind probe lock lives")
    step_timeout: float = option(120.0, flags=("--step-timeout",), help="seconds each step may take")
    slow: float = option(60.0, flags=("-w", "--slow"), help="WARNING when the probe takes longer (seconds)")
    image: str | None = option(None, flags=("--image",), help="instance probe: image name or id")
    flavor: str = option("m1.tiny", flags=("--flavor",), help="instance probe: flavor name or id")
    network: str = option("none", flags=("--network",), help='instance probe: "none", "auto" or a network id')
    microversion: str = option("2.37", flags=("--microversion",), help="instance probe: compute microversion")
    image_size_mb: int = option(4, flags=("--image-size-mb",), help="image probe: MB uploaded")


class ProbeCheck(CheckPlugin):
    kind = ""
    Options = ProbeOptions

    def openstack_config(self):
        from stackwatch.openstack.config import OpenStackConfig, ProbeConfig

        o = self.options
        return OpenStackConfig(enabled=True, cloud=o.cloud, region=o.region, probes=ProbeConfig(
            project=o.project, step_timeout=o.step_timeout, slow=o.slow, image=o.image, flavor=o.flavor,
            network=o.network, microversion=o.microversion, image_size_mb=o.image_size_mb))

    def run(self) -> CheckOutcome:
        from stackwatch.checks.probes import core
        from stackwatch.checks.probes.service import run_probe

        if self.kind == "instance" and not self.options.image:
            return core.CheckOutcome(core.State.UNKNOWN, "--image is required for the instance probe")
        result = run_probe(self.kind, self.openstack_config(), Path(self.options.data_dir), _budget(self.standalone))
        return core.evaluate(result, self.options.slow)


def _budget(standalone: bool) -> float | None:
    """What is left of stackwatch-check's -t alarm, minus time to clean up; None when no alarm is set."""
    if not standalone:
        return None
    import signal

    left, _ = signal.getitimer(signal.ITIMER_REAL)
    return max(1.0, left - min(CLEANUP_MARGIN, left / 3)) if left else None


def _register(kind: str) -> type:
    cls = type(f"{kind.capitalize()}ProbeCheck", (ProbeCheck,), {
        "kind": kind, "name": f"probe-{kind}", "label": f"{kind.upper()} PROBE",
        "__doc__": f"The {kind} probe: uses the cloud as a user would, step by step, and cleans up."})
    return CHECKS.register(f"probe-{kind}")(cls)


for _kind in ("image", "instance", "user", "object", "volume"):
    _register(_kind)
