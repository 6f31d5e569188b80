"""The decoder and the lifecycle builder against the whole shared notification corpus (skipped
when /work/shared/corpus is absent, a failure in CI).

Counts were made by hand from the files (and agree with the corpus SOURCES.md): notigen 21
templates with 301 notifications (209 compute.instance.update); nova's versioned samples 140 plus
34 `common_payloads` fragments (payloads, not notifications: they have no event_type); the
resolved jsonl 140; watcher 44; uvic 5 (2 in the v2 envelope)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from stackwatch.stacktach import lifecycle
from stackwatch.stacktach.decode_helper import KNOWN_SERVICES, message_id_of, normalize, notification_row
from stackwatch.stacktach.notification import MalformedNotification, decode

from .notification_support import bare, corpus, envelope, render_template, template_time  # noqa: F401

# (legacy event type, versioned event type) of the same event, as found in the corpus:
# notigen/uvic legacy x nova's versioned samples
PAIRS = [
    ("compute.instance.create.start", "instance.create.start"),
    ("compute.instance.create.end", "instance.create.end"),
    ("compute.instance.create.error", "instance.create.error"),
    ("compute.instance.instance.create.error", "instance.create.error"),
    ("compute.instance.delete.start", "instance.delete.start"),
    ("compute.instance.delete.end", "instance.delete.end"),
    ("compute.instance.exists", "instance.exists"),
    ("compute.instance.update", "instance.update"),
    ("compute.instance.shutdown.start", "instance.shutdown.start"),
    ("compute.instance.shutdown.end", "instance.shutdown.end"),
    ("compute.instance.power_off.start", "instance.power_off.start"),
    ("compute.instance.power_off.end", "instance.power_off.end"),
    ("compute.instance.reboot.start", "instance.reboot.start"),
    ("compute.instance.reboot.end", "instance.reboot.end"),
    ("compute.instance.rebuild.start", "instance.rebuild.start"),
    ("compute.instance.rebuild.end", "instance.rebuild.end"),
    ("compute.instance.rescue.start", "instance.rescue.start"),
    ("compute.instance.rescue.end", "instance.rescue.end"),
    ("compute.instance.unrescue.start", "instance.unrescue.start"),
    ("compute.instance.unrescue.end", "instance.unrescue.end"),
    ("compute.instance.snapshot.start", "instance.snapshot.start"),
    ("compute.instance.snapshot.end", "instance.snapshot.end"),
    ("compute.instance.resize.prep.start", "instance.resize_prep.start"),
    ("compute.instance.resize.prep.end", "instance.resize_prep.end"),
    ("compute.instance.resize.start", "instance.resize.start"),
    ("compute.instance.resize.end", "instance.resize.end"),
    ("compute.instance.finish_resize.start", "instance.resize_finish.start"),
    ("compute.instance.finish_resize.end", "instance.resize_finish.end"),
    ("compute.instance.resize.confirm.start", "instance.resize_confirm.start"),
    ("compute.instance.resize.confirm.end", "instance.resize_confirm.end"),
    ("keypair.create.start", "keypair.create.start"),
    ("keypair.delete.start", "keypair.delete.start"),
]


def _docs(path: Path) -> list[dict]:
    """The notifications a corpus file holds (notigen: elements 1..n; jsonl: one per line)."""
    if path.suffix == ".jsonl":
        return [json.loads(line)["notification"] for line in path.read_text().splitlines()]
    doc = json.loads(path.read_text())
    return doc[1:] if isinstance(doc, list) else [doc]


def _decode_both(doc: dict):
    if "oslo.message" in doc:
        inner = json.loads(doc["oslo.message"])
        return decode(bare(doc)), decode(bare(inner))
    return decode(bare(doc)), decode(envelope(doc))


def test_every_corpus_file_has_a_defined_outcome(corpus):
    counts: Counter = Counter()
    rejected: Counter = Counter()
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        top = path.relative_to(corpus).parts[0]
        if path.suffix not in (".json", ".jsonl"):                   # LICENSE, README.md, NOTICE
            with pytest.raises(MalformedNotification) as err:
                decode(path.read_bytes())
            assert err.value.reason in ("not JSON", "not UTF-8")
            rejected["text"] += 1
            continue
        if path.parent.name == "common_payloads":                     # payload fragments
            with pytest.raises(MalformedNotification) as err:
                decode(path.read_bytes())
            assert err.value.reason == "no event_type"
            rejected["common_payloads"] += 1
            continue
        if path.suffix == ".json" and isinstance(json.loads(path.read_text()), list):
            with pytest.raises(MalformedNotification) as err:              # a notigen template file
                decode(path.read_bytes())
            assert err.value.reason == "not an object"
            with pytest.raises(MalformedNotification):                     # its metadata element
                decode(bare(json.loads(path.read_text())[0]))
        for doc in _docs(path):
            plain, wrapped = _decode_both(doc)
            assert plain.name == wrapped.name and plain.instance_uuid == wrapped.instance_uuid
            assert plain.payload == wrapped.payload and plain.event_type == doc.get("event_type", plain.event_type)
            counts[top] += 1
    assert counts == {"stacktach-notigen-templates": 301, "nova-versioned-samples": 140,
                      "nova-versioned-samples.resolved.jsonl": 140, "watcher-test-notifications": 44,
                      "uvic-devops2018-captured": 5}
    assert rejected == {"text": 5, "common_payloads": 34}


def test_notigen_event_counts(corpus):
    names: Counter = Counter()
    for path in sorted((corpus / "stacktach-notigen-templates").glob("*.json")):
        for doc in _docs(path):
            names[decode(bare(doc)).name] += 1
    assert len(list((corpus / "stacktach-notigen-templates").glob("*.json"))) == 21
    assert names["instance.update"] == 209
    assert names["instance.create.error"] == 6                   # 3 create.error + 3 double-prefixed
    assert names["instance.exists"] == 5 and names["instance.exists.verified"] == 4
    assert sum(names[n] for n in ("terminate_instance", "rebuild_instance", "rescue_instance",
                                  "snapshot_instance", "scheduler.run_instance")) == 5


def _expected_uuid(doc: dict) -> str | None:
    p = doc.get("payload") or {}
    if "nova_object.data" in p:
        data = p["nova_object.data"]
        if p["nova_object.name"].startswith("Instance"):
            return data.get("uuid")
        return data.get("instance_uuid")
    inst = (p.get("args") or {}).get("instance") if isinstance(p.get("args"), dict) else None
    return p.get("instance_id") or (inst or {}).get("uuid")


def test_legacy_and_versioned_pairs_agree(corpus):
    legacy: dict[str, dict] = {}
    for path in sorted((corpus / "stacktach-notigen-templates").glob("*.json")):
        _meta, docs = render_template(path)
        for doc in docs:
            legacy.setdefault(doc["event_type"], doc)
    for path in sorted((corpus / "uvic-devops2018-captured").glob("*.json")):
        doc = json.loads(path.read_text())
        doc = json.loads(doc["oslo.message"]) if "oslo.message" in doc else doc
        legacy.setdefault(doc["event_type"], doc)
    versioned = {}
    for doc in _docs(corpus / "nova-versioned-samples.resolved.jsonl"):
        versioned.setdefault(doc["event_type"], doc)
    for old, new in PAIRS:
        a, b = decode(bare(legacy[old])), decode(bare(versioned[new]))
        assert a.name == b.name, (old, new)
        assert a.instance_uuid == _expected_uuid(legacy[old]), old
        assert b.instance_uuid == _expected_uuid(versioned[new]), new
        assert (a.instance_uuid is None) == (b.instance_uuid is None), (old, new)
        assert a.service == b.service == "nova"
    found = {(o, n) for o in legacy for n in versioned
             if decode(bare(legacy[o])).name == decode(bare(versioned[n])).name}
    assert found == set(PAIRS)


def test_watcher_cinder_and_service_notifications(corpus):
    w = corpus / "watcher-test-notifications"
    cinder = [decode((w / f).read_bytes()) for f in sorted(p.name for p in w.glob("scenario_1_*.json"))]
    assert {n.service for n in cinder} == {"cinder"}
    assert {n.host for n in cinder} == {"host_0", "host_2"}                 # host@backend#pool cut
    svc = decode((w / "service-update.json").read_bytes())
    assert (svc.name, svc.service, svc.instance_uuid) == ("service.update", "nova", None)


def _timed(path: Path) -> dict[str, float]:
    """Event type -> the rendered epoch time, computed from notigen's time_map (not the decoder)."""
    meta = json.loads(path.read_text())[0]
    return {d["event_type"]: template_time(meta["time_map"], d["timestamp"]).timestamp()
            for d in reversed(json.loads(path.read_text())[1:])}


