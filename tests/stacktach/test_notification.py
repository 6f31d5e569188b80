"""The decoder against the copied fixtures (always present): field values read off the files by
hand, the v2 envelope, name normalization, time forms, and every way a body can be malformed."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone

import pytest

from stackwatch.stacktach.names import normalize_name, service_of, split_publisher
from stackwatch.stacktach.notification import MalformedNotification, Notification, decode
from stackwatch.stacktach.times import parse_time

from .notification_support import FIXTURES, bare, envelope, render_template, resolved_samples

LAB = FIXTURES / "lab-2026"
UVIC = FIXTURES / "uvic-devops2018-captured"
WATCHER = FIXTURES / "watcher-test-notifications"
NOTIGEN = FIXTURES / "stacktach-notigen-templates"
LAB_UUID = "e7c49870-376d-4a4c-b1af-3a08cb46cf2d"


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def both_ways(path) -> list[Notification]:
    """A fixture decoded as it is in the file and wrapped in (or, if enveloped, unwrapped from) the v2 envelope."""
    body = path.read_bytes()
    doc = json.loads(body)
    other = json.loads(doc["oslo.message"]) if "oslo.message" in doc else None
    second = bare(other) if other is not None else envelope(doc)
    return [decode(body), decode(second)]


@pytest.mark.parametrize("n", both_ways(LAB / "nova-legacy-compute.instance.create.end.json"), ids=["bare", "v2"])
def test_lab_legacy_create_end(n):
    assert n.event_type == "compute.instance.create.end"
    assert n.name == "instance.create.end"
    assert (n.service, n.host, n.publisher_id, n.priority) == ("nova", "vm", "compute.vm", "INFO")
    assert n.message_id == "4c854978-4eaf-4a03-893d-339b56a87894"
    assert n.timestamp == epoch("2026-11-23 20:35:10.508721")
    assert n.request_id == "req-fafd5233-005f-471b-8064-801a51dfc9e2"
    assert n.tenant_id == "c775fe8c196c4376bdb2185a2820ab09"
    assert n.user_id == "be33c6fd5c764709b85c24248ff99065"
    assert n.instance_uuid == LAB_UUID
    assert (n.state, n.old_state, n.task_state) == ("active", None, None)   # state_description ""
    assert (n.flavor, n.vcpus, n.memory_mb, n.root_gb) == ("m1.tiny", 1, 512, 1)
    assert n.image == "a90ed7e0-89f3-4f1c-9b3e-2204139ccc75"
    assert n.launched_at == epoch("2026-11-23T20:35:10.441515")
    assert n.deleted_at is None and n.terminated_at is None                 # "" means null
    assert n.fault is None and not n.is_error
    assert n.payload["display_name"] == "lab-tmp-vm"


@pytest.mark.parametrize("n", both_ways(LAB / "nova-versioned-instance.create.end.json"), ids=["bare", "v2"])
def test_lab_versioned_create_end(n):
    assert (n.event_type, n.name) == ("instance.create.end", "instance.create.end")
    assert (n.service, n.host, n.publisher_id) == ("nova", "vm", "nova-compute:vm")
    assert n.payload_type == "InstanceCreatePayload"
    assert n.instance_uuid == LAB_UUID
    assert (n.flavor, n.vcpus, n.memory_mb, n.root_gb) == ("m1.tiny", 1, 512, 1)
    assert n.launched_at == epoch("2026-11-23T20:35:10")
    assert n.deleted_at is None and n.fault is None and not n.is_error
    assert n.payload["flavor"]["flavorid"] == "1"                     # nested nova_object flattened
    assert "nova_object.data" not in json.dumps(n.payload)


def test_lab_legacy_and_versioned_create_end_describe_the_same_boot():
    legacy = decode((LAB / "nova-legacy-compute.instance.create.end.json").read_bytes())
    versioned = decode((LAB / "nova-versioned-instance.create.end.json").read_bytes())
    for field in ("name", "instance_uuid", "tenant_id", "user_id", "request_id", "host", "flavor",
                  "image", "state", "service", "vcpus", "memory_mb"):
        assert getattr(legacy, field) == getattr(versioned, field), field
    assert abs(legacy.launched_at - versioned.launched_at) < 1           # versioned drops microseconds
    assert legacy.message_id != versioned.message_id


def test_lab_keystone_cadf_and_cinder():
    k = decode((LAB / "keystone-identity.user.created.json").read_bytes())
    assert (k.service, k.host, k.name) == ("keystone", "vm", "identity.user.created")
    assert k.request_id == "req-52dcb251-db68-444b-9fb8-29f6cfe99adc"    # CADF initiator
    assert k.user_id == "be33c6fd5c764709b85c24248ff99065"
    c = decode((LAB / "cinder-volume.create.end.json").read_bytes(), exchange="openstack")
    assert (c.service, c.host, c.state) == ("cinder", "vm", "available")  # vm@fake#fake
    assert c.payload["volume_id"] == "25c9a4d9-2da5-4fd7-80f7-eb836151bd11"
    assert c.launched_at == epoch("2026-11-23T20:35:38.878800")


def test_uvic_enveloped_glance_and_nova_captures():
    g = decode((UVIC / "glanceNotification.json").read_bytes())
    assert (g.name, g.service, g.host, g.state) == ("image.create", "glance", "localhost", "queued")
    assert g.image == "2ec3c6e1-ad2a-4d44-b9d0-f513718ba395"
    assert g.tenant_id == "9dbc97d98e4d4e59a4aac759b5749230"               # the image owner
    assert g.timestamp == epoch("2018-07-04 18:45:03.409609")
    assert g.request_id is None                                           # no _context_* at all
    k = decode((UVIC / "novaNotification2.json").read_bytes())
    assert (k.name, k.service, k.host) == ("keypair.delete.start", "nova", "packstack-instance.openstacklocal")
    assert k.request_id == "req-cd2f8512-57a4-4573-8b8f-ac985779990f"
    assert k.global_request_id is None
    assert k.timestamp == epoch("2018-05-29 20:12:38.640725")


def test_auth_token_is_redacted_in_raw():
    body = (UVIC / "novaNotification1.json").read_bytes()
    token = json.loads(body)["_context_auth_token"]
    n = decode(body)
    assert token not in n.raw and "<redacted>" in n.raw
    assert n.raw.replace("<redacted>", token) == body.decode()


def test_auth_token_in_a_wrap_exception_payload_is_redacted():
    _meta, notes = render_template(NOTIGEN / "compute.instance.delete.start_7.json")
    doc = next(d for d in notes if d["event_type"] == "terminate_instance")
    token = doc["_context_auth_token"]
    assert doc["payload"]["args"]["context"]["auth_token"] == token
    n = decode(bare(doc))
    assert n.payload["args"]["context"]["auth_token"] == "<redacted>"
    assert token not in n.raw


def test_uvic_neutron_capture():
    n = decode((UVIC / "neutronNotification1.json").read_bytes())
    assert (n.service, n.host, n.name) == ("neutron", "openstack.westcloud", "security_group.delete.start")
    assert n.tenant_id == "9dbc97d98e4d4e59a4aac759b5749230"
    assert n.payload == {"security_group_id": "bb78c754-085b-49f0-850a-bea14a14e6e6"}


def test_watcher_legacy_and_versioned_update_of_one_instance():
    legacy = decode((WATCHER / "scenario3_notfound_legacy_instance-update.json").read_bytes())
    versioned = decode((WATCHER / "scenario3_notfound_instance-update.json").read_bytes())
    assert legacy.name == versioned.name == "instance.update"
    assert legacy.instance_uuid == versioned.instance_uuid == "9966d6bd-a45c-4e1c-9d57-3054899a3ec7"
    assert legacy.host == versioned.host == "Node_2"                      # compute:Node_2, nova-compute:Node_2
    assert legacy.service == versioned.service == "nova"
    assert legacy.priority is None and legacy.timestamp is None           # this capture has neither
    assert (legacy.state, legacy.old_state) == ("paused", "paused")
    assert legacy.audit_period_beginning == epoch("2016-08-17T13:00:00")
    assert legacy.launched_at == epoch("2016-08-17T13:53:35")


def test_versioned_samples_fields():
    s = resolved_samples()
    assert len(s) == 140
    upd = decode(bare(s["instance-update.json"]))
    assert (upd.state, upd.old_state, upd.task_state) == ("active", "building", "scheduling")
    ex = decode(bare(s["instance-exists.json"]))
    assert ex.name == "instance.exists"
    assert ex.audit_period_beginning == epoch("2012-10-01T00:00:00")
    assert ex.audit_period_ending == epoch("2012-10-29T13:42:11")
    err = decode(bare(s["instance-create-error.json"]))
    assert err.is_error and err.priority == "ERROR"
    assert err.fault.exception == "FlavorDiskTooSmall"
    assert err.instance_uuid == "178b0921-8f85-4257-88b6-2e743b5a975c"
    exc = decode(bare(s["compute-exception.json"]))
    assert exc.fault.exception == "AggregateNameExists" and exc.instance_uuid is None
    task = decode(bare(s["compute_task-build_instances-error.json"]))
    assert task.fault.exception == "NoValidHost"
    assert task.instance_uuid == "d5e6a7b7-80e5-4166-85a3-cd6115201082"
    svc = decode(bare(s["service-update.json"]))
    assert svc.instance_uuid is None                                       # a service's uuid is not an instance


def test_notigen_rendered_create_and_exists():
    meta, notes = render_template(NOTIGEN / "compute.instance.create.start_24.json")
    end = decode(bare(next(d for d in notes if d["event_type"] == "compute.instance.create.end")))
    assert (end.flavor, end.vcpus, end.memory_mb, end.host) == ("512MB Standard Instance", 1, 512, "c-0042")
    assert end.state == "active" and end.deleted_at is None
    _meta, (exists,) = render_template(NOTIGEN / "eod_exists.json")
    x = decode(bare(exists))
    assert (x.name, x.flavor, x.vcpus, x.memory_mb) == ("instance.exists", "15GB Standard Instance", 6, 15360)
    assert x.audit_period_ending - x.audit_period_beginning == 86400


def test_unrendered_template_placeholders_are_none_not_errors():
    raw = json.loads((NOTIGEN / "eod_exists.json").read_text())[1]
    n = decode(bare(raw))
    assert n.timestamp is None and n.launched_at is None
    assert n.instance_uuid == "[[[[UUID_1]]]]"


NAMES = [
    ("compute.instance.create.start", "instance.create.start"),
    ("instance.create.start", "instance.create.start"),
    ("compute.instance.instance.create.error", "instance.create.error"),
    ("compute.instance.resize.prep.start", "instance.resize_prep.start"),
    ("instance.resize_prep.start", "instance.resize_prep.start"),
    ("compute.instance.finish_resize.end", "instance.resize_finish.end"),
    ("compute.instance.resize.confirm.end", "instance.resize_confirm.end"),
    ("compute.instance.resize.revert.start", "instance.resize_revert.start"),
    ("compute.instance.resize.start", "instance.resize.start"),
    ("compute.instance.live_migration.pre.start", "instance.live_migration_pre.start"),
    ("compute.instance.live_migration._post.end", "instance.live_migration_post.end"),
    ("compute.instance.live_migration.post.dest.end", "instance.live_migration_post_dest.end"),
    ("compute.instance.live_migration._rollback.start", "instance.live_migration_rollback.start"),
    ("compute.instance.live_migration.rollback.dest.end", "instance.live_migration_rollback_dest.end"),
    ("compute.instance.volume.attach", "instance.volume_attach"),
    ("compute.instance.exists", "instance.exists"),
    ("compute.instance.exists.verified", "instance.exists.verified"),
    ("volume.create.end", "volume.create.end"),
    ("image.create", "image.create"),
    ("compute.exception", "compute.exception"),
    ("terminate_instance", "terminate_instance"),
    ("scheduler.run_instance.start", "scheduler.run_instance.start"),
    ("something.unheard.of", "something.unheard.of"),
]


@pytest.mark.parametrize("event_type,name", NAMES)
def test_normalize_name(event_type, name):
    assert normalize_name(event_type) == name


@pytest.mark.parametrize("publisher,service,host", [
    ("compute.host-1", "nova", "host-1"), ("nova-compute:host-1", "nova", "host-1"),
    ("compute:Node_2", "nova", "Node_2"), ("conductor.vm", "nova", "vm"), ("nova-scheduler:vm", "nova", "vm"),
    ("image.localhost", "glance", "localhost"), ("volume.vm@fake#fake", "cinder", "vm@fake#fake"),
    ("capacity.h1@b1#p1", "cinder", "h1@b1#p1"), ("network.ctl-1", "neutron", "ctl-1"),
    ("neutron-server:ctl-1", "neutron", "ctl-1"), ("identity.vm", "keystone", "vm"),
    ("orchestration.h", "heat", "h"), ("magnum-conductor:h", "magnum", "h"),
])
def test_publisher_service_and_host(publisher, service, host):
    assert service_of(publisher, "x.y") == service
    assert split_publisher(publisher)[1] == host


def test_unknown_publisher_falls_back_to_exchange_then_first_word():
    assert service_of("dns.ns1", "dns.domain.create", exchange="designate") == "designate"
    assert service_of("dns.ns1", "dns.domain.create") == "dns"
    assert service_of(None, "volume.create.end") == "cinder"
    n = decode(bare({"event_type": "something.unheard.of", "publisher_id": "widget.h9"}))
    assert (n.name, n.service, n.host, n.payload) == ("something.unheard.of", "widget", "h9", {})


@pytest.mark.parametrize("text,expected", [
    ("2016-03-16 10:26:11.613214", "2016-03-16T10:26:11.613214+00:00"),
    ("2016-08-17T13:53:35.000000", "2016-08-17T13:53:35+00:00"),
    ("2016-08-17 13:53:23+00:00", "2016-08-17T13:53:23+00:00"),
    ("2026-11-23T20:35:10Z", "2026-11-23T20:35:10+00:00"),
    ("2026-11-23T20:34:50.877435+0000", "2026-11-23T20:34:50.877435+00:00"),
    ("2016-08-17T15:53:23+02:00", "2016-08-17T13:53:23+00:00"),
])
def test_time_forms(text, expected):
    assert parse_time(text) == datetime.fromisoformat(expected).timestamp()


@pytest.mark.parametrize("value", ["", "  ", None, "[[[[DT_2]]]]", "yesterday", "2016-13-45 99:00:00",
                                   [], {}, True, float("nan"), -5, "9999-12-31T23:59:59-23:59"])
def test_unparseable_times_are_none(value):
    assert parse_time(value) is None


def test_legacy_error_with_repr_exception_and_wrap_exception():
    n = decode(bare({"event_type": "compute.instance.create.error", "priority": "ERROR",
                     "publisher_id": "compute.c1",
                     "payload": {"instance_id": "u1", "message": "No valid host was found.",
                                 "exception": "NoValidHost_Remote(u'No valid host was found.',)", "code": 500}}))
    assert n.is_error and n.fault.exception == "NoValidHost" and n.fault.message == "No valid host was found."
    _meta, notes = render_template(NOTIGEN / "compute.instance.delete.start_7.json")
    w = decode(bare(next(d for d in notes if d["event_type"] == "terminate_instance")))
    assert w.is_error and w.name == "terminate_instance" and w.instance_uuid is not None
    assert w.instance_uuid == decode(bare(notes[0])).instance_uuid          # from args.instance.uuid
    assert w.host == "c-0042"


def test_context_dict_form_and_priority_case():
    n = decode(bare({"event_type": "instance.update", "priority": "info", "publisher_id": "nova-compute:h",
                     "context": {"request_id": "req-1", "global_request_id": "req-g", "project_id": "p"},
                     "payload": {}}))
    assert (n.request_id, n.global_request_id, n.tenant_id, n.priority) == ("req-1", "req-g", "p", "INFO")


def test_cell_from_payload_or_deployment():
    assert decode(bare({"event_type": "x", "payload": {"cell_name": "c2"}}), cell="region-1").cell == "c2"
    assert decode(bare({"event_type": "x", "payload": {"cell_name": ""}}), cell="region-1").cell == "region-1"


# --- malformed bodies -------------------------------------------------------------------------

MALFORMED = [
    (b"this is not json", "not JSON"),
    (b"", "not JSON"),
    (b"[1, 2, 3]", "not an object"),
    (b'"a string"', "not an object"),
    (b'{"payload": {}}', "no event_type"),
    (b'{"event_type": ""}', "no event_type"),
    (b'{"event_type": 42}', "no event_type"),
    (b'{"oslo.version": "2.0", "oslo.message": "{not json"}', "envelope not JSON"),
    (b'{"oslo.version": "2.0", "oslo.message": {"event_type": "x"}}', "bad envelope"),
    (b'{"oslo.version": "1.0", "oslo.message": "{}"}', "bad envelope"),
    (b'{"oslo.version": "2.0", "oslo.message": "[1]"}', "not an object"),
    (b'{"oslo.version": "2.0", "oslo.message": "{\\"payload\\": {}}"}', "no event_type"),
    (b'{"event_type": "x", "payload": [1]}', "payload not an object"),
    (b'{"event_type": "caf\xe9"}', "not UTF-8"),
    (b"\xff\xfe{\x00}\x00", "not UTF-8"),
    (b"[" * 100000 + b"]" * 100000, "too deeply nested"),
    (b'{"event_type": "x", "n": ' + b"1" * 5000 + b"}", "not JSON"),
]


@pytest.mark.parametrize("body,reason", MALFORMED, ids=[r for _b, r in MALFORMED])
def test_malformed_bodies(body, reason):
    with pytest.raises(MalformedNotification) as err:
        decode(body)
    assert err.value.reason == reason
    assert isinstance(err.value, ValueError)


def test_too_large():
    body = bare({"event_type": "x", "payload": {"pad": "x" * 2000}})
    with pytest.raises(MalformedNotification) as err:
        decode(body, max_bytes=1000)
    assert err.value.reason == "too large"
    assert decode(body, max_bytes=len(body)).name == "x"


def test_not_bytes():
    with pytest.raises(MalformedNotification) as err:
        decode("{}")                                                       # type: ignore[arg-type]
    assert err.value.reason == "not bytes"


def _mutations(rng: random.Random, seeds: list[bytes]):
    for _ in range(3000):
        kind = rng.randrange(4)
        if kind == 0:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        else:
            b = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 6)):
                i = rng.randrange(len(b))
                if kind == 1:
                    b[i] = rng.randrange(256)
                elif kind == 2:
                    del b[i:i + rng.randrange(1, 40)]
                else:
                    b[i:i] = rng.choice([b"{", b"}", b"[", b'"', b"null", b"1e999", b"\\u0000", b",", b":"])
                if not b:
                    break
            yield bytes(b)


def test_random_bytes_only_ever_raise_malformed():
    seeds = [p.read_bytes() for p in sorted(LAB.glob("*.json")) + sorted(UVIC.glob("*.json"))]
    seeds += [envelope(json.loads(s)) for s in seeds[:4]]
    decoded = rejected = 0
    for body in _mutations(random.Random(20261123), seeds):
        try:
            n = decode(body)
        except MalformedNotification as exc:
            assert exc.reason
            rejected += 1
        else:
            assert isinstance(n.name, str) and n.name
            decoded += 1
    assert rejected > 1000 and decoded > 10


def test_type_confusion_in_fields_is_tolerated():
    n = decode(bare({"event_type": "compute.instance.update", "publisher_id": 5, "timestamp": [1],
                     "priority": {"a": 1}, "message_id": 7, "_context_request_id": ["x"],
                     "payload": {"instance_id": 12, "state": None, "vcpus": "x", "memory_mb": True,
                                 "flavor": "notadict", "image_meta": [], "launched_at": {},
                                 "exception": None, "fault": "nope", "audit_period": 3,
                                 "args": "s", "state_update": [1], "instance_type": {"name": "m1"}}}))
    assert (n.name, n.publisher_id, n.timestamp, n.priority, n.request_id) == ("instance.update", None, None, None, None)
    assert (n.instance_uuid, n.vcpus, n.memory_mb, n.flavor, n.launched_at) == (None, None, None, "m1", None)
    assert n.service == "nova" and not n.is_error                        # from the event type
