"""The front door: parse_lines (files and rsyslog files), parse_syslog_message, to_json, bad input."""

from __future__ import annotations

import calendar
import json
import random
from collections import Counter
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from stackwatch.rsyslog.parse import decode_line, parse_lines, parse_syslog_message, to_json
from stackwatch.rsyslog.record import MAX_LINE_CHARS, LogRecord

REQ = "req-9c8f1c2e-56b1-4a9e-9d55-0d1f3c1e7a42"
NOVA = [
    f"2024-11-25 10:00:01.123 4242 INFO nova.compute.manager [{REQ} - - - - -] Took 2.1 seconds to spawn\n",
    f"2024-11-25 10:00:02.000 4242 ERROR nova.compute.manager [{REQ} - - - - -] Instance failed to spawn\n",
    "2024-11-25 10:00:02.000 4242 ERROR nova.compute.manager Traceback (most recent call last):\n",
    '2024-11-25 10:00:02.000 4242 ERROR nova.compute.manager   File "/usr/lib/python3/dist-packages/nova/x.py", line 1, in f\n',
    "2024-11-25 10:00:02.000 4242 ERROR nova.compute.manager nova.exception.PortBindingFailed: failed\n",
    "2024-11-25 10:00:02.000 4242 ERROR nova.compute.manager \n",
]


def test_parse_an_oslo_log_file():
    records = list(parse_lines(NOVA, syslog=False, source="/var/log/nova/nova-compute.log", host="compute-1"))
    assert len(records) == 2
    info, error = records
    assert (info.host, info.service, info.program, info.pid, info.source) == (
        "compute-1", "nova", "nova-compute", 4242, "/var/log/nova/nova-compute.log")
    assert info.timestamp == calendar.timegm((2024, 11, 25, 10, 0, 1)) + 0.123
    assert info.raw == NOVA[0].rstrip("\n") and info.facility is None and info.severity is None
    assert error.traceback.splitlines()[-1] == "nova.exception.PortBindingFailed: failed"
    assert error.raw == "".join(NOVA[1:]).rstrip("\n")


def test_bytes_and_str_give_the_same_records():
    as_str = list(parse_lines(NOVA, False, source="/var/log/nova/nova-compute.log"))
    as_bytes = list(parse_lines([ln.encode() for ln in NOVA], False, source="/var/log/nova/nova-compute.log"))
    assert as_str == as_bytes


def test_crlf_and_missing_final_newline():
    records = list(parse_lines([NOVA[0].replace("\n", "\r\n").encode(), NOVA[0].rstrip("\n")], False))
    assert [r.raw for r in records] == [NOVA[0].rstrip("\n")] * 2


def test_tz_for_zone_less_times():
    (r,) = parse_lines(NOVA[:1], False, tz=timezone(timedelta(hours=1)))
    assert r.timestamp == calendar.timegm((2024, 11, 25, 9, 0, 1)) + 0.123


def test_invalid_utf8_is_replaced_for_parsing_and_escaped_in_raw():
    line = "2024-11-25 10:00:01.123 4242 INFO nova.compute.manager [-] Istanza avviata è ".encode() + b"\xff\xfe ok\n"
    (r,) = parse_lines([line], False)
    assert r.parsed and r.message == "Istanza avviata è \ufffd\ufffd ok"
    assert r.raw == "2024-11-25 10:00:01.123 4242 INFO nova.compute.manager [-] Istanza avviata è \\xff\\xfe ok"


def test_decode_line():
    assert decode_line(b"abc\r\n") == ("abc", "abc", False)
    assert decode_line("abc\n") == ("abc", "abc", False)
    assert decode_line(b"\xc3") == ("\ufffd", "\\xc3", False)
    text, raw, cut = decode_line(b"y" * (MAX_LINE_CHARS + 10) + b"\n")
    assert cut and len(text) == len(raw) == MAX_LINE_CHARS


def test_overlong_line_is_cut_and_flagged():
    head = "2024-11-25 10:00:01.123 4242 DEBUG nova.compute.manager [-] payload: "
    (r,) = parse_lines([head + "z" * (2 * MAX_LINE_CHARS)], False)
    assert r.parsed and r.truncated and len(r.raw) == MAX_LINE_CHARS and r.message.startswith("payload: zzz")
    r1, r2 = parse_lines([head + "z" * (2 * MAX_LINE_CHARS), "a continuation"], False)
    assert r1.truncated and r2.message == "a continuation" and r2.pid == 4242   # the rest goes on after the cut