@pytest.mark.parametrize("template,operation,outcome,start_evt,end_evt,error", [
    ("compute.instance.create.start_23.json", "create", "ok", "compute.instance.create.start", "compute.instance.create.end", None),
    ("compute.instance.create.start_25.json", "create", "ok", "compute.instance.create.start", "compute.instance.create.end", None),
    ("compute.instance.delete.start_8.json", "delete", "ok", "compute.instance.delete.start", "compute.instance.delete.end", None),
    ("compute.instance.delete.start_7.json", "delete", "failed", "compute.instance.delete.start", "terminate_instance", "terminate_instance"),
    ("compute.instance.power_off.start_4.json", "power_off", "ok", "compute.instance.power_off.start", "compute.instance.power_off.end", None),
    ("compute.instance.reboot.start_6.json", "reboot", "ok", "compute.instance.reboot.start", "compute.instance.reboot.end", None),
    ("compute.instance.rebuild.start_24.json", "rebuild", "ok", "compute.instance.rebuild.start", "compute.instance.rebuild.end", None),
    ("compute.instance.rebuild.start_14.json", "rebuild", "failed", "compute.instance.rebuild.start", "rebuild_instance", "rebuild_instance"),
    ("compute.instance.rescue.start_6.json", "rescue", "failed", "compute.instance.rescue.start", "rescue_instance", "Driver Error: [Errno 104] Connection reset by peer"),
    ("compute.instance.resize.prep.start_24.json", "resize", "ok", "compute.instance.resize.prep.start", "compute.instance.finish_resize.end", None),
    ("compute.instance.resize.confirm.start_4.json", "resize_confirm", "ok", "compute.instance.resize.confirm.start", "compute.instance.resize.confirm.end", None),
    ("compute.instance.snapshot.start_9.json", "snapshot", "ok", "compute.instance.snapshot.start", "compute.instance.snapshot.end", None),
    ("compute.instance.snapshot.start_8.json", "snapshot", "failed", "compute.instance.snapshot.start", "snapshot_instance", "snapshot_instance"),
    ("compute.instance.unrescue.start_6.json", "unrescue", "ok", "compute.instance.unrescue.start", "compute.instance.unrescue.end", None),
])
def test_notigen_operation_timings(corpus, template, operation, outcome, start_evt, end_evt, error):
    path = corpus / "stacktach-notigen-templates" / template
    _meta, docs = render_template(path)
    notes = [decode(bare(d)) for d in docs]
    times = _timed(path)
    now = max(times.values()) + 60
    ops = [o for o in lifecycle.timings(notes, now) if o.operation == operation]
    assert len(ops) == 1
    op = ops[0]
    assert (op.outcome, op.error) == (outcome, error)
    assert op.start == pytest.approx(times[start_evt])
    assert op.duration == pytest.approx(times[end_evt] - times[start_evt])
    assert op.host == "c-0042"


