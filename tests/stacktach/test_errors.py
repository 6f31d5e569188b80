"""Error notifications of every shape the corpus shows -> one ErrorEvent."""

from __future__ import annotations

from stackwatch.stacktach.errors import error_event, error_events
from stackwatch.stacktach.notification import decode

from .notification_support import FIXTURES, bare, note, render_template, resolved_samples

NOTIGEN = FIXTURES / "stacktach-notigen-templates"


def test_versioned_compute_exception():
    s = resolved_samples()
    e = error_event(decode(bare(s["compute-exception.json"])))
    assert (e.service, e.host, e.event_type, e.exception) == ("nova", "fake-mini", "compute.exception", "AggregateNameExists")
    assert e.message == "Aggregate versioned_exc_aggregate already exists."
    assert e.function == "nova.objects.aggregate._aggregate_create_in_db"
    assert e.instance_uuid is None and not e.wrapped
    assert e.key == ("nova", "compute.exception", "AggregateNameExists")


def test_versioned_instance_and_task_errors():
    s = resolved_samples()
    create = error_event(decode(bare(s["instance-create-error.json"])))
    assert (create.name, create.exception, create.instance_uuid) == (
        "instance.create.error", "FlavorDiskTooSmall", "178b0921-8f85-4257-88b6-2e743b5a975c")
    assert create.request_id == "req-5b6c791d-5709-4f36-8fbe-c3e02869e35d"
    task = error_event(decode(bare(s["compute_task-build_instances-error.json"])))
    assert (task.exception, task.instance_uuid) == ("NoValidHost", "d5e6a7b7-80e5-4166-85a3-cd6115201082")
    libvirt = error_event(decode(bare(s["libvirt-connect-error.json"])))
    assert (libvirt.exception, libvirt.host) == ("libvirtError", "compute")
    errors = [n for n, d in s.items() if error_event(decode(bare(d)))]
    # every versioned sample with priority ERROR, and only those, is an error event
    assert sorted(errors) == sorted(n for n, d in s.items() if d["priority"] == "ERROR")


def test_legacy_error_and_wrap_exception_from_templates():
    _meta, docs = render_template(NOTIGEN / "compute.instance.delete.start_7.json")
    events = list(error_events(decode(bare(d)) for d in docs))
    assert len(events) == 1
    (e,) = events
    assert (e.event_type, e.name, e.wrapped, e.host, e.service) == ("terminate_instance", "terminate_instance", True, "c-0042", "nova")
    assert e.instance_uuid == decode(bare(docs[0])).instance_uuid
    assert e.request_id == decode(bare(docs[0])).request_id          # same request as the delete.start
    assert e.exception is None and e.key == ("nova", "terminate_instance", "unknown")


def test_legacy_create_error_message():
    n = note("compute.instance.create.error", 1_700_000_000.0, priority="ERROR",
             message="Build of instance X was re-scheduled: VDI too big",
             exception={"kwargs": {"reason": "VDI too big", "code": 500}})
    e = error_event(n)
    assert (e.name, e.message, e.exception, e.time, e.wrapped) == (
        "instance.create.error", "Build of instance X was re-scheduled: VDI too big", None, 1_700_000_000.0, False)


def test_non_errors_are_not_events():
    assert error_event(note("compute.instance.create.end", 1.0e9)) is None
    assert error_event(decode((FIXTURES / "lab-2026" / "cinder-volume.create.end.json").read_bytes())) is None
    warn = decode(bare({"event_type": "x.y", "priority": "WARN"}))
    assert error_event(warn) is None
    crit = decode(bare({"event_type": "x.y", "priority": "critical", "publisher_id": "network.n1"}))
    assert (error_event(crit).service, error_event(crit).host) == ("neutron", "n1")
