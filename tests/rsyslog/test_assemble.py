"""Folding lines into records: TRACE and ERROR-style tracebacks, chained exceptions, prefix-less
continuation lines, interleaved workers, separate sources, size limits and bounded state."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from stackwatch.rsyslog.assemble import Assembler, Origin
from stackwatch.rsyslog.record import MAX_RECORD_CHARS, MAX_RECORD_LINES
from stackwatch.rsyslog.syslog import parse_message
from stackwatch.rsyslog.timestamps import Clock

INST = "205f143e-7e43-4fd3-9d02-0e8d3b3b8a11"
REQ = "req-9c8f1c2e-56b1-4a9e-9d55-0d1f3c1e7a42"
CTX = f"[{REQ} fa60d7e2a7ef4fb7b6a1f5d1c2b3a4e5 6d4e1e6c0a9b4c8d9e7f6a5b4c3d2e1f - default default]"
TS = "2018-03-01 10:00:00.123"
TB_TEXT = [
    "Traceback (most recent call last):",
    '  File "/usr/lib/python2.7/site-packages/nova/compute/manager.py", line 2133, in _build_resources',
    "    yield resources",
    '  File "/usr/lib/python2.7/site-packages/nova/virt/libvirt/driver.py", line 2798, in spawn',
    "    block_device_info=block_device_info)",
    "libvirtError: internal error: no supported architecture for os type 'hvm'",
]


def block(level: str) -> list[str]:
    """A record and its traceback, with continuation lines at `level` (TRACE <= Kilo, ERROR after)."""
    head = f"{TS} 8 ERROR nova.compute.manager {CTX} [instance: {INST}] Instance failed to spawn"
    body = [f"{TS} 8 {level} nova.compute.manager [instance: {INST}] {t}" for t in TB_TEXT]
    return [head, *body, f"{TS} 8 {level} nova.compute.manager [instance: {INST}] "]


NEXT = f"2018-03-01 10:00:01.000 8 INFO nova.compute.manager {CTX} [instance: {INST}] Terminating instance"


def assemble(lines, source="/var/log/nova/nova-compute.log", **kw):
    asm = Assembler(**kw)
    origin = Origin.for_file(source, host="compute-1")
    out = []
    for ln in lines:
        out += asm.feed(ln, source, origin=origin)
    out += asm.flush()
    assert asm.open_records == 0
    return out


def raw_lines(records) -> Counter:
    return Counter(ln for r in records for ln in r.raw.split("\n"))


@pytest.mark.parametrize("level", ["TRACE", "ERROR"])
def test_traceback_block_folds_into_the_record_that_raised(level):
    lines = block(level) + [NEXT]
    first, second = assemble(lines)
    assert first.message == "Instance failed to spawn"
    assert first.traceback == "\n".join(TB_TEXT)
    assert first.raw == "\n".join(lines[:-1])
    assert (first.level, first.logger, first.pid, first.request_id, first.instance_uuid) == (
        "ERROR", "nova.compute.manager", 8, REQ, INST)
    assert (first.host, first.program, first.service) == ("compute-1", "nova-compute", "nova")
    assert second.message == "Terminating instance" and second.traceback is None


def test_trace_and_error_styles_give_identical_records():
    trace, _ = assemble(block("TRACE") + [NEXT])
    error, _ = assemble(block("ERROR") + [NEXT])
    assert dataclasses.replace(trace, raw="") == dataclasses.replace(error, raw="")


def test_py3_chained_traceback_is_one_record():
    p = "2022-02-04 10:06:16.662 183926 ERROR neutron.agent.metadata.agent"
    lines = [
        f"{p} [-] Failed reporting state!: oslo_messaging.exceptions.MessagingTimeout: Timed out",
        f"{p} Traceback (most recent call last):",
        f'{p}   File "/usr/lib/python3/dist-packages/eventlet/queue.py", line 322, in get',
        f"{p}     return waiter.wait()",
        f"{p} _queue.Empty",
        f"{p} ",
        f"{p} During handling of the above exception, another exception occurred:",
        f"{p} ",
        f"{p} Traceback (most recent call last):",
        f'{p}   File "/usr/lib/python3/dist-packages/neutron/agent/metadata/agent.py", line 299, in _report_state',
        f"{p}     self.state_rpc.report_state(",
        f"{p} oslo_messaging.exceptions.MessagingTimeout: Timed out waiting for a reply",
        f"{p} ",
        "2022-02-04 10:06:16.676 183926 WARNING oslo.service.loopingcall [-] Function run outlasted interval",
    ]
    records = assemble(lines, "/var/log/neutron/neutron-metadata-agent.log")
    assert len(records) == 2
    r = records[0]
    assert r.message.startswith("Failed reporting state!")
    assert r.traceback.count("Traceback (most recent call last):") == 2
    assert "\nDuring handling of the above exception, another exception occurred:\n" in r.traceback
    assert r.traceback.endswith("oslo_messaging.exceptions.MessagingTimeout: Timed out waiting for a reply")
    assert r.raw.count("\n") == 12 and r.service == "neutron" and r.program == "neutron-metadata-agent"


def test_direct_cause_chain_too():
    p = "2024-05-02 08:00:00.001 77 ERROR cinder.volume.manager"
    lines = [f"{p} [None {REQ} - - - - - -] Failed to create volume", f"{p} Traceback (most recent call last):",
             f"{p} KeyError: 'x'", f"{p} ",
             f"{p} The above exception was the direct cause of the following exception:", f"{p} ",
             f"{p} Traceback (most recent call last):", f"{p} cinder.exception.VolumeBackendAPIException: bad"]
    (r,) = assemble(lines)
    assert r.request_id == REQ and r.traceback.count("Traceback") == 2 and "direct cause" in r.traceback


def test_prefixless_continuation_lines_belong_to_the_previous_record():
    lines = [
        "2015-10-29 10:51:11.600 4470 DEBUG keystoneclient.session [-] RESP: [200] {'content-length': '7751'} ",
        'RESP BODY: {"token": {"methods": ["password", "token"]}}',
        " _http_log_response /usr/lib/python2.7/site-packages/keystoneclient/session.py:182",
        "2015-10-29 10:51:11.644 4470 DEBUG nova.api.openstack.wsgi [req-e4f91dbb None] Calling method x "
        "_process_stack /usr/lib/python2.7/site-packages/nova/api/openstack/wsgi.py:937",
    ]
    first, second = assemble(lines, "/var/log/nova/nova-api.log")
    assert first.message == "RESP: [200] {'content-length': '7751'} \nRESP BODY: {\"token\": {\"methods\": [\"password\", \"token\"]}}"
    assert (first.function, first.location) == (
        "_http_log_response", "/usr/lib/python2.7/site-packages/keystoneclient/session.py:182")
    assert first.raw == "\n".join(lines[:3]) and first.traceback is None
    assert second.message == "Calling method x" and second.function == "_process_stack"
    assert second.location == "/usr/lib/python2.7/site-packages/nova/api/openstack/wsgi.py:937"


def test_traceback_logged_as_message_text():
    lines = [
        "2015-10-20 14:47:30.599 5841 INFO nova.console.websocketproxy [req-a57350bc None] Traceback (most recent call last):",
        '  File "/usr/lib/python2.7/site-packages/websockify/websocket.py", line 711, in top_new_client',
        "    self.new_client()",
        "error: [Errno 107] Transport endpoint is not connected",
        "",
        "2015-10-20 14:47:44.758 7277 INFO nova.console.websocketproxy [-] next",
    ]
    first, second = assemble(lines)
    assert first.message == "error: [Errno 107] Transport endpoint is not connected"
    assert first.traceback == "\n".join(lines[0].split("] ", 1)[1:] + lines[1:4])
    assert first.raw == "\n".join(lines[:5])


def test_remote_traceback_after_a_message():
    lines = ["2015-10-20 13:02:07.840 2315 WARNING nova.scheduler.utils [req-3d2e34e0 None] Failed to migrate: no",
             "Traceback (most recent call last):", "", '  File "x.py", line 1, in f', "    g()", "",
             "InvalidSharedStorage: no", ""]
    (r,) = assemble(lines)
    assert r.message == "Failed to migrate: no"
    assert r.traceback.startswith("Traceback (most recent call last):\n\n  File") and r.traceback.endswith("InvalidSharedStorage: no")


def test_config_dump_mentioning_trace_does_not_open_a_traceback():
    lines = [
        "2015-10-29 10:52:00.201 29022 DEBUG nova.openstack.common.service [-] logging_exception_prefix       = "
        "%(asctime)s.%(msecs)03d %(process)d TRACE %(name)s %(instance)s log_opt_values /usr/lib/python2.7/cfg.py:1996",
        "2015-10-29 10:52:00.201 29022 DEBUG nova.openstack.common.service [-] logging_debug_format_suffix    = "
        "%(funcName)s %(pathname)s:%(lineno)d log_opt_values /usr/lib/python2.7/cfg.py:1996",
    ]
    records = assemble(lines)
    assert len(records) == 2 and all(r.traceback is None for r in records)
    assert records[0].message.endswith("TRACE %(name)s %(instance)s") and records[0].function == "log_opt_values"


def test_what_does_not_continue():
    p = f"{TS} 8"
    lines = [
        f"{p} ERROR nova.a {CTX} first error",
        f"{p} ERROR nova.a {CTX} second error in the same millisecond",     # has a context: a new record
        f"{p} TRACE nova.b Traceback (most recent call last):",              # another logger: not ours
        f"2018-03-01 10:00:00.999 8 ERROR nova.a   File \"x.py\", line 1",   # another time: not ours
        f"{p} INFO nova.a   indented info without a context",                # INFO never continues
    ]
    records = assemble(lines)
    assert [r.raw for r in records] == lines
    assert records[2].level == "TRACE" and records[2].traceback == "Traceback (most recent call last):"


def test_orphan_traceback_whose_record_was_lost():
    p = "2015-10-29 10:51:12.505 3404 TRACE neutron"
    lines = [f"{p} Traceback (most recent call last):", f'{p}   File "/usr/bin/neutron-server", line 10',
             f"{p}     sys.exit(main())", f"{p} AssertionError: never terminates", f"{p} "]
    (r,) = assemble(lines)
    assert r.level == "TRACE" and r.message == "AssertionError: never terminates"
    assert r.traceback == "\n".join(ln.split(" TRACE neutron ", 1)[1] for ln in lines[:4])


def test_interleaved_workers_each_keep_their_traceback():
    def tb(pid, ts, logger="neutron.service"):
        return [f"{ts} {pid} ERROR {logger} [-] Unrecoverable error in {pid}",
                f"{ts} {pid} TRACE {logger} Traceback (most recent call last):",
                f"{ts} {pid} TRACE {logger}   File \"/usr/lib/python2.7/site-packages/neutron/service.py\", line 102",
                f"{ts} {pid} TRACE {logger} AssertionError: from {pid}"]
    a, b = tb(3401, "2015-10-29 10:51:12.483"), tb(3402, "2015-10-29 10:51:12.483")
    mixed = [a[0], a[1], b[0], a[2], b[1], b[2], a[3], b[3]]
    records = assemble(mixed + ["2015-10-29 10:51:13.000 3401 INFO neutron.service [-] bye"])
    by_pid = {r.pid: r for r in records if r.traceback}
    assert by_pid[3401].traceback.endswith("AssertionError: from 3401")
    assert by_pid[3402].traceback.endswith("AssertionError: from 3402")
    assert by_pid[3401].raw.count("\n") == 3 and by_pid[3402].raw.count("\n") == 3


def test_interleaved_worker_at_another_time_still_folds():
    # A worker's traceback lines carry its own time; another worker's orphan traceback lines in between
    # (their record line was lost, as in the corpus's neutron server.log) do not close it.
    a = "2015-10-29 10:51:12.503 3405 TRACE neutron"
    b = "2015-10-29 10:51:12.505 3404 TRACE neutron"
    lines = ["2015-10-29 10:51:12.503 3405 CRITICAL neutron [-] AssertionError: x",
             f"{a} Traceback (most recent call last):", f"{b} Traceback (most recent call last):",
             f'{a}   File "a.py", line 1', f'{b}   File "b.py", line 2', f"{a} AssertionError: x", f"{b} AssertionError: y"]
    crit, orphan = assemble(lines)
    assert crit.level == "CRITICAL" and crit.traceback.endswith("AssertionError: x") and crit.raw.count("\n") == 3
    assert orphan.level == "TRACE" and orphan.message == "AssertionError: y" and orphan.raw.count("\n") == 2


def test_a_new_record_closes_other_workers_records():
    asm = Assembler()
    asm.feed(f"{TS} 1 INFO nova.a [-] worker one", "f")
    asm.feed(f"{TS} 2 INFO nova.a [-] worker two, same time", "f")
    assert asm.open_records == 2
    out = asm.feed("2018-03-01 10:00:05.000 3 INFO nova.a [-] later", "f")
    assert [r.pid for r in out] == [1, 2] and asm.open_records == 1


def test_sources_never_mix():
    asm = Assembler()
    out = []
    out += asm.feed(f"{TS} 8 ERROR nova.compute.manager {CTX} boom in a", "a")
    out += asm.feed(f"{TS} 8 ERROR nova.compute.manager {CTX} boom in b", "b")
    out += asm.feed(f"{TS} 8 TRACE nova.compute.manager Traceback (most recent call last):", "a")
    out += asm.feed("continuation of b's message", "b")
    out += asm.feed(f"{TS} 8 TRACE nova.compute.manager ValueError: a", "a")
    assert out == []
    a = asm.flush("a")
    assert len(a) == 1 and a[0].message == "boom in a" and a[0].traceback.endswith("ValueError: a")
    assert asm.open_records == 1
    (b,) = asm.flush()
    assert b.message == "boom in b\ncontinuation of b's message" and b.traceback is None


def test_line_with_no_record_before_it_stands_alone():
    records = assemble(["  File \"x.py\", line 1, in f", "binary \x00 garbage", f"{TS} 8 INFO nova.a [-] ok"])
    assert [r.parsed for r in records] == [False, False, True]
    assert records[0].message == records[0].raw == '  File "x.py", line 1, in f'
    assert records[0].timestamp is None and records[0].level is None and records[0].traceback is None


def test_record_stops_growing_at_the_line_limit():
    head = f"{TS} 8 ERROR nova.a {CTX} huge"
    trace = [f"{TS} 8 TRACE nova.a line {i}" for i in range(MAX_RECORD_LINES + 500)]
    records = assemble([head, *trace, NEXT])
    first, rest, nxt = records
    assert first.truncated and first.raw.count("\n") + 1 == MAX_RECORD_LINES
    assert not rest.truncated and rest.raw.count("\n") + 1 == 501
    assert (rest.pid, rest.logger, rest.level, rest.request_id) == (8, "nova.a", "ERROR", REQ)
    assert rest.traceback.startswith("line 999") and rest.message == f"line {MAX_RECORD_LINES + 499}"
    assert nxt.message == "Terminating instance"
    assert raw_lines(records) == Counter([head, *trace, NEXT])


def test_record_stops_growing_at_64k_of_text():
    head = f"{TS} 8 DEBUG nova.a [-] big body"
    body = ["x" * 999] * 200                                  # 200,000 characters of continuation
    records = assemble([head, *body])
    assert all(len(r.raw) + 1 <= MAX_RECORD_CHARS for r in records)
    assert [r.truncated for r in records] == [True, True, True, False]
    assert raw_lines(records) == Counter([head, *body])


def test_open_records_are_bounded():
    asm = Assembler(max_open=10)
    out = []
    for i in range(100):
        out += asm.feed(f"{TS} {i} INFO nova.a [-] worker {i}", f"source-{i}")
        assert asm.open_records <= 10
    out += asm.flush()
    assert sorted(r.pid for r in out) == list(range(100))


def test_expire_closes_quiet_sources():
    asm = Assembler()
    asm.feed(f"{TS} 1 INFO nova.a [-] early", "a", now=100.0)
    asm.feed(f"{TS} 2 INFO nova.a [-] late", "b", now=200.0)
    (r,) = asm.expire(before=150.0)
    assert r.pid == 1 and asm.open_records == 1
    assert [x.pid for x in asm.flush()] == [2]


class TestSyslogMessages:
    def feed(self, asm, line, now=None):
        msg = parse_message(line, clock=asm.clock, now=now)
        return asm.feed_message(msg, f"{msg.host}\0{msg.program}\0{msg.pid}", raw=line)

    def test_escaped_traceback_is_split_and_folded(self):
        asm = Assembler()
        inner = [f"{TS} 7102 TRACE nova.compute.manager [instance: {INST}] {t}" for t in TB_TEXT]
        line = (f"<11>Sep  7 14:53:08 compute-1 nova-compute: {TS} 7102 ERROR nova.compute.manager {CTX} "
                f"[instance: {INST}] Instance failed to spawn#012" + "#012".join(inner))
        assert self.feed(asm, line) == []
        (r,) = asm.flush()
        assert r.message == "Instance failed to spawn" and r.traceback == "\n".join(TB_TEXT)
        assert r.raw == line and (r.host, r.program, r.pid, r.facility, r.severity) == ("compute-1", "nova-compute", 7102, 1, 3)
        assert r.instance_uuid == INST and r.request_id == REQ

    def test_line_per_message_transport_folds_across_messages(self):
        asm = Assembler()
        lines = [f"Jul 02 21:41:47 central nova-compute[925]: ERROR nova.compute.manager [None {REQ} admin admin] boom",
                 "Jul 02 21:41:47 central nova-compute[925]: ERROR nova.compute.manager Traceback (most recent call last):",
                 'Jul 02 21:41:47 central nova-compute[925]: ERROR nova.compute.manager   File "x.py", line 1, in f',
                 "Jul 02 21:41:47 central nova-compute[925]: ERROR nova.compute.manager ValueError: v",
                 "Jul 02 21:41:48 central sshd[1]: Accepted publickey for root"]
        out = []
        for ln in lines:
            out += self.feed(asm, ln)
        out += asm.flush()
        sshd, nova = out
        assert sshd.program == "sshd" and sshd.level is None and sshd.message == "Accepted publickey for root"
        assert nova.message == "boom" and nova.traceback == 'Traceback (most recent call last):\n  File "x.py", line 1, in f\nValueError: v'
        assert nova.raw == "\n".join(lines[:4])

    def test_plain_programs_stand_alone_and_unheadered_lines_follow_the_last_record(self):
        asm = Assembler()
        out = self.feed(asm, "Feb 10 16:09:22 compute4 kernel: one")
        out += self.feed(asm, "Feb 10 16:09:22 compute4 kernel: two")
        assert [r.message for r in out] == ["one", "two"]                 # emitted at once: nothing continues them
        assert self.feed(asm, "  not a syslog line") [0].parsed is False   # nothing open before it
        self.feed(asm, f"Feb 10 16:09:22 compute4 neutron-l3-agent: {TS} 5 ERROR neutron.agent.l3 [-] failed")
        assert self.feed(asm, "Traceback (most recent call last):") == []
        (r,) = asm.flush()
        assert r.message == "failed" and r.traceback == "Traceback (most recent call last):"


def test_origin_for_file():
    o = Origin.for_file("/var/log/neutron/server.log", host="net-1")
    assert (o.source, o.host, o.program, o.directory_service) == ("/var/log/neutron/server.log", "net-1", "neutron-server", "neutron")
    assert Origin.for_file("") == Origin()


def test_clock_is_shared_and_tz_applies():
    from datetime import timedelta, timezone
    asm = Assembler(tz=timezone(timedelta(hours=-5)))
    asm.feed("2018-03-01 05:00:00.000 8 INFO nova.a [-] x", "s")
    (r,) = asm.flush()
    assert r.timestamp == 1519898400.0 and isinstance(asm.clock, Clock)
