"""The disk check: check_disk's -w/-c reading of free space, its status line and perfdata."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from stackwatch.checks.core import Metric
from stackwatch.checks.disk import DiskCheck, DiskOptions
from stackwatch.checks.units import MIB
from stackwatch.model import State

CHECK_DISK = "/usr/lib/nagios/plugins/check_disk"


def fabricated(avail_mib: float, used_mib: float = 0, size_mib: float | None = None, inodes=(910, 1000)):
    """Metrics as probe() returns them: used (max: size), available (max: used + available), free inodes."""
    used, avail = used_mib * MIB, avail_mib * MIB
    size = (size_mib * MIB) if size_mib is not None else used + avail
    metrics = [Metric("used", used, "B", 0, size), Metric("available", avail, "B", 0, used + avail)]
    if inodes:
        metrics.append(Metric("inodes_free", inodes[0], "", 0, inodes[1]))
    return metrics


def judge(metrics, **options):
    return DiskCheck(DiskOptions(**options)).evaluate(metrics)


@pytest.mark.parametrize("free_pct, state", [
    (52, State.OK), (21, State.OK), (20.5, State.OK),
    (20, State.WARNING), (15, State.WARNING), (10.5, State.WARNING),    # "20%": at or below 20% free
    (10, State.CRITICAL), (5, State.CRITICAL), (0, State.CRITICAL),
])
def test_percent_thresholds_20_10(free_pct, state):
    assert judge(fabricated(free_pct * 100, (100 - free_pct) * 100), warning="20%", critical="10%").state is state


@pytest.mark.parametrize("free_mib, state", [(10_000, State.OK), (501, State.OK), (500, State.WARNING),
                                             (300, State.WARNING), (200, State.CRITICAL), (0, State.CRITICAL)])
def test_absolute_thresholds_in_mb(free_mib, state):
    metrics = fabricated(free_mib, 100_000)
    assert judge(metrics, warning="500MB", critical="200").state is state   # a bare number is MB
    assert judge(metrics, warning="0.48828125G", critical="200M").state is state


def test_mixed_percent_and_amount():
    metrics = fabricated(1500, 98_500)        # 1.5% free, but 1500 MB
    assert judge(metrics, warning="2%", critical="1G").state is State.WARNING
    assert judge(metrics, warning="2%", critical="2G").state is State.CRITICAL


@pytest.mark.parametrize("inode_free, options, state", [
    (910, {}, State.OK),
    (50, {"inode_warning": "10%", "inode_critical": "5"}, State.CRITICAL),
    (80, {"inode_warning": "10", "inode_critical": "5%"}, State.WARNING),
    (200, {"inode_warning": "10", "inode_critical": "5"}, State.OK),
])
def test_inode_thresholds(inode_free, options, state):
    assert judge(fabricated(50_000, 50_000, inodes=(inode_free, 1000)), **options).state is state


def test_worst_of_space_and_inodes():
    metrics = fabricated(15_000, 85_000, inodes=(10, 1000))  # space WARNING, inodes CRITICAL
    outcome = judge(metrics, inode_critical="5%")
    assert outcome.state is State.CRITICAL
    assert outcome.details[0] == "CRITICAL: free inodes 1% (at or below 5%)"


def test_status_line_and_perfdata_like_check_disk():
    check = DiskCheck(DiskOptions(path="/", warning="20%", critical="10%"))
    outcome = check.evaluate(fabricated(45_123, 41_234, size_mib=90_000, inodes=(910, 1000)))
    # capacity 86357 MB: the limits are the used MB at which 20% / 10% of it stays free
    assert check.status_line(outcome) == \
        "DISK OK - free space: / 45123 MB (52% inode=91%) | /=41234MB;69085;77721;0;90000"


def test_status_line_without_inode_counts_and_with_amount_thresholds():
    check = DiskCheck(DiskOptions(path="/srv", warning="1G", critical="512"))
    outcome = check.evaluate(fabricated(800, 9_200, inodes=None))
    assert outcome.state is State.WARNING
    assert check.status_line(outcome) == "DISK WARNING - free space: /srv 800 MB (8%) | /srv=9200MB;8976;9488;0;10000"


def test_probe_reads_the_real_root_filesystem():
    metrics = {m.name: m for m in DiskCheck().probe()}
    st = os.statvfs("/")
    assert metrics["used"].max == st.f_blocks * st.f_frsize
    assert 0 <= metrics["used"].value <= metrics["used"].max
    assert 0 <= metrics["available"].value <= metrics["available"].max <= metrics["used"].max
    if st.f_files:
        assert 0 <= metrics["inodes_free"].value <= metrics["inodes_free"].max == st.f_files


def test_missing_path_is_unknown():
    outcome = DiskCheck(DiskOptions(path="/no/such/path")).run()
    assert outcome.state is State.UNKNOWN
    assert outcome.summary.startswith("FileNotFoundError: ") and "/no/such/path" in outcome.summary


def _check_disk(*args: str):
    if not os.path.exists(CHECK_DISK):
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide {CHECK_DISK} (monitoring-plugins-basic)")
        pytest.skip(f"{CHECK_DISK} not installed")
    proc = subprocess.run([CHECK_DISK, *args], capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stdout


@pytest.mark.plugins
def test_agrees_with_check_disk_on_the_root_filesystem():
    _, line = _check_disk("-w", "0%", "-c", "0%", "-p", "/")
    theirs = int(re.search(r"\((\d+)% inode", line).group(1))
    ours = DiskCheck().run()
    assert abs(int(re.search(r"\((\d+)%", ours.summary).group(1)) - theirs) <= 1
    for warning, critical in [("0%", "0%"), (f"{theirs + 5}%", "0%"), ("100%", f"{theirs + 5}%"),
                              (f"{max(theirs - 5, 0)}%", f"{max(theirs - 10, 0)}%"), ("1", "1"), ("1000000000", "1")]:
        code, line = _check_disk("-w", warning, "-c", critical, "-p", "/")
        outcome = DiskCheck(DiskOptions(path="/", warning=warning, critical=critical)).run()
        assert int(outcome.state) == code, (warning, critical, line, outcome)
