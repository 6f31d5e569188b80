"""The pure probe core: run ids and names, the verdict, the series, the reaper's choice."""

from __future__ import annotations

import calendar

from stackwatch.checks.probes import core
from stackwatch.states import State

NOW = calendar.timegm((2026, 11, 25, 19, 55, 1, 0, 0, 0))


def test_run_id_names_carry_the_start_time():
    rid = core.run_id(NOW, "3fa2")
    assert rid == "20261125t195501-3fa2"
    name = core.resource_name("image", rid)
    assert name == "stackwatch-probe-image-20261125t195501-3fa2"
    assert core.parse_name(name) == ("image", rid, NOW)
    for other in ("cirros", "stackwatch-probe-", "stackwatch-probe-image-notatime-x", None):
        assert core.parse_name(other) is None


def result(*steps, cleanup=()):
    return core.ProbeResult("image", "r1", tuple(steps), tuple(cleanup))


def test_all_steps_fast_is_ok_with_perfdata():
    out = core.evaluate(result(core.Step("create", 0.5), core.Step("delete", 0.25)), slow=60)
    assert out.state is State.OK
    assert out.summary == "2 steps in 0.8s"
    assert [str(p) for p in out.perfdata] == ["create=0.5s", "delete=0.25s", "total=0.75s;60"]


def test_slow_is_warning_naming_the_slowest_step():
    out = core.evaluate(result(core.Step("create", 1), core.Step("wait-active", 70)), slow=60)
    assert out.state is State.WARNING and "slowest: wait-active" in out.summary


def test_failed_step_is_critical_with_error_request_id_and_trace_link():
    out = core.evaluate(result(core.Step("create", 1), core.Step("upload", 2, "image PUT /images/x/file: HTTP 503: "
                                                                 "Service Unavailable", "req-1")),
                        slow=60)
    assert out.state is State.CRITICAL
    assert out.summary.startswith("step upload failed after 2.0s: image PUT /images/x/file: HTTP 503")
    assert "request req-1, trace /trace/req-1" in out.summary
    assert "upload: 2.00s FAILED" in out.details[1]


def test_cleanup_failure_after_passing_steps_is_a_warning_and_unknown_has_no_perfdata():
    out = core.evaluate(result(core.Step("create", 1), cleanup=["image DELETE /images/x: no answer"]), slow=60)
    assert out.state is State.WARNING and "cleanup failed" in out.summary
    busy = core.evaluate(core.ProbeResult("image", "", (), unknown="another image probe is running"), slow=60)
    assert busy.state is State.UNKNOWN and busy.perfdata == ()


def test_samples_per_step_success_and_duration():
    got = {str(s.key): s.value for s in core.samples(result(core.Step("create", 1), core.Step("upload", 2, "x")), NOW)}
    assert got == {'stackwatch_probe_step_seconds{probe="image",step="create"}': 1,
                   'stackwatch_probe_step_seconds{probe="image",step="upload"}': 2,
                   'stackwatch_probe_success{probe="image"}': 0, 'stackwatch_probe_duration_seconds{probe="image"}': 3}


def test_leftovers_are_the_kinds_resources_older_than_the_limit():
    old = core.resource_name("image", core.run_id(NOW - 7200, "aaaa"))
    young = core.resource_name("image", core.run_id(NOW - 60, "bbbb"))
    other_kind = core.resource_name("volume", core.run_id(NOW - 7200, "cccc"))
    got = core.leftovers("image", [("1", old), ("2", young), ("3", other_kind), ("4", "cirros")], NOW, 3600)
    assert [(l.id, l.name) for l in got] == [("1", old)]
    assert [l.id for l in core.leftovers("image", [("1", old), ("2", young)], NOW, 0)] == ["1", "2"]
