from stackwatch.rsyslog.trace import build_trace, format_text, trace_json
from stackwatch.store.interfaces import Event

UUID = "5f0c3a1e-2b7d-4c1a-9e3f-0a1b2c3d4e5f"


def test_trace_orders_groups_and_calls_out_first_problem():
    events = [
        Event(30.0, "log", "Instance spawned", host="cmp1", service="nova", program="nova-compute", severity="INFO",
              instance_uuid=UUID, id=3),
        Event(10.0, "log", "POST /servers", host="ctl1", service="nova", program="nova-api", severity="INFO",
              request_id="req-1", id=1),
        Event(20.0, "log", "Port binding failed", host="net1", service="neutron", program="neutron-server",
              severity="ERROR", fields={"traceback": "Traceback...\nPortBindingFailed"}, id=2),
        Event(25.0, "log", "second error", host="cmp1", service="nova", severity="ERROR", id=4),
    ]
    t = build_trace(UUID, events)
    assert [e.id for e in t.events] == [1, 2, 4, 3]
    assert list(t.by_service) == ["nova", "neutron"]
    assert t.first_problem.id == 2
    assert t.hosts == ["cmp1", "ctl1", "net1"] and t.span == 20.0
    text = format_text(t)
    assert "first problem:" in text and "PortBindingFailed" in text and "== neutron (1)" in text
    doc = trace_json(t)
    assert doc["count"] == 4 and doc["first_problem"]["traceback"].endswith("PortBindingFailed")


def test_empty_trace():
    assert format_text(build_trace("req-nothing", [])) == "no records name req-nothing"