def test_nul_bytes_and_binary_garbage_are_unparsed_records():
    lines = [b"\x00\x00\x00", b"\x89PNG\r\n", b"\xff" * 50, "2024-11-25 10:00:01.123 4242 INFO n [-] ok\x00!".encode()]
    records = list(parse_lines(lines, False))
    assert [r.parsed for r in records] == [False, False, False, True]
    assert records[0].message == "\x00\x00\x00" and records[3].message == "ok\x00!"


SYSLOG_FILE = [
    "Nov 25 10:00:01 compute-1 systemd[1]: Started Session 3 of user root.\n",
    f"Nov 25 10:00:02 compute-1 nova-compute: 2024-11-25 10:00:02.000 4242 ERROR nova.compute.manager [{REQ} - - - - -] "
    "Instance failed to spawn#0122024-11-25 10:00:02.000 4242 ERROR nova.compute.manager Traceback (most recent call last):"
    "#0122024-11-25 10:00:02.000 4242 ERROR nova.compute.manager   File \"x.py\", line 1, in f"
    "#0122024-11-25 10:00:02.000 4242 ERROR nova.compute.manager ValueError: boom\n",
    "Nov 25 10:00:03 compute-1 kernel: [ 12.345678] tap0: entered promiscuous mode\n",
    "Nov 25 10:00:04 compute-2 nova-compute: 2024-11-25 10:00:04.500 99 INFO nova.compute.manager [-] other host\n",
]


def test_parse_an_rsyslog_file():
    now = calendar.timegm((2024, 12, 1, 0, 0, 0))
    records = list(parse_lines(SYSLOG_FILE, syslog=True, source="/var/log/syslog", now=now))
    by_program = {(r.host, r.program): r for r in records}
    assert len(records) == 4
    systemd = by_program["compute-1", "systemd"]
    assert systemd.timestamp == calendar.timegm((2024, 11, 25, 10, 0, 1)) and systemd.level is None
    assert systemd.parsed and systemd.service == "" and systemd.pid == 1 and systemd.source == "/var/log/syslog"
    nova = by_program["compute-1", "nova-compute"]
    assert (nova.pid, nova.level, nova.request_id, nova.service) == (4242, "ERROR", REQ, "nova")
    assert nova.message == "Instance failed to spawn" and nova.traceback.endswith("ValueError: boom")
    assert nova.raw == SYSLOG_FILE[1].rstrip("\n")
    assert by_program["compute-2", "nova-compute"].message == "other host"


def test_rsyslog_file_lines_that_are_not_syslog():
    lines = ["not syslog at all", SYSLOG_FILE[3], "  File \"x.py\", line 1"]    # an unescaped continuation
    first, second = parse_lines(lines, syslog=True)
    assert not first.parsed and first.message == "not syslog at all" and first.host == ""
    assert second.message == "other host\n  File \"x.py\", line 1" and second.raw.count("\n") == 1


def test_facility_services_map_for_syslog():
    (r,) = parse_lines(["<155>Nov 25 10:00:01 ctl-1 uwsgi[9]: GET /v3/auth/tokens 200"], True,
                       facility_services={19: "keystone"})
    assert (r.facility, r.severity, r.service) == (19, 3, "keystone")


class TestParseSyslogMessage:
    def test_a_message_is_exactly_one_record(self):
        r = parse_syslog_message(SYSLOG_FILE[1].rstrip("\n").encode(), received_at=1.5e9, peer_host="10.0.0.5")
        assert isinstance(r, LogRecord) and r.host == "compute-1" and r.traceback.endswith("ValueError: boom")
        assert r.timestamp == calendar.timegm((2024, 11, 25, 10, 0, 2))       # the oslo time, not the header's

    def test_received_at_and_peer_fill_what_the_message_lacks(self):
        r = parse_syslog_message(b"<14>1 - - app - - - hello", received_at=1700000000.25, peer_host="10.0.0.5")
        assert (r.timestamp, r.host, r.program, r.message) == (1700000000.25, "10.0.0.5", "app", "hello")
        r = parse_syslog_message(b"\xff\xfegarbage", received_at=1700000000.0, peer_host="10.0.0.6")
        assert not r.parsed and (r.timestamp, r.host) == (1700000000.0, "10.0.0.6")
        assert r.message == "\ufffd\ufffdgarbage" and r.raw == "\\xff\\xfegarbage"

    def test_year_from_received_at(self):
        r = parse_syslog_message("<13>Dec 31 23:59:59 h p: x", received_at=calendar.timegm((2025, 1, 1, 0, 0, 5)),
                                 peer_host="")
        assert r.timestamp == calendar.timegm((2024, 12, 31, 23, 59, 59))

    def test_wire_message_with_trailing_newline(self):
        r = parse_syslog_message(b"<13>Oct 11 22:14:15 host tag: msg\n", received_at=0.0, peer_host="")
        assert r.message == "msg" and r.raw == "<13>Oct 11 22:14:15 host tag: msg"


