"""The cpu check: busy share from /proc/stat deltas."""

from __future__ import annotations

import pytest

from stackwatch.checks.core import Metric
from stackwatch.checks.cpu import CpuCheck, CpuOptions, parse_sample, shares
from stackwatch.model import State


def stat(user=0, nice=0, system=0, idle=0, iowait=0, irq=0, softirq=0, steal=0):
    return {"user": user, "nice": nice, "system": system, "idle": idle, "iowait": iowait, "irq": irq,
            "softirq": softirq, "steal": steal}


def test_shares():
    pct = shares(stat(), stat(user=30, nice=10, system=10, irq=5, softirq=5, idle=20, iowait=15, steal=5))
    assert pct == {"busy": 65.0, "user": 40.0, "system": 20.0, "iowait": 15.0, "steal": 5.0, "idle": 20.0}
    assert shares(stat(idle=5), stat(idle=5))["busy"] == 0.0


@pytest.mark.parametrize("busy, state", [(10, State.OK), (80, State.OK), (85, State.WARNING), (95, State.CRITICAL)])
def test_thresholds(busy, state):
    metrics = [Metric("busy", busy, "%", 0, 100)] + [Metric(m, 0, "%", 0, 100) for m in ("user", "system", "iowait", "steal")]
    assert CpuCheck(CpuOptions(warning="80", critical="90")).evaluate(metrics).state is state


def write_stat(path, **values):
    fields = stat(**values)
    path.write_text("cpu  " + " ".join(str(fields[k]) for k in fields) + " 0 0\ncpu0 1 2 3\nintr 5\n")


def test_keeps_the_previous_reading_between_runs(tmp_path):
    proc = tmp_path / "proc"
    proc.mkdir()
    write_stat(proc / "stat", user=100, idle=100)
    check = CpuCheck(CpuOptions(sample="0.01s", warning="50", critical="90"), proc=str(proc))
    first = check.run()
    assert first.summary.startswith("0.0% busy")           # nothing moved during the sample
    write_stat(proc / "stat", user=160, system=20, idle=110, iowait=10)  # +60 user +20 system +10 idle +10 iowait
    second = check.run()
    assert second.state is State.WARNING
    assert second.summary == "80.0% busy (user 60.0%, system 20.0%, iowait 10.0%, steal 0.0%) - busy outside range 0:50"
    assert str(second.perfdata[0]) == "busy=80%;50;90;0;100"


def test_real_host_sample():
    outcome = CpuCheck(CpuOptions(sample="0.2s", warning="100", critical="100")).run()
    assert outcome.state is State.OK
    busy = outcome.perfdata[0]
    assert busy.label == "busy" and 0 <= busy.value <= 100


@pytest.mark.parametrize("text, seconds", [("0.5s", 0.5), ("2", 2.0), ("250ms", 0.25)])
def test_parse_sample(text, seconds):
    assert parse_sample(text) == seconds


@pytest.mark.parametrize("text", ["0", "-1", "2m", "soon"])
def test_parse_sample_rejects(text):
    with pytest.raises(ValueError):
        parse_sample(text)