def test_notigen_rescheduled_build_fails_three_times(corpus):
    _meta, docs = render_template(corpus / "stacktach-notigen-templates" / "compute.instance.create.start_65.json")
    ops = lifecycle.timings([decode(bare(d)) for d in docs], now=2e9)
    creates = [o for o in ops if o.operation == "create"]
    assert [o.outcome for o in creates] == ["failed"] * 3
    assert {o.error for o in creates} == {"VDI too big for requested resize up."}
    assert [o.outcome for o in ops if o.operation == "shutdown"] == ["ok"] * 3


def test_notigen_snapshot_without_end_is_stuck_only_after_timeout(corpus):
    path = corpus / "stacktach-notigen-templates" / "compute.instance.snapshot.start_7.json"
    _meta, docs = render_template(path)
    notes = [decode(bare(d)) for d in docs]
    start = _timed(path)["compute.instance.snapshot.start"]
    (early,) = lifecycle.timings(notes, now=start + 600, timeout=3600)
    (late,) = lifecycle.timings(notes, now=start + 3601, timeout=3600)
    assert (early.operation, early.outcome, late.outcome) == ("snapshot", "running", "stuck")


def test_the_capture_path_stores_what_the_full_decoder_says(corpus):
    """`normalize` (the capture path: `decode_fields` without the usage fields, no Notification built) gives
    every corpus notification, bare and in the v2 envelope, the very row `notification_row` makes of
    `decode`'s Notification, or the same dead-letter verdict."""
    compared = 0
    for path in sorted(p for p in corpus.rglob("*") if p.suffix in (".json", ".jsonl")):
        if path.parent.name == "common_payloads":
            continue
        for doc in _docs(path):
            inner = json.loads(doc["oslo.message"]) if "oslo.message" in doc else doc
            for body in (bare(inner), envelope(inner)):
                n = decode(body, exchange="nova", cell="cell1")
                answer = normalize((body, "amqp-id", "nova", "cell1", 1.0e9), 1 << 20)
                if n.service not in KNOWN_SERVICES:
                    assert answer == ("d", message_id_of(n, "amqp-id", body), "unknown event type")
                else:
                    assert answer == ("r", notification_row(n, message_id_of(n, "amqp-id", body), 1.0e9, "cell1"))
                compared += 1
    assert compared == 2 * (301 + 140 + 140 + 44 + 5)


@pytest.mark.parametrize("doc", [
    {"event_type": "volume.create.end", "publisher_id": "volume.host1", "payload": {"volume_id": "v1", "size": 10 ** 30}},
    {"event_type": "image.upload", "publisher_id": "image.host1", "payload": {"id": "i1", "size": -(10 ** 25)}},
    {"event_type": "compute.instance.create.error", "publisher_id": "compute.c1", "priority": "ERROR",
     "payload": {"instance_id": "u1", "exception": {"code": 10 ** 40}, "memory_mb": 10 ** 20, "state": 10 ** 21}},
])
def test_the_capture_path_stores_huge_integers_as_the_full_decoder_does(doc):
    """orjson (the capture path's JSON decoder) gives integers beyond 64 bits as floats: the row stays the same."""
    for body in (bare(doc), envelope(doc)):
        n = decode(body, exchange="nova", cell="cell1")
        assert normalize((body, None, "nova", "cell1", 1.0e9), 1 << 20) == \
            ("r", notification_row(n, message_id_of(n, None, body), 1.0e9, "cell1"))
