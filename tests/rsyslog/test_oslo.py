"""oslo.log lines: prefix, every context-bracket variant of NOTES.md, instance, DEBUG suffix, bare forms."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone

import pytest

from stackwatch.rsyslog.oslo import is_context, parse_context, parse_line, split_debug_suffix
from stackwatch.rsyslog.timestamps import Clock

REQ = "req-38101a0b-2096-447d-96ea-a692162415ae"
GREQ = "req-5e7f1c2a-0b9d-4e61-8a3c-2f4d6b8e9a01"
USER = "113d3a99c3da401fbd62cc2caa5b96d2"
PROJ = "54fadb412c4e40cdbaed9335e4c35a9e"
DOM = "f0b274ab8c6e4b1d9f3a2c5e7d9b1a3c"
INST = "b9000564-fe1a-409b-b8cc-1e88b294cd1d"


def line(ctx: str, rest: str = "msg", level: str = "INFO", logger: str = "nova.compute.manager") -> str:
    return f"2017-05-16 00:00:04.500 2931 {level} {logger} [{ctx}] {rest}"


def p(text: str, tz=None):
    return parse_line(text, Clock(tz))


def test_anatomy_of_a_line():
    o = p(f'2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [{REQ} {USER} {PROJ} - - -] '
          '10.11.10.1 "GET /v2/x/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829')
    assert o.stamp == "2017-05-16 00:00:00.008"
    assert o.timestamp == pytest.approx(calendar.timegm((2017, 5, 16, 0, 0, 0)) + 0.008)
    assert (o.pid, o.level, o.logger) == (25746, "INFO", "nova.osapi_compute.wsgi.server")
    assert o.context == f"{REQ} {USER} {PROJ} - - -" and o.instance is None
    assert o.text.startswith('10.11.10.1 "GET') and o.lead is None and not o.bare


# (bracket inside, global_request_id, request_id, user_id, project_id) — NOTES.md section 1's table
CONTEXTS = [
    ("-", None, None, None, None),                                                       # no context
    (f"{REQ} None", None, REQ, None, None),                                              # Juno
    (f"{REQ} ", None, REQ, None, None),                                                  # Juno, empty
    (f"{REQ} {USER} {PROJ}", None, REQ, USER, PROJ),                                     # Havana/Icehouse
    (f"{REQ} - - - - -", None, REQ, None, None),                                         # Kilo-Ocata, Yoga
    (f"{REQ} {USER} {PROJ} - - -", None, REQ, USER, PROJ),                               # Mitaka/Newton
    (f"{REQ} {USER} {PROJ} - {DOM} {DOM}", None, REQ, USER, PROJ),                       # Pike-Yoga
    (f"{REQ} {USER} {PROJ} - default default", None, REQ, USER, PROJ),
    (f"{GREQ} {REQ} {USER} {PROJ} - - - -", GREQ, REQ, USER, PROJ),                      # Zed+: global + local
    (f"None {REQ} - - - - - -", None, REQ, None, None),                                  # Zed+, no global id
    (f"None {REQ} admin admin", None, REQ, "admin", "admin"),                            # devstack journald
    (f"None {REQ} None None", None, REQ, None, None),
    ("", None, None, None, None),
]


@pytest.mark.parametrize("ctx, glob, req, user, project", CONTEXTS)
def test_context_variants(ctx, glob, req, user, project):
    o = p(line(ctx, "the message"))
    assert o.context == ctx and o.text == "the message"
    assert parse_context(o.context) == (glob, req, user, project)


def test_no_bracket_means_no_context():
    assert parse_context(None) == (None, None, None, None)
    o = p("2022-02-04 10:06:16.662 183926 ERROR neutron.agent.metadata.agent Traceback (most recent call last):")
    assert o.context is None and o.text == "Traceback (most recent call last):"


def test_a_bracket_that_is_message_text_is_not_a_context():
    assert not is_context("Errno 111") and is_context("-") and is_context(f"None {REQ}")
    o = p("2022-02-04 10:06:16.662 183926 ERROR oslo.messaging._drivers.impl_rabbit [Errno 111] ECONNREFUSED")
    assert o.context is None and o.text == "[Errno 111] ECONNREFUSED"


def test_instance_after_the_context():
    o = p(line(f"{REQ} - - - - -", f"[instance: {INST}] VM Started (Lifecycle Event)"))
    assert o.instance == INST and o.text == "VM Started (Lifecycle Event)"


def test_instance_right_after_the_logger_on_traceback_lines():
    o = p(f"2017-05-16 00:00:04.500 2931 ERROR nova.compute.manager [instance: {INST}] Traceback (most recent call last):")
    assert o.context is None and o.instance == INST and o.text == "Traceback (most recent call last):"
    o = p(f"2015-10-20 09:10:57.150 28372 TRACE nova.compute.manager [instance: {INST}]   File \"x.py\", line 1, in f")
    assert o.level == "TRACE" and o.instance == INST and o.text == '  File "x.py", line 1, in f'


def test_empty_traceback_end_line():
    o = p("2022-02-04 10:06:16.662 183926 ERROR neutron.agent.metadata.agent ")
    assert o.context is None and o.text == ""
    o = p("2022-02-04 10:06:16.662 183926 ERROR neutron.agent.metadata.agent")
    assert o.logger == "neutron.agent.metadata.agent" and o.text == ""


@pytest.mark.parametrize("stamp, frac", [
    ("2017-05-16 00:00:04", 0.0), ("2017-05-16 00:00:04.5", 0.5), ("2017-05-16 00:00:04.123456", 0.123456),
    ("2017-05-16 00:00:04,123", 0.123), ("2017-05-16T00:00:04.250", 0.25),
])
def test_timestamp_variants(stamp, frac):
    o = p(f"{stamp} 2931 INFO nova.x [-] m")
    assert o.timestamp == pytest.approx(calendar.timegm((2017, 5, 16, 0, 0, 4)) + frac)
    assert o.stamp == stamp


def test_timestamp_with_an_explicit_zone():
    o = p("2017-05-16T02:00:04.250+02:00 2931 INFO nova.x [-] m")
    assert o.timestamp == pytest.approx(calendar.timegm((2017, 5, 16, 0, 0, 4)) + 0.25)


def test_zone_less_times_are_utc_unless_tz_given():
    plus2 = timezone(timedelta(hours=2))
    text = "2017-05-16 00:00:04.500 2931 INFO nova.x [-] m"
    assert p(text).timestamp == calendar.timegm((2017, 5, 16, 0, 0, 4)) + 0.5
    assert p(text, plus2).timestamp == datetime(2017, 5, 16, 0, 0, 4, 500000, tzinfo=plus2).timestamp()


def test_invalid_date_keeps_the_line_without_a_time():
    o = p("2017-13-45 00:00:04.500 2931 INFO nova.x [-] m")
    assert o is not None and o.timestamp is None and o.text == "m"


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "AUDIT", "TRACE"])
def test_levels(level):
    assert p(line("-", level=level)).level == level


def test_not_oslo():
    for text in ("", "hello", "2017-05-16 00:00:04.500 2931 GET /v2/servers", '  File "x.py", line 1',
                 "RESP BODY: {}", "INFO something happened", "2017-05-16", "Traceback (most recent call last):"):
        assert p(text) is None, text


def test_pid_and_date_may_be_missing():
    o = p("2013-09-07 14:53:08.490 ERROR nova.compute.manager [req-x None None] [instance: abc] Failed")  # Havana syslog
    assert o.pid is None and o.level == "ERROR" and o.instance == "abc" and o.text == "Failed"
    o = p(f"DEBUG neutron.api.v2.base [None {REQ} admin admin] Request body: {{}}")    # devstack journald
    assert o.bare and o.stamp is None and o.timestamp is None and o.pid is None
    assert (o.level, o.logger, o.text) == ("DEBUG", "neutron.api.v2.base", "Request body: {}")
    assert parse_context(o.context) == (None, REQ, "admin", "admin")


def test_bare_lines_need_a_context_unless_they_continue_a_traceback():
    assert p("INFO nova.compute.manager started") is None
    o = p("ERROR nova.compute.manager Traceback (most recent call last):")
    assert o.bare and o.context is None and o.text == "Traceback (most recent call last):"
    o = p(f"\x1b[01;31mERROR nova.compute.manager [None {REQ} admin admin] boom")    # devstack colours
    assert o.level == "ERROR" and o.text == "boom"


def test_loghub_file_name_column_is_skipped():
    o = p(f"nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:04.500 2931 INFO nova.compute.manager "
          f"[{REQ} - - - - -] [instance: {INST}] VM Started (Lifecycle Event)")
    assert o.lead == "nova-compute.log.1.2017-05-16_13:55:31"
    assert (o.pid, o.instance, o.text) == (2931, INST, "VM Started (Lifecycle Event)")


def test_config_dump_line_mentioning_trace_is_a_debug_line():
    o = p("2015-10-29 10:51:41.715 27871 DEBUG nova.openstack.common.service [-] logging_exception_prefix       = "
          "%(asctime)s.%(msecs)03d %(process)d TRACE %(name)s %(instance)s log_opt_values "
          "/usr/lib/python2.7/site-packages/oslo/config/cfg.py:1996")
    assert o.level == "DEBUG" and o.context == "-"


@pytest.mark.parametrize("text, expected", [
    ("Initial status is backup initial_state /usr/lib/python3/dist-packages/neutron/agent/l3/ka.py:300",
     ("Initial status is backup", "initial_state", "/usr/lib/python3/dist-packages/neutron/agent/l3/ka.py:300")),
    ("loaded <module> /opt/x.py:1", ("loaded", "<module>", "/opt/x.py:1")),
    ("dev run f nova/compute/manager.py:7", ("dev run", "f", "nova/compute/manager.py:7")),
    ("RESP BODY: {}\n _http_log_response /usr/lib/python2.7/site-packages/keystoneclient/session.py:182",
     ("RESP BODY: {}\n", "_http_log_response", "/usr/lib/python2.7/site-packages/keystoneclient/session.py:182")),
    ("no suffix here", ("no suffix here", None, None)),
    ("ratio 3:4", ("ratio 3:4", None, None)),
    ("see file.py:12", ("see file.py:12", None, None)),              # needs a function name before the path
    ("", ("", None, None)),
])
def test_debug_suffix(text, expected):
    assert split_debug_suffix(text) == expected
