"""The memory and swap checks, on the real /proc and on fake /proc trees for states this host lacks."""

from __future__ import annotations

import pytest

from stackwatch.checks import linux
from stackwatch.checks.core import Metric
from stackwatch.checks.memory import MemoryCheck, MemoryOptions
from stackwatch.checks.swap import SwapCheck, SwapOptions
from stackwatch.model import State

GIB = 1024 ** 3


def fake_proc(tmp_path, **fields_kb):
    proc = tmp_path / "proc"
    proc.mkdir()
    lines = [f"{key}:{value:>12} kB" for key, value in fields_kb.items()] + ["HugePages_Total:       0"]
    (proc / "meminfo").write_text("\n".join(lines) + "\n")
    return str(proc)


@pytest.mark.parametrize("used_pct, state", [(50, State.OK), (90, State.OK), (90.5, State.WARNING),
                                             (95, State.WARNING), (96, State.CRITICAL)])
def test_memory_percent_used(used_pct, state):
    total = 16 * GIB
    metrics = [Metric("used", total * used_pct / 100, "B", 0, total), Metric("available", total * (100 - used_pct) / 100, "B", 0, total)]
    assert MemoryCheck(MemoryOptions(warning="90", critical="95")).evaluate(metrics).state is state


def test_memory_line_and_perfdata_in_bytes(tmp_path):
    proc = fake_proc(tmp_path, MemTotal=16 * 1024 * 1024, MemFree=1024, MemAvailable=4 * 1024 * 1024)
    check = MemoryCheck(MemoryOptions(), proc=proc)
    outcome = check.run()
    assert check.status_line(outcome) == (
        "MEMORY OK - 75.0% used (12.0 GiB of 16.0 GiB)"
        " | used=12884901888B;15461882266;16320875725;0;17179869184 available=4294967296B;;;0;17179869184")


def test_memory_on_the_real_host():
    info = linux.meminfo()
    outcome = MemoryCheck(MemoryOptions(warning="100", critical="100")).run()
    assert outcome.state is State.OK
    used = next(p for p in outcome.perfdata if p.label == "used")
    assert used.max == info["MemTotal"] and 0 < used.value < used.max


@pytest.mark.parametrize("free_kb, state", [(1024 * 1024, State.OK), (600 * 1024, State.OK), (512 * 1024, State.WARNING),
                                            (300 * 1024, State.WARNING), (204.8 * 1024, State.CRITICAL), (0, State.CRITICAL)])
def test_swap_free_percent(tmp_path, free_kb, state):
    proc = fake_proc(tmp_path, MemTotal=8 * 1024 * 1024, MemAvailable=1024, SwapTotal=1024 * 1024, SwapFree=int(free_kb))
    assert SwapCheck(SwapOptions(warning="50%", critical="20%"), proc=proc).run().state is state


def test_swap_line_and_perfdata(tmp_path):
    proc = fake_proc(tmp_path, SwapTotal=1024 * 1024, SwapFree=256 * 1024)
    check = SwapCheck(SwapOptions(warning="50%", critical="20%"), proc=proc)
    outcome = check.run()
    assert check.status_line(outcome) == (
        "SWAP WARNING - 25% free (256 MB out of 1024 MB) (free swap at or below 50%)"
        " | swap_used=805306368B;536870912;858993459;0;1073741824")


def test_swap_amount_thresholds_default_to_bytes(tmp_path):
    proc = fake_proc(tmp_path, SwapTotal=1024 * 1024, SwapFree=100 * 1024)
    assert SwapCheck(SwapOptions(warning="200MB", critical="50MB"), proc=proc).run().state is State.WARNING
    assert SwapCheck(SwapOptions(warning="204800", critical="102400"), proc=proc).run().state is State.OK


@pytest.mark.parametrize("no_swap, state", [("ok", State.OK), ("critical", State.CRITICAL), ("unknown", State.UNKNOWN)])
def test_no_swap(tmp_path, no_swap, state):
    proc = fake_proc(tmp_path, MemTotal=1024, SwapTotal=0, SwapFree=0)
    outcome = SwapCheck(SwapOptions(no_swap=no_swap), proc=proc).run()
    assert (outcome.state, outcome.summary) == (state, "no swap configured (SwapTotal is 0)")


def test_swap_on_the_real_host():
    info = linux.meminfo()
    outcome = SwapCheck(SwapOptions(warning="0%", critical="0%")).run()
    if info["SwapTotal"] == 0:
        assert (outcome.state, outcome.summary) == (State.OK, "no swap configured (SwapTotal is 0)")
    else:
        assert outcome.state is State.OK and outcome.summary.endswith(f"out of {info['SwapTotal'] // 2**20} MB)")
