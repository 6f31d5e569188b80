"""The EventStore contract: every backend gives the same answers to the same calls.

Each test runs against the embedded SQLite store and against the Elasticsearch store. The Elasticsearch side
uses $STACKWATCH_TEST_ES_URL when set, otherwise starts noida-db (tests/store/es_server.py) once per session:
noida-db is a stand-in for Elasticsearch used in tests, not what production runs. Without either, the
Elasticsearch tests skip on a laptop and fail in CI. Each Elasticsearch test has its own index prefix.
The tests at the end are Elasticsearch-only: back-pressure, outages and rejected documents.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timezone

import pytest

from stackwatch.store.interfaces import Event
from tests.store.es_server import EsServer, FlakyProxy, free_port, noida_binary

DAY = 86400.0
UUID = "9f1e7a4c-3d2b-4c5e-8f6a-1b2c3d4e5f60"
OTHER_UUID = "0b8e1d2c-7a6f-4e5d-9c3b-2a1f0e9d8c7b"
REQ = "req-5c2d8f4e-1a3b-4c6d-8e9f-0a1b2c3d4e5f"
GREQ = "req-e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(scope="session")
def es_url(tmp_path_factory):
    url = os.environ.get("STACKWATCH_TEST_ES_URL")
    if url:
        yield url
        return
    binary = noida_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide noida-db (pip install -e '.[test]') or STACKWATCH_TEST_ES_URL")
        pytest.skip("noida-db not installed (pip install -e '.[test]') and STACKWATCH_TEST_ES_URL not set")
    with EsServer(binary, tmp_path_factory.mktemp("noida-db")) as url:
        yield url


@pytest.fixture
def make_es_store(request):
    """Build Elasticsearch stores, each on a fresh index prefix unless told; drops their indices after."""
    from stackwatch.store.elasticsearch import ElasticsearchEventStore, RetryPolicy

    url = request.getfixturevalue("es_url")
    made = []

    def make(target: str | None = None, prefix: str | None = None, **options):
        prefix = prefix or f"sw-test-{uuid.uuid4().hex[:12]}"
        options.setdefault("retry", RetryPolicy(retry_for=10.0, initial_backoff=0.05))
        store = ElasticsearchEventStore(target or url, prefix, **options)
        made.append(store)
        return store

    yield make
    from elasticsearch import Elasticsearch

    admin = Elasticsearch(url)
    for prefix in {s.prefix for s in made}:
        names = list(admin.indices.get(index=f"{prefix}-*", allow_no_indices=True, ignore_unavailable=True))
        for name in names:
            admin.indices.delete(index=name)
        admin.options(ignore_status=404).indices.delete_index_template(name=prefix)
    admin.close()
    for store in made:
        store.close()


@pytest.fixture(params=["sqlite", "elasticsearch"])
def event_store(request, tmp_path):
    if request.param == "sqlite":
        from stackwatch.store.sqlite.database import Database
        from stackwatch.store.sqlite.events import SqliteEventStore

        db = Database(tmp_path / "events.db")
        yield SqliteEventStore(db)
        db.close()
    else:
        yield request.getfixturevalue("make_es_store")()


def ev(ts: float, message: str, kind: str = "log", **kw) -> Event:
    return Event(ts, kind, message, **kw)


def messages(events: list[Event]) -> list[str]:
    return [e.message for e in events]


# -- add, count, search ---------------------------------------------------------------------------------

def test_add_returns_the_count_and_events_are_searchable_at_once(event_store):
    assert event_store.add([]) == 0
    assert event_store.count() == 0
    assert event_store.add([ev(10.0, "one"), ev(11.0, "two")]) == 2
    assert event_store.add(iter([ev(12.0, "three")])) == 1
    assert event_store.count() == 3
    assert messages(event_store.search()) == ["three", "two", "one"]
    ids = [e.id for e in event_store.search()]
    assert None not in ids and len(set(ids)) == 3


def test_search_text_needs_every_word_each_as_a_phrase_of_its_tokens(event_store):
    event_store.add([
        ev(1.0, f"Terminating instance {UUID} for req-abc-123"),
        ev(2.0, "AMQP server on 10.0.0.1:5672 is unreachable: Connection refused"),
        ev(3.0, "Instance spawned successfully"),
    ])
    assert messages(event_store.search("terminating instance")) == [f"Terminating instance {UUID} for req-abc-123"]
    assert messages(event_store.search("INSTANCE")) == ["Instance spawned successfully",
                                                       f"Terminating instance {UUID} for req-abc-123"]
    assert len(event_store.search(UUID)) == 1
    assert len(event_store.search("req-abc-123")) == 1
    assert len(event_store.search("abc-123")) == 1          # a run of the id's tokens, in order
    assert event_store.search("req-123") == []              # not adjacent
    assert event_store.search("9f1e7a4c-4c5e") == []
    assert event_store.search("terminating unreachable") == []
    assert event_store.search("unreach") == []              # tokens are whole, no prefixes
    assert len(event_store.search("10.0.0.1:5672")) == 1
    assert len(event_store.search("unreachable:")) == 1
    assert len(event_store.search("  ")) == 3               # blank text is no text filter
    assert event_store.search("<>") == []                   # a word with no token matches nothing


def test_traceback_in_fields_is_searched_and_traced_with_the_message(event_store):
    tb = (f'Traceback (most recent call last):\n  File "/usr/lib/python3/nova/compute/manager.py", line 2461\n'
          f"nova.exception.PortBindingFailed: Binding failed for port {OTHER_UUID}")
    event_store.add([
        ev(1.0, "Instance failed to spawn", severity="ERROR", instance_uuid=UUID, fields={"traceback": tb}),
        ev(2.0, "PortBindingFailed mentioned in a message", fields={"pid": 1}),
        ev(3.0, "no traceback here", raw=f"raw only {OTHER_UUID} nova.exception.PortBindingFailed"),
    ])
    assert [e.ts for e in event_store.search("nova.exception.PortBindingFailed")] == [1.0]
    assert [e.ts for e in event_store.search("spawn manager.py")] == [1.0]    # message and traceback words
    assert [e.ts for e in event_store.search("PortBindingFailed")] == [2.0, 1.0]
    assert [e.ts for e in event_store.trace(OTHER_UUID)] == [1.0]             # raw is not searched
    (hit,) = event_store.search("spawn")
    assert hit.fields == {"traceback": tb}


def test_search_filters_are_exact(event_store):
    event_store.add([
        ev(1.0, "a", host="cmp1", service="nova", program="nova-compute", severity="INFO", request_id=REQ,
           instance_uuid=UUID),
        ev(2.0, "b", host="cmp10", service="nova", program="nova-compute", severity="ERROR",
           global_request_id=GREQ),
        ev(3.0, "c", kind="notification", host="ctl1", service="glance", severity="INFO"),
    ])
    f = lambda **kw: messages(event_store.search(filters=kw))  # noqa: E731
    assert f(host="cmp1") == ["a"]
    assert f(host="cmp") == []
    assert f(service="nova") == ["b", "a"]
    assert f(service="Nova") == []
    assert f(severity="INFO", service="nova") == ["a"]
    assert f(kind="notification") == ["c"]
    assert f(program="nova-compute") == ["b", "a"]
    assert f(request_id=REQ) == ["a"]
    assert f(global_request_id=GREQ) == ["b"]
    assert f(instance_uuid=UUID) == ["a"]
    assert f(request_id=None) == []                      # SQL's `= NULL`: never true
    assert messages(event_store.search("b", filters={"host": "cmp10"})) == ["b"]
    with pytest.raises(ValueError, match="cannot filter"):
        event_store.search(filters={"message": "a"})


def test_search_time_window_is_inclusive(event_store):
    event_store.add([ev(float(t), f"m{t}") for t in range(10, 60, 10)])
    assert messages(event_store.search(start=20.0, end=40.0)) == ["m40", "m30", "m20"]
    assert messages(event_store.search(start=41.5)) == ["m50"]
    assert messages(event_store.search(end=10.0)) == ["m10"]
    assert event_store.search(start=51.0) == []


def test_search_is_newest_first_and_equal_timestamps_keep_insertion_order(event_store):
    event_store.add([ev(5.0, "first"), ev(5.0, "second")])
    event_store.add([ev(6.0, "later"), ev(5.0, "third")])
    event_store.add([ev(4.0, "earlier")])
    assert messages(event_store.search()) == ["later", "third", "second", "first", "earlier"]


def test_search_limit(event_store):
    event_store.add([ev(float(t), f"m{t}") for t in range(30)])
    assert messages(event_store.search(limit=3)) == ["m29", "m28", "m27"]
    assert len(event_store.search()) == 30
    assert event_store.search(limit=0) == []


def test_timestamps_round_trip_exactly(event_store):
    ts = 1700000000.123456
    event_store.add([ev(ts, "precise"), ev(ts + 1e-6, "a microsecond later")])
    assert [e.ts for e in event_store.search()] == [ts + 1e-6, ts]
    assert messages(event_store.search(start=ts + 1e-6)) == ["a microsecond later"]


# -- trace ----------------------------------------------------------------------------------------------

@pytest.fixture
def request_story(event_store):
    """One boot request through nova and neutron, with noise around it."""
    event_store.add([
        ev(0.5, f"Unrelated instance {OTHER_UUID}; prefix {UUID[:8]} only", host="cmp2", service="nova"),
        ev(1.0, "POST /v2.1/servers", host="ctl1", service="nova", program="nova-api", request_id=REQ,
           global_request_id=GREQ),
        ev(2.0, f"[instance: {UUID}] Building instance", host="ctl1", service="nova", program="nova-conductor",
           request_id=REQ, instance_uuid=UUID),
        ev(3.0, f"Port 6c1f bound for device {UUID}", host="net1", service="neutron", program="neutron-server",
           request_id="req-neutron-1", global_request_id=GREQ),
        ev(4.0, "Took 2.31 seconds to spawn the instance on the hypervisor.", host="cmp1", service="nova",
           program="nova-compute", request_id="req-compute-1", instance_uuid=UUID),
        ev(5.0, f"Attaching volume vol-1 to instance {UUID} on cmp1", host="blk1", service="cinder",
           kind="notification"),
        ev(6.0, "Instance deleted", host="cmp2", service="nova", instance_uuid=OTHER_UUID, request_id=REQ + "0"),
    ])
    return event_store


def test_trace_instance_uuid_across_hosts_and_message_only_mentions(request_story):
    found = request_story.trace(UUID)
    assert [e.ts for e in found] == [2.0, 3.0, 4.0, 5.0]     # oldest first, no duplicate for event 2
    assert {e.host for e in found} == {"ctl1", "net1", "cmp1", "blk1"}
    assert {e.service for e in found} == {"nova", "neutron", "cinder"}


def test_trace_request_id_and_global_request_id(request_story):
    assert [e.ts for e in request_story.trace(REQ)] == [1.0, 2.0]
    assert [e.ts for e in request_story.trace(GREQ)] == [1.0, 3.0]
    assert [e.ts for e in request_story.trace(f"  {REQ}\n")] == [1.0, 2.0]
    assert request_story.trace("req-5c2d8f4e") == []
    assert request_story.trace("") == [] and request_story.trace("   ") == []


def test_trace_and_filters_tell_apart_ids_that_differ_only_in_hyphens(event_store):
    event_store.add([ev(1.0, "a", request_id="req-ab-cd"), ev(2.0, "b", request_id="req-abcd"),
                     ev(3.0, "c", instance_uuid="ab-cd"), ev(4.0, "d", global_request_id="abcd")])
    assert messages(event_store.trace("req-ab-cd")) == ["a"]
    assert messages(event_store.trace("req-abcd")) == ["b"]
    assert messages(event_store.trace("ab-cd")) == ["c"]
    assert messages(event_store.search(filters={"request_id": "req-abcd"})) == ["b"]
    assert messages(event_store.search(filters={"global_request_id": "abcd"})) == ["d"]


def test_trace_message_only_uuid(request_story):
    assert [e.host for e in request_story.trace(OTHER_UUID)] == ["cmp2", "cmp2"]
    assert [e.ts for e in request_story.trace("vol-1")] == [5.0]


def test_trace_time_window_and_limit(request_story):
    assert [e.ts for e in request_story.trace(UUID, start=3.0, end=4.0)] == [3.0, 4.0]
    assert [e.ts for e in request_story.trace(UUID, limit=2)] == [2.0, 3.0]


def test_trace_equal_timestamps_in_insertion_order(event_store):
    event_store.add([ev(7.0, "a", request_id=REQ), ev(7.0, f"b {REQ}"), ev(7.0, "c", global_request_id=REQ)])
    assert [m[0] for m in messages(event_store.trace(REQ))] == ["a", "b", "c"]


# -- retention ------------------------------------------------------------------------------------------

def test_retention_deletes_everything_older_than_the_cutoff(event_store):
    base = 1700000000.0                                        # 2023-11-14 22:13:20 UTC
    stamps = [base - 3 * DAY, base - 2 * DAY, base - DAY - 3600, base - DAY, base - 3600, base]
    event_store.add([ev(ts, f"at {ts}") for ts in stamps])
    assert event_store.enforce_retention(now=base, retention=DAY) == 3
    assert [e.ts for e in event_store.search()] == [base, base - 3600, base - DAY]   # the cutoff itself stays
    assert event_store.count() == 3
    assert event_store.enforce_retention(now=base, retention=DAY) == 0
    assert event_store.enforce_retention(now=base + 10 * DAY, retention=DAY) == 3
    assert event_store.count() == 0


# -- what goes in comes out -----------------------------------------------------------------------------

def test_unicode_and_markup_survive_round_trip(event_store):
    message = 'Ünïcode 日本語テキスト 🎉 <script>alert("x")</script> & \'quotes\' back\\slash'
    event_store.add([ev(1.0, message, host="hôte-1")])
    (hit,) = event_store.search("ünïcode")
    assert hit.message == message and hit.host == "hôte-1"
    assert messages(event_store.search("unicode")) == [message]     # accents fold in both stores
    assert messages(event_store.search("<script>")) == [message]
    assert messages(event_store.search("日本語テキスト")) == [message]
    assert messages(event_store.search(filters={"host": "hôte-1"})) == [message]


def test_raw_fields_and_ids_round_trip(event_store):
    when = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    raw = "<134>1 2024-05-01T12:00:00Z cmp1 nova-compute 4242 - - ERROR \tTraceback\n  File \"x\", line 1 ünï"
    fields = {"pid": 4242, "nested": {"a": [1, 2.5, None, True]}, "dotted.key": "v", "when": when}
    event_store.add([ev(1.0, "boom", kind="log", host="cmp1", service="nova", program="nova-compute",
                        severity="ERROR", request_id=REQ, instance_uuid=UUID, global_request_id=GREQ,
                        fields=fields, raw=raw)])
    (e,) = event_store.search()
    assert (e.kind, e.host, e.service, e.program, e.severity) == ("log", "cmp1", "nova", "nova-compute", "ERROR")
    assert (e.request_id, e.instance_uuid, e.global_request_id) == (REQ, UUID, GREQ)
    assert e.raw == raw
    assert e.fields == {"pid": 4242, "nested": {"a": [1, 2.5, None, True]}, "dotted.key": "v", "when": str(when)}
    event_store.add([ev(2.0, "bare")])
    bare = event_store.search(limit=1)[0]
    assert (bare.host, bare.request_id, bare.instance_uuid, bare.global_request_id, bare.fields, bare.raw) == \
        ("", None, None, None, {}, "")


# -- Elasticsearch only: back-pressure, outages, rejected documents, template ----------------------------

def test_es_unreachable_raises_store_unavailable_within_the_budget():
    from stackwatch.store.elasticsearch import ElasticsearchEventStore, RetryPolicy, StoreUnavailable

    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="index template"):
        ElasticsearchEventStore(f"http://127.0.0.1:{free_port()}", "sw-test-nowhere",
                                retry=RetryPolicy(retry_for=0.5, initial_backoff=0.05))
    assert time.monotonic() - started < 5


def test_es_429_is_retried_with_backoff_then_stored_once(make_es_store, es_url):
    with FlakyProxy(es_url) as proxy:
        store = make_es_store(proxy.url)
        proxy.fail_bulk(2, status=429)
        assert store.add([ev(1.0, "one"), ev(2.0, "two")]) == 2
        assert proxy.bulk_requests == 3 and store.stats.retries == 2
        assert messages(store.search()) == ["two", "one"] and store.count() == 2


def test_es_outage_raises_store_unavailable_and_stores_nothing(make_es_store, es_url):
    from stackwatch.store.elasticsearch import RetryPolicy, StoreUnavailable

    with FlakyProxy(es_url) as proxy:
        store = make_es_store(proxy.url, retry=RetryPolicy(retry_for=0.6, initial_backoff=0.05))
        proxy.down = True
        with pytest.raises(StoreUnavailable, match="503"):
            store.add([ev(1.0, "lost?")])
        proxy.fail_bulk(1, status=503)
        proxy.down = False
        assert store.add([ev(1.0, "after the outage")]) == 1
        assert messages(store.search()) == ["after the outage"]


def test_es_rejected_documents_are_reported_and_the_rest_stored(make_es_store, es_url):
    from elasticsearch import Elasticsearch

    from stackwatch.store.elasticsearch import EventsRejected

    store = make_es_store()
    admin = Elasticsearch(es_url)      # an index made by hand, with a mapping that cannot take a host name
    admin.indices.create(index=f"{store.prefix}-1970.01.01", mappings={"properties": {"host": {"type": "long"}}})
    admin.close()
    with pytest.raises(EventsRejected) as info:
        store.add([ev(10.0, "refused", host="cmp1"), ev(DAY + 10.0, "kept", host="cmp1")])
    assert info.value.stored == 1 and len(info.value.failures) == 1
    assert info.value.failures[0].status == 400
    assert store.stats.rejected == 1 and store.stats.indexed == 1
    assert messages(store.search()) == ["kept"]
    with pytest.raises(EventsRejected, match="no daily index") as info:
        store.add([ev(1e300, "beyond year 9999"), ev(DAY + 20.0, "kept too")])
    assert info.value.stored == 1 and store.stats.rejected == 2
    assert messages(store.search()) == ["kept too", "kept"]


def test_es_template_is_created_idempotently(make_es_store):
    first = make_es_store()
    second = make_es_store(prefix=first.prefix)
    first.add([ev(1.0, f"from first {UUID}")])
    second.add([ev(2.0, "from second")])
    assert messages(second.search()) == ["from second", f"from first {UUID}"]
    (tpl,) = second.client.indices.get_index_template(name=first.prefix)["index_templates"]
    assert tpl["index_template"]["template"]["mappings"]["properties"]["request_id"] == {"type": "keyword"}
    with pytest.raises(ValueError, match="lowercase"):
        make_es_store(prefix="Bad Prefix")