def test_to_json():
    (info, error) = parse_lines(NOVA, False, source="/var/log/nova/nova-compute.log")
    d = to_json(error)
    json.dumps(d)
    assert d["time"] == "2024-11-25T10:00:02.000Z" and d["level"] == "ERROR" and d["traceback"]
    assert set(d) >= {"timestamp", "host", "service", "program", "pid", "level", "logger", "request_id",
                      "global_request_id", "user_id", "project_id", "instance_uuid", "message", "traceback",
                      "raw", "facility", "severity", "parsed", "truncated", "facility_name", "severity_name"}
    (garbage,) = parse_lines([b"\x00"], False)
    assert to_json(garbage)["time"] is None


# -- fuzz: random bytes, and real lines mutated, never raise and never lose a line ---------------

def _expected_raw(line: bytes) -> str:
    return decode_line(line)[1]


def _random_lines(rng: random.Random, n: int) -> list[bytes]:
    seeds = [ln.encode() for ln in NOVA] + [ln.encode() for ln in SYSLOG_FILE] + [
        b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 [a b=\"c\"] msg", b"TRACE", b"[-]",
        b"2015-10-20 09:10:57.150 28372 TRACE oslo.messaging._drivers.impl_rabbit Traceback (most recent call last):",
    ]
    alphabet = b" []:-.<>0123456789TRACEINFOERROR#012\t\x00\xff\xc3"
    lines = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.3:
            line = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120)))
        elif kind < 0.6:
            line = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
        else:                                   # a real line, cut and spliced with noise
            base = rng.choice(seeds).rstrip(b"\n")
            cut = rng.randrange(len(base) + 1)
            noise = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 10)))
            line = base[:cut] + noise + base[cut:] if rng.random() < 0.5 else base[:cut]
        if rng.random() < 0.01:
            line += b"q" * (MAX_LINE_CHARS + rng.randrange(100))
        lines.append(line.replace(b"\n", b" ").replace(b"\r", b" "))    # a line as file iteration yields it
    return lines


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("syslog", [False, True])
def test_fuzz_never_raises_and_every_line_lands_in_exactly_one_record(seed, syslog):
    rng = random.Random(seed)
    lines = _random_lines(rng, 1500)
    records = list(parse_lines(lines, syslog=syslog, source="/var/log/nova/fuzz.log", now=1.7e9))
    assert all(isinstance(r, LogRecord) for r in records)
    got = Counter(ln for r in records for ln in r.raw.split("\n"))
    assert got == Counter(_expected_raw(ln) for ln in lines)
    for r in records:
        # a line is cut at MAX_LINE_CHARS bytes; in raw an undecodable byte takes 4 characters ("\\xff")
        assert all(len(ln) <= 4 * MAX_LINE_CHARS for ln in r.raw.split("\n"))
        assert r.raw.count("\n") < 1000
        json.dumps(to_json(r))


@pytest.mark.parametrize("seed", range(4))
def test_fuzz_single_messages_are_exactly_one_record(seed):
    rng = random.Random(1000 + seed)
    for line in _random_lines(rng, 800):
        r = parse_syslog_message(line, received_at=1.7e9, peer_host="10.0.0.1")
        assert r.raw == _expected_raw(line)
        assert r.timestamp is not None and r.host


def test_havana_and_journald_syslog_bodies():
    lines = ["Sep  7 14:53:08 devstack01 2013-09-07 14:53:08.490 ERROR nova.compute.manager [req-1 u p] boom",
             f"Jul 02 21:41:47 central neutron-server[92593]: DEBUG neutron.api.v2.base [None {REQ} admin admin] "
             "Request body: {} prepare_request_body /opt/stack/neutron/neutron/api/v2/base.py:730"]
    havana, devstack = parse_lines(lines, syslog=True, now=calendar.timegm((2013, 9, 8, 0, 0, 0)))
    assert (havana.service, havana.program, havana.pid, havana.level, havana.request_id) == (
        "nova", "", None, "ERROR", "req-1")
    assert havana.timestamp == calendar.timegm((2013, 9, 7, 14, 53, 8)) + 0.49       # the oslo time
    assert (devstack.program, devstack.pid, devstack.service, devstack.user_id) == (
        "neutron-server", 92593, "neutron", "admin")
    assert devstack.timestamp == calendar.timegm((2013, 7, 2, 21, 41, 47))           # the header's time
    assert devstack.message == "Request body: {}" and devstack.function == "prepare_request_body"


