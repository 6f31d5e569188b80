"""The console-log check on a real directory tree laid out as nova's instances_path."""

from __future__ import annotations

from stackwatch.checks.console_log import ConsoleLog, ConsoleLogCheck, ConsoleLogOptions, judge
from stackwatch.states import State


def instances(tmp_path, sizes: dict[str, int]):
    root = tmp_path / "instances"
    (root / "_base").mkdir(parents=True)
    (root / "locks").mkdir()
    (root / "compute_nodes").write_text("{}")
    for uuid, size in sizes.items():
        (root / uuid).mkdir()
        with open(root / uuid / "console.log", "wb") as fh:
            fh.truncate(size)  # sparse: the size is what is judged
    return root


def test_sizes_against_thresholds_with_units(tmp_path):
    root = instances(tmp_path, {"a1": 10, "b2": 3 * 1024 ** 2, "c3": 600 * 1024 ** 2})
    check = ConsoleLogCheck(ConsoleLogOptions(directory=str(root), warning="2MB", critical="500M"))
    outcome = check.run()
    assert outcome.state is State.CRITICAL
    assert check.status_line(outcome) == (
        "CONSOLE LOG CRITICAL - c3 console.log is 600.0 MiB (over 500.0 MiB), b2 console.log is 3.0 MiB (over 2.0 MiB)"
        " - 3 console.log files, largest 600.0 MiB (c3), total 603.0 MiB"
        " | largest=629145600B;2097152;524288000;0 total=632291338B;;;0 files=3;;;0")


def test_the_guides_5_5_gb_console_log(tmp_path):
    root = instances(tmp_path, {"f00d": int(5.5 * 1024 ** 3)})
    outcome = ConsoleLogCheck(ConsoleLogOptions(directory=str(root))).run()   # defaults: 1GB / 4GB
    assert outcome.state is State.CRITICAL and "f00d console.log is 5.5 GiB (over 4.0 GiB)" in outcome.summary


def test_small_logs_and_no_instances_are_ok(tmp_path):
    assert ConsoleLogCheck(ConsoleLogOptions(directory=str(instances(tmp_path, {"a": 100})))).run().state is State.OK
    empty = ConsoleLogCheck(ConsoleLogOptions(directory=str(instances(tmp_path / "e", {})))).run()
    assert empty.state is State.OK and empty.summary == "no console.log files (no instances here)"


def test_missing_directory_is_unknown(tmp_path):
    outcome = ConsoleLogCheck(ConsoleLogOptions(directory=str(tmp_path / "nope"))).run()
    assert outcome.state is State.UNKNOWN and outcome.summary.startswith("cannot list ")


def test_many_over_the_threshold_are_summed_up():
    logs = [ConsoleLog(f"i{n}", f"/x/i{n}/console.log", 2 * 1024 ** 3) for n in range(8)]
    outcome = judge(logs, ConsoleLogOptions())
    assert outcome.state is State.WARNING and "and 3 more" in outcome.summary
