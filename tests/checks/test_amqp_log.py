"""The amqp-log check: unreachable lines in the window, the Connected line after a start, the tail reading
(seek from the end, whole lines, rotation), and the real 2015 RDO logs of the shared corpus."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from stackwatch.checks.amqp_log import AmqpFacts, AmqpLogCheck, AmqpLogOptions, FileScan, Started, judge, scan
from stackwatch.checks.logtail import rotated, tail_lines, tail_text
from stackwatch.rsyslog.timestamps import Clock
from stackwatch.states import State
from tests.conftest import CORPUS

NOW = 1_764_072_000.0          # 2025-11-25 12:00:00 UTC


def stamp(seconds_ago: float) -> str:
    t = NOW - seconds_ago
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + ".123"


def unreachable(ago, pid=4242):
    return (f"{stamp(ago)} {pid} ERROR oslo.messaging._drivers.impl_rabbit [-] [a1b2] AMQP server on "
            f"10.0.0.5:5672 is unreachable: [Errno 111] ECONNREFUSED. Trying again in 1 seconds.: "
            f"ConnectionRefusedError: [Errno 111] ECONNREFUSED")


def connected(ago, pid=4242, word="Connected"):
    return (f"{stamp(ago)} {pid} INFO oslo.messaging._drivers.impl_rabbit [-] [a1b2] {word} to AMQP server on "
            f"10.0.0.5:5672 via [amqp] client with port 41234.")


def other(ago, pid=4242):
    return f"{stamp(ago)} {pid} INFO nova.compute.manager [req-1 - - - - -] Updating resource usage"


def facts(*files, process=None):
    return AmqpFacts(NOW, [scan(name, "\n".join(lines) + "\n", Clock()) for name, lines in files], [], process)


def test_recent_unreachable_lines_are_critical():
    outcome = judge(facts(("nova-compute.log", [other(3600), unreachable(1200), unreachable(60), other(10)])),
                    AmqpLogOptions(window="15m"))
    assert outcome.state is State.CRITICAL
    assert outcome.summary.startswith("1 'AMQP server ... is unreachable' lines in the last 15m, newest in "
                                      "nova-compute.log: [a1b2] AMQP server on 10.0.0.5:5672 is unreachable")
    assert outcome.summary.endswith("(1 file read)")


def test_old_lines_and_thresholds():
    lines = [unreachable(1200), unreachable(300), unreachable(200), unreachable(100)]
    assert judge(facts(("a.log", lines)), AmqpLogOptions(window="1m")).state is State.OK
    assert judge(facts(("a.log", lines)), AmqpLogOptions(warning="0", critical="5")).state is State.WARNING
    assert judge(facts(("a.log", lines)), AmqpLogOptions(warning="0", critical="2")).state is State.CRITICAL


def test_connected_after_the_start():
    started = Started(4242, "/usr/bin/python3 /usr/bin/nova-compute", NOW - 600)
    opts = AmqpLogOptions(process="nova-compute", connect_within="2m")
    ok = judge(facts(("c.log", [other(900, 1), other(590), connected(585)]), process=started), opts)
    assert ok.state is State.OK and "connected to AMQP 15s after its start" in ok.summary
    again = judge(facts(("c.log", [other(900, 1), other(590), connected(500, word="Reconnected")]),
                        process=started), opts)
    assert again.state is State.OK
    never = judge(facts(("c.log", [other(900, 1), connected(800, pid=1), other(590), other(5)]), process=started), opts)
    assert never.state is State.CRITICAL
    assert "nova-compute (pid 4242, started 10m ago) has logged no 'Connected to AMQP server' line" in never.summary


def test_scan_finds_the_lines_and_the_oldest_time():
    text = "Traceback (most recent call last):\n  File x\n" + "\n".join(
        [other(900), unreachable(500), other(400), connected(300), "AMQP server mentioned without a prefix"])
    result = scan("a.log", text, Clock())
    assert result.oldest == pytest.approx(NOW - 900 + 0.123)
    assert [h.timestamp for h in result.unreachable] == [pytest.approx(NOW - 500 + 0.123)]
    assert result.connected == (pytest.approx(NOW - 300 + 0.123),)
    assert scan("e.log", "", Clock()) == ("e.log", (), (), None, 0)


def test_unreachable_lines_without_a_readable_time_are_not_an_ok():
    journald = "nova-compute[4242]: ERROR oslo.messaging._drivers.impl_rabbit AMQP server on h:5672 is unreachable"
    outcome = judge(facts(("syslog", [journald])), AmqpLogOptions())
    assert outcome.state is State.UNKNOWN
    assert "1 'unreachable' lines in syslog without a readable time" in outcome.summary
    both = judge(facts(("syslog", [journald]), ("nova.log", [unreachable(30)])), AmqpLogOptions())
    assert both.state is State.CRITICAL


def test_connected_grace_missing_process_and_unseen_start():
    opts = AmqpLogOptions(process="nova-compute", connect_within="2m")
    young = Started(1, "nova-compute", NOW - 30)
    assert judge(facts(("c.log", [other(20)]), process=young), opts).state is State.OK
    assert judge(facts(("c.log", [other(20)]), process=None), opts).state is State.UNKNOWN
    old = Started(1, "nova-compute", NOW - 86400 * 30)  # started before the oldest line read: not judged
    outcome = judge(facts(("c.log", [other(600), other(20)]), process=old), opts)
    assert outcome.state is State.OK and "not judged" in outcome.summary


def test_no_files_and_unreadable_files():
    assert judge(AmqpFacts(NOW, [], [], None), AmqpLogOptions(files="/x/*.log")).summary == "no log file matches /x/*.log"
    outcome = judge(AmqpFacts(NOW, [FileScan("a.log", (), (), None, 0)], [("b.log", "Permission denied")], None),
                    AmqpLogOptions())
    assert outcome.state is State.UNKNOWN and "cannot read b.log: Permission denied" in outcome.summary


def test_tail_reads_whole_lines_from_the_end(tmp_path):
    path = tmp_path / "x.log"
    path.write_text("".join(f"line {i:04d}\n" for i in range(1000)))     # 10 bytes a line
    lines, whole = tail_lines(str(path), 55)
    assert not whole and lines == [f"line {i:04d}" for i in range(995, 1000)]
    lines, whole = tail_lines(str(path), 1 << 20)
    assert whole and len(lines) == 1000


def test_rotated_predecessor(tmp_path):
    path = tmp_path / "nova-compute.log"
    path.write_text("")
    assert rotated(str(path)) is None
    (tmp_path / "nova-compute.log-20251124").write_text("x")
    assert rotated(str(path)) == str(tmp_path / "nova-compute.log-20251124")
    (tmp_path / "nova-compute.log.1").write_text("x")
    assert rotated(str(path)) == str(tmp_path / "nova-compute.log.1")


def test_probe_reads_files_and_the_rotated_one(tmp_path):
    now = time.time()
    fmt = lambda ago: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - ago))  # noqa: E731
    (tmp_path / "nova-conductor.log.1").write_text(
        f"{fmt(120)} 77 ERROR oslo.messaging._drivers.impl_rabbit [-] AMQP server on 10.0.0.5:5672 is unreachable: "
        f"timed out. Trying again in 2 seconds.\n")
    (tmp_path / "nova-conductor.log").write_text(f"{fmt(30)} 77 INFO nova.conductor [-] rotated a minute ago\n")
    (tmp_path / "nova-api.log").write_text("garbage line without a prefix\n" * 3)
    check = AmqpLogCheck(AmqpLogOptions(files=f"{tmp_path}/*.log", window="10m"))
    outcome = check.run()
    assert outcome.state is State.CRITICAL and "(2 files read)" in outcome.summary
    assert "is unreachable: timed out" in outcome.summary


def test_probe_large_file_reads_only_the_tail(tmp_path):
    now = time.time()
    line = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - 30)) + " 5 INFO nova.compute.manager [-] x" + "." * 60
    bad = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - 60)) + \
        " 5 ERROR oslo.messaging._drivers.impl_rabbit [-] AMQP server on h:5672 is unreachable: x."
    path = tmp_path / "big.log"
    path.write_text(bad + "\n" + (line + "\n") * 20000)                   # the bad line is 2 MB from the end
    assert AmqpLogCheck(AmqpLogOptions(files=str(path), max_bytes="64kB")).run().state is State.OK
    assert AmqpLogCheck(AmqpLogOptions(files=str(path), max_bytes="4MB")).run().state is State.CRITICAL


def test_probe_finds_this_process_start(tmp_path):
    (tmp_path / "a.log").write_text("")
    check = AmqpLogCheck(AmqpLogOptions(files=str(tmp_path / "a.log"), process="pytest"))
    facts_ = check.probe()
    assert facts_.process is not None and facts_.process.timestamp <= time.time()
    assert AmqpLogCheck(AmqpLogOptions(files=str(tmp_path / "a.log"), process="no-such-process-xyz")).run().state \
        is State.UNKNOWN


CORPUS_LOGS = CORPUS / "logs" / "os-log-merger-2015"


def test_real_rdo_logs_unreachable_then_connected():
    """controller1's nova logs (2015, RDO, Apache-2.0): ECONNREFUSED lines and the Connected lines after."""
    if not CORPUS_LOGS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide the shared corpus ({CORPUS_LOGS})")
        pytest.skip(f"{CORPUS_LOGS} absent")
    path = next(iter(sorted(CORPUS_LOGS.glob("hp-ms-01-c29-2015-10/nova/nova-scheduler.log"))))
    text, _ = tail_text(str(path), 8 << 20)
    result = scan(str(path), text, Clock())
    assert result.unreachable and result.connected
    first = min(h.timestamp for h in result.unreachable)
    outcome = judge(AmqpFacts(first + 60, [result], [], None), AmqpLogOptions(window="15m"))
    assert outcome.state is State.CRITICAL and "ECONNREFUSED" in outcome.summary
    # long after the outage the window is clean
    assert judge(AmqpFacts(max(h.timestamp for h in result.unreachable) + 3600, [result], [], None),
                 AmqpLogOptions(window="15m")).state is State.OK