class TestRelayedOsloFastPath:
    """parse_syslog_message reads the common case (rsyslog's RFC 5424 with one oslo.log line) in one regex
    match; it must give exactly the record the general path gives, and leave everything else to it."""

    FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
    HEADERS = ["<134>1 2024-11-25T10:00:01+00:00 ctl-1 nova-api 4242 - -  ",     # relayed RFC 3164
               "<131>1 2024-11-25T10:00:01.5-02:00 ctl-1 nova-api - ID7 - ",      # native RFC 5424
               "<14>1 2024-11-25T10:00:01Z - - 77 - - ",                          # nil host and app
               "<191>1 2024-11-25T10:00:01Z h nova-compute 1 - - \ufeff",          # BOM
               "<192>1 2024-11-25T10:00:01Z h a 1 - - ",                          # PRI out of range
               "<14>1 2024-13-25T10:00:01Z h a 1 - - ",                           # invalid header time
               '<14>1 2024-11-25T10:00:01Z h a 1 - [x@1 k="v"] ']                 # structured data
    BODIES = [f"2024-11-25 10:00:01.123 4242 INFO nova.compute.manager [{REQ} u p - - -] [instance: "
              "9f1e7a4c-3d2b-4c5e-8f6a-1b2c3d4e5f60] Took 2.1 seconds",
              "2024-11-25 10:00:01.123 4242 DEBUG nova.x [-] Lock acquired inner /usr/lib/python3/x.py:390",
              "2024-11-25 10:00:01.123 4242 ERROR nova.x [-] boom#0122024-11-25 10:00:01.123 4242 ERROR nova.x "
              "Traceback (most recent call last):#012  File \"x.py\", line 1#012ValueError: boom",
              "2024-11-25 10:00:01.123 4242 ERROR nova.x Traceback (most recent call last):",
              "2024-11-25 10:00:01.123 4242 TRACE nova.x ValueError: boom",
              "2024-11-25 10:00:01.123 4242 ERROR nova.x [Errno 111] Connection refused",
              "2024-11-25 10:00:01 4242 WARNING nova.x [None req-1 admin admin - - -] no fraction",
              "2024-11-25T10:00:01.123+01:00 4242 INFO nova.x [-] zoned",
              "2024-11-25 10:00:01.123 INFO nova.x [-] no pid",
              "2024-02-30 10:00:01.123 4242 INFO nova.x [-] invalid date",
              "INFO nova.x [req-1 - - - - -] bare",
              "not an oslo line at all"]

    def general(self, monkeypatch, msg, **kw):
        import stackwatch.rsyslog.parse as parse_module

        with monkeypatch.context() as m:
            m.setattr(parse_module, "_relayed_oslo_line", lambda *a: None)
            return parse_syslog_message(msg, **kw)

    def test_same_record_as_the_general_path(self, monkeypatch):
        from stackwatch.rsyslog.timestamps import Clock

        lines = [b.rstrip("\n") for p in sorted(self.FIXTURES.rglob("*.log*")) for b in p.read_text().splitlines()]
        bodies = self.BODIES + [ln for ln in lines if ln.strip()]
        clock = Clock(timezone.utc)
        kw = dict(received_at=1.7e9, peer_host="10.0.0.9", facility_services={16: "nova", 1: "cinder"})
        checked = 0
        for header in self.HEADERS:
            for body in bodies:
                msg = (header + body).encode()
                fast = parse_syslog_message(msg, clock=clock, **kw)
                assert fast == self.general(monkeypatch, msg, clock=Clock(timezone.utc), **kw), msg
                checked += 1
        assert checked > 500

    def test_the_fast_path_takes_the_common_case(self):
        from stackwatch.rsyslog.parse import _relayed_oslo_line
        from stackwatch.rsyslog.timestamps import Clock

        r = _relayed_oslo_line(self.HEADERS[0] + self.BODIES[0], 0.0, "peer", Clock(), None)
        assert r is not None and (r.request_id, r.user_id, r.instance_uuid) == (
            REQ, "u", "9f1e7a4c-3d2b-4c5e-8f6a-1b2c3d4e5f60")
        assert r.message == "Took 2.1 seconds" and r.raw == self.HEADERS[0] + self.BODIES[0]
        for body in self.BODIES[2:6]:                   # tracebacks, [Errno ...]: the general path
            assert _relayed_oslo_line(self.HEADERS[0] + body, 0.0, "peer", Clock(), None) is None
