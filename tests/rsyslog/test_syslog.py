"""Syslog headers: RFC 3164 and RFC 5424, with and without <PRI>, rsyslog's file formats, escapes."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone

import pytest

from stackwatch.rsyslog.syslog import decode_escapes, parse_message
from stackwatch.rsyslog.timestamps import Clock

NOW = calendar.timegm((2003, 11, 1, 0, 0, 0))      # "now" for RFC 3164 dates, which carry no year


def parse(line: str, now: float | None = NOW, peer: str = "", tz=None):
    return parse_message(line, clock=Clock(tz), now=now, peer_host=peer)


def utc(*args) -> float:
    return calendar.timegm(args + (0,) * (6 - len(args)))


def test_rfc3164_with_pri():
    m = parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8")
    assert (m.facility, m.severity) == (4, 2)
    assert (m.host, m.program, m.pid) == ("mymachine", "su", None)
    assert m.timestamp == utc(2003, 10, 11, 22, 14, 15)
    assert m.body == "'su root' failed for lonvick on /dev/pts/8"
    assert m.parsed and m.msgid is None and m.structured_data is None


def test_rfc3164_file_format_without_pri():
    m = parse("Nov 25 10:00:01 compute-1 nova-compute[12345]: 2024-11-25 10:00:01.123 12345 INFO x [-] y")
    assert (m.facility, m.severity) == (None, None)
    assert (m.host, m.program, m.pid) == ("compute-1", "nova-compute", 12345)
    assert m.body == "2024-11-25 10:00:01.123 12345 INFO x [-] y"


def test_space_padded_day_and_fraction():
    m = parse("Oct  1 02:03:04.250 host kernel: [ 12.345] eth0: link up")
    assert m.timestamp == utc(2003, 10, 1, 2, 3, 4) + 0.25
    assert (m.host, m.program, m.pid, m.body) == ("host", "kernel", None, "[ 12.345] eth0: link up")


@pytest.mark.parametrize("line, program, pid, body", [
    ("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure;", "sshd(pam_unix)", 19939,
     "authentication failure;"),
    ("Jun 14 15:16:01 combo postfix/smtpd[77]: connect from x", "postfix/smtpd", 77, "connect from x"),
    ("Jun 14 15:16:01 combo CRON[1]:", "CRON", 1, ""),
    ("Jun 14 15:16:01 combo systemd[1]: Started Session 3.", "systemd", 1, "Started Session 3."),
    ("Jun 14 15:16:01 combo app[abc]: not a numeric pid", "app", None, "not a numeric pid"),
    ("Jun 19 04:09:11 combo syslogd 1.4.1: restart.", "", None, "syslogd 1.4.1: restart."),
])
def test_tags(line, program, pid, body):
    m = parse(line)
    assert (m.host, m.program, m.pid, m.body) == ("combo", program, pid, body)


def test_missing_hostname_takes_the_peer():
    m = parse("<13>Oct 11 22:14:15 su: 'su root' failed", peer="10.0.0.9")
    assert (m.host, m.program, m.body) == ("10.0.0.9", "su", "'su root' failed")
    m = parse("<13>Oct 11 22:14:15 nova-api[42]: hello", peer="10.0.0.9")
    assert (m.host, m.program, m.pid, m.body) == ("10.0.0.9", "nova-api", 42, "hello")


def test_pri_only_and_malformed_dates_keep_the_text():
    m = parse("<13>", peer="p")
    assert m.parsed and (m.facility, m.severity, m.body, m.host, m.timestamp) == (1, 5, "", "p", None)
    m = parse("<13>Octob 11 22:14:15 host tag: msg", peer="p")
    assert m.parsed and m.timestamp is None and m.host == "p"
    assert m.body == "Octob 11 22:14:15 host tag: msg"
    m = parse("<13>Feb 31 22:14:15 host tag: msg")                   # no such day: time unknown
    assert m.timestamp is None and (m.host, m.program, m.body) == ("host", "tag", "msg")
    m = parse("<13>Oct 11 25:14:15 host tag: msg")
    assert m.timestamp is None


def test_invalid_pri_is_not_a_header():
    m = parse("<999>Oct 11 22:14:15 host tag: msg")
    assert (m.facility, m.severity) == (None, None)
    assert not m.parsed and m.body == "<999>Oct 11 22:14:15 host tag: msg"


def test_not_syslog_at_all():
    for line in ("", "hello world", "2024-11-25 10:00:01.123 12345 INFO nova.x [-] oslo line", "<<>>", "<1"):
        m = parse(line)
        assert not m.parsed and m.body == line


def test_rfc3339_timestamp_in_a_3164_style_message():
    m = parse("<165>2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc[8710]: %% It's time to make the do-nuts.")
    assert m.timestamp == pytest.approx(utc(2003, 8, 24, 12, 14, 15) + 0.000003)
    assert (m.facility, m.severity, m.host, m.program, m.pid) == (20, 5, "192.0.2.1", "myproc", 8710)
    assert m.body == "%% It's time to make the do-nuts."


def test_rsyslog_file_format_iso_timestamp():
    m = parse("2024-11-25T10:00:01.123456+01:00 compute-1 nova-compute[7]: 2024-11-25 09:00:01.120 7 INFO a [-] b")
    assert m.timestamp == pytest.approx(utc(2024, 11, 25, 9, 0, 1) + 0.123456)
    assert (m.host, m.program, m.pid) == ("compute-1", "nova-compute", 7)
    m = parse("2024-11-25T10:00:01Z h p: x")
    assert m.timestamp == utc(2024, 11, 25, 10, 0, 1) and m.body == "x"


class TestRfc5424:
    """The RFC 5424 section 6.5 examples, and the corners of STRUCTURED-DATA."""

    def test_example_1_bom_and_nil_procid(self):
        m = parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff'su root' failed")
        assert (m.facility, m.severity) == (4, 2)
        assert m.timestamp == pytest.approx(utc(2003, 10, 11, 22, 14, 15) + 0.003)
        assert (m.host, m.program, m.pid, m.msgid, m.structured_data) == (
            "mymachine.example.com", "su", None, "ID47", None)
        assert m.body == "'su root' failed"

    def test_example_2_offset_and_procid(self):
        m = parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.")
        assert m.timestamp == pytest.approx(utc(2003, 8, 24, 12, 14, 15) + 0.000003)
        assert (m.host, m.program, m.pid, m.msgid) == ("192.0.2.1", "myproc", 8710, None)
        assert m.body == "%% It's time to make the do-nuts."

    def test_example_3_structured_data(self):
        sd = '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
        m = parse(f"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 {sd} \ufeffAn application event log entry...")
        assert m.structured_data == sd and m.program == "evntslog"
        assert m.body == "An application event log entry..."

    def test_example_4_two_elements_no_message(self):
        sd = '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]'
        m = parse(f"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 {sd}")
        assert m.structured_data == sd and m.body == ""

    def test_escapes_inside_param_values(self):
        sd = r'[id@1 a="x\]y" b="q\"]z" c="\\"]'
        m = parse(f"<14>1 - host app 12 - {sd} the message")
        assert m.structured_data == sd and m.body == "the message" and m.timestamp is None

    def test_nil_values_and_peer(self):
        m = parse("<14>1 - - - - - -", peer="10.1.1.1")
        assert (m.host, m.program, m.pid, m.msgid, m.structured_data, m.body) == ("10.1.1.1", "", None, None, None, "")

    def test_unterminated_structured_data_does_not_raise(self):
        m = parse('<14>1 - h a - - [id@1 a="never closed')
        assert m.parsed and m.structured_data == '[id@1 a="never closed'

    def test_oslo_body_with_escaped_newlines(self):
        m = parse("<11>1 2024-01-02T03:04:05.678Z ctl-1 nova-api 99 - - 2024-01-02 03:04:05.678 99 ERROR nova.api "
                  "[req-a - - - - - -] boom#0122024-01-02 03:04:05.678 99 ERROR nova.api Traceback (most recent call last):")
        assert m.body.split("\n")[1].endswith("Traceback (most recent call last):")


class TestYears:
    def test_year_comes_from_now(self):
        now = calendar.timegm((2025, 1, 3, 0, 0, 0))
        assert parse("Dec 31 23:59:59 h p: x", now=now).timestamp == utc(2024, 12, 31, 23, 59, 59)
        assert parse("Jan  2 00:00:00 h p: x", now=now).timestamp == utc(2025, 1, 2)
        assert parse("Feb  2 00:00:00 h p: x", now=now).timestamp == utc(2025, 2, 2)   # a month ahead: clock skew

    def test_without_now_the_year_is_1970(self):
        assert parse("Mar  4 05:06:07 h p: x", now=None).timestamp == utc(1970, 3, 4, 5, 6, 7)

    def test_explicit_year_in_the_date(self):
        assert parse("Oct 11 2003 22:14:15 h p: x", now=None).timestamp == utc(2003, 10, 11, 22, 14, 15)

    def test_zone_less_times_are_in_tz(self):
        plus2 = timezone(timedelta(hours=2))
        m = parse("Oct 11 22:14:15 h p: x", tz=plus2)
        assert m.timestamp == datetime(2003, 10, 11, 22, 14, 15, tzinfo=plus2).timestamp()


@pytest.mark.parametrize("text, expected", [
    ("a#012b", "a\nb"),
    ("col1#011col2", "col1\tcol2"),
    ("x#001y", "x#001y"),                   # other control characters stay escaped
    ("issue #0123", "issue \n3"),
    ("plain", "plain"),
])
def test_decode_escapes(text, expected):
    assert decode_escapes(text) == expected


def test_body_escapes_are_decoded_but_not_in_header():
    m = parse("Nov 25 10:00:01 host prog: line1#012line2#011tabbed")
    assert m.body == "line1\nline2\ttabbed"


@pytest.mark.parametrize("line", [
    "<", "<1", "<1>", "<191>1", "<191>1 ", "<191>1 x x x x x", "<0>1 2003-13-45T99:99:99Z h a - - - m",
    "Jan", "Jan 1", "Jan 99 99:99:99 h p: x", "<13>Jan  1 00:00:00", "\x00\x01\x02", "Oct 11 22:14:15 ",
    "<13>Oct 11 22:14:15 [weird] stuff", "Oct 11 22:14:15 h p[: x", "2024-11-25T10:00:01+99:99 h p: x",
    "2024-11-25T10:00:61 h p: x", "<7>" + "a" * 10000,
])
def test_never_raises(line):
    m = parse(line)
    assert isinstance(m.body, str)


def test_overlong_tag_and_8bit_text():
    tag = "t" * 200
    m = parse(f"<13>Oct 11 22:14:15 host {tag}[1]: msg")
    assert m.parsed and m.host == "host" and m.program == "" and m.body == f"{tag}[1]: msg"
    m = parse("<13>Oct 11 22:14:15 host prog: Größe überschritten \u00e8 \u2603")
    assert m.program == "prog" and m.body == "Größe überschritten \u00e8 \u2603"


def test_havana_syslog_without_a_tag():
    m = parse("Sep  7 14:53:08 devstack01 2013-09-07 14:53:08.490 ERROR nova.compute.manager [req-1 u p] boom")
    assert (m.host, m.program, m.pid) == ("devstack01", "", None)
    assert m.body == "2013-09-07 14:53:08.490 ERROR nova.compute.manager [req-1 u p] boom"


class TestRelayedByRsyslog:
    """rsyslog forwarding an RFC 3164 message (imuxsock, imtcp) as RFC 5424 keeps the old MSG's leading
    space: `... - -  2024-...`. The body is the oslo.log line without it (raw keeps it)."""

    LINE = ("<134>1 2024-11-25T10:00:01+00:00 ctl-1 nova-api 4242 - -  2024-11-25 10:00:01.123 4242 INFO "
            "nova.api [req-1 - - - - -] ok")

    def test_the_leading_space_is_not_part_of_the_body(self):
        m = parse(self.LINE)
        assert m.body.startswith("2024-11-25 10:00:01.123 4242 INFO")
        assert (m.host, m.program, m.pid, m.facility, m.severity) == ("ctl-1", "nova-api", 4242, 16, 6)
        assert m.timestamp == utc(2024, 11, 25, 10, 0, 1)

    def test_bom_then_space_and_structured_data(self):
        assert parse("<14>1 2024-01-02T03:04:05Z h a - - - \ufeff x").body == "x"
        assert parse('<14>1 2024-01-02T03:04:05Z h a - - [id@1 a="b"]  x').body == "x"

    def test_zones_and_fractions_as_the_general_path_reads_them(self):
        m = parse("<14>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - x")
        assert m.timestamp == pytest.approx(utc(2003, 8, 24, 12, 14, 15) + 0.000003)
        assert parse("<14>1 2003-08-24T05:14:15+0700 h a - - - x").timestamp == utc(2003, 8, 23, 22, 14, 15)
        assert parse("<14>1 2003-13-24T05:14:15Z h a - - - x").timestamp is None       # invalid month
        m = parse("<192>1 2003-08-24T05:14:15Z h a - - - x")                           # PRI out of range
        assert m.facility is None


def test_clock_zoned_caches_per_second_and_zone():
    clock = Clock()
    assert clock.zoned("2024-11-25T10:00:01", "5", "+01:00") == utc(2024, 11, 25, 9, 0, 1) + 0.5
    assert clock.zoned("2024-11-25T10:00:01", None, "Z") == utc(2024, 11, 25, 10, 0, 1)
    assert clock.zoned("2024-11-25T10:00:01", "25", "+01:00") == utc(2024, 11, 25, 9, 0, 1) + 0.25
    assert clock.zoned("2024-02-30T10:00:01", None, "Z") is None
    assert clock.zoned("2024-02-30T10:00:01", "1", "Z") is None                       # cached as invalid
    assert clock.zoned("2024-11-25T10:00:01", None, "+25:00") is None
    assert clock.iso("2024-11-25T10:00:01", "5", "-02:00") == utc(2024, 11, 25, 12, 0, 1) + 0.5
