"""The notification archive contract (`stacktach.archive.NotificationStore`): the embedded SQLite store and the
Elasticsearch store give the same answers to the same calls.

Every test runs against both. Rows go in the way production writes them, through `NotificationIngest.sink`
(decode, normalize, dead-letter). The Elasticsearch side uses $STACKWATCH_TEST_ES_URL when set, otherwise starts
noida-db (tests/store/es_server.py) once per session: noida-db is an Elasticsearch-8-API stand-in for tests,
not Elasticsearch itself. Without either, the Elasticsearch tests skip on a laptop and fail in CI. The tests at
the end are Elasticsearch-only: outages (StoreUnavailable, so the consumer acknowledges nothing) and retries.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest

from stackwatch.stacktach.ingest import NotificationIngest
from stackwatch.stacktach.message import AmqpMessage
from tests.stacktach.rabbitmq_server import rabbitmq  # noqa: F401  (fixture: Debian's rabbitmq-server)
from tests.stacktach.test_amqp import publish, queue_depth, wait_until
from tests.store.es_server import EsServer, FlakyProxy, noida_binary

UUID = "9f1e7a4c-3d2b-4c5e-8f6a-1b2c3d4e5f60"
OTHER = "0b8e1d2c-7a6f-4e5d-9c3b-2a1f0e9d8c7b"
T0 = 1_764_000_000.0          # 2025-11-24T16:00:00Z


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
    with EsServer(binary, tmp_path_factory.mktemp("noida-db-notifications")) as url:
        yield url


@pytest.fixture
def make_es_store(request):
    from elasticsearch import Elasticsearch

    from stackwatch.store.elasticsearch import RetryPolicy
    from stackwatch.store.elasticsearch.notifications import ElasticsearchNotificationStore

    url = request.getfixturevalue("es_url")
    made = []

    def make(target: str | None = None, **options):
        options.setdefault("retry", RetryPolicy(retry_for=5.0, initial_backoff=0.05))
        options.setdefault("refresh", "wait_for")
        store = ElasticsearchNotificationStore(target or url, f"sw-ntest-{uuid.uuid4().hex[:12]}", **options)
        made.append(store)
        return store

    yield make
    admin = Elasticsearch(url)
    for store in made:
        for prefix in (store.prefix, store.dead_prefix):
            for name in admin.indices.get(index=f"{prefix}-*", allow_no_indices=True, ignore_unavailable=True):
                admin.indices.delete(index=name)
            admin.options(ignore_status=404).indices.delete_index_template(name=prefix)
        store.close()
    admin.close()


@pytest.fixture(params=["sqlite", "elasticsearch"])
def archive(request, tmp_path):
    if request.param == "sqlite":
        from stackwatch.store.sqlite.database import Database
        from stackwatch.store.sqlite.notifications import SqliteNotificationStore

        db = Database(tmp_path / "notifications.db")
        yield SqliteNotificationStore(db)
        db.close()
    else:
        yield request.getfixturevalue("make_es_store")()


def body(event_type: str, mid: str, ts: float, *, publisher: str = "compute.cmp1", priority: str = "INFO",
         request_id: str | None = "req-1", global_request_id: str | None = None, tenant: str = "t1",
         **payload) -> bytes:
    from datetime import datetime, timezone

    inner = {"message_id": mid, "event_type": event_type, "publisher_id": publisher, "priority": priority,
             "timestamp": datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f"),
             "_context_request_id": request_id, "_context_global_request_id": global_request_id,
             "payload": {"tenant_id": tenant, **payload}}
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()


def msg(raw: bytes, exchange: str = "nova", mid: str | None = None, at: float = T0) -> AmqpMessage:
    return AmqpMessage(raw, mid, exchange, "notifications.info", at, "region-one")


def nova(action: str, mid: str, ts: float, instance: str = UUID, state: str = "active", host: str = "cmp1",
         flavor: str = "m1.small", **kw) -> AmqpMessage:
    return msg(body(f"compute.instance.{action}", mid, ts, publisher=f"compute.{host}", instance_id=instance,
                    state=state, instance_type=flavor, **kw))


def store_all(archive, batch: list[AmqpMessage]) -> NotificationIngest:
    ingest = NotificationIngest(archive, use_helper=False)
    ingest.sink(batch)
    return ingest


def ids(rows) -> list[str]:
    return [r.message_id for r in rows]


# -- storing, duplicates ----------------------------------------------------------------------------------

def test_add_counts_new_rows_and_drops_duplicates_by_message_id(archive):
    ingest = store_all(archive, [nova("create.start", "m1", T0), nova("create.end", "m2", T0 + 5),
                                 nova("create.end", "m2", T0 + 5)])          # twice in one batch (two bindings)
    assert (ingest.stored, ingest.duplicates) == (2, 1)
    ingest.sink([nova("create.end", "m2", T0 + 5), nova("delete.start", "m3", T0 + 9)])   # a redelivery
    assert (ingest.stored, ingest.duplicates) == (3, 2)
    assert archive.count() == 3
    assert ids(archive.query(instance=UUID)) == ["m1", "m2", "m3"]


def test_a_row_keeps_the_normalized_fields_and_the_raw_body(archive):
    raw = body("compute.instance.create.end", "m1", T0, request_id="req-a", global_request_id="req-g",
               tenant="t9", instance_id=UUID, state="active", instance_type="m1.tiny",
               display_name="<b>vm</b> \u00e9t\u00e9 \u2603")
    store_all(archive, [msg(raw)])
    (row,) = archive.query(instance=UUID)
    assert (row.message_id, row.ts, row.deployment, row.event_type, row.name) == (
        "m1", T0, "region-one", "compute.instance.create.end", "instance.create.end")
    assert (row.service, row.host, row.request_id, row.global_request_id, row.tenant_id) == (
        "nova", "cmp1", "req-a", "req-g", "t9")
    assert (row.state, row.flavor, row.is_error, row.priority) == ("active", "m1.tiny", False, "INFO")
    assert row.raw == raw.decode()
    assert row.payload["display_name"] == "<b>vm</b> \u00e9t\u00e9 \u2603"


# -- finding: instance, request id, tenant, event type, time ------------------------------------------------

@pytest.fixture
def story(archive):
    store_all(archive, [
        nova("create.start", "a1", T0, request_id="req-A", global_request_id="req-G"),
        nova("create.end", "a2", T0 + 10, request_id="req-A"),
        nova("create.start", "b1", T0 + 20, instance=OTHER, request_id="req-B", tenant="t2"),
        msg(body("compute.instance.create.error", "b2", T0 + 30, priority="ERROR", request_id="req-B", tenant="t2",
                 instance_id=OTHER, state="error")),
        msg(body("volume.create.end", "v1", T0 + 40, publisher="volume.stor1@lvm#pool", request_id="req-V",
                 volume_id="vol-1", status="available", size=10, host="stor1@lvm#pool"), exchange="openstack"),
        nova("delete.end", "a3", T0 + 50, state="deleted", request_id="req-C", global_request_id="req-G"),
    ])
    return archive


def test_find_by_instance(story):
    assert ids(story.query(instance=UUID)) == ["a1", "a2", "a3"]
    assert ids(story.query(instance=OTHER)) == ["b1", "b2"]
    assert story.query(instance="nope") == []


def test_find_by_request_id_or_global_request_id(story):
    assert ids(story.query(request_id="req-A")) == ["a1", "a2"]
    assert ids(story.query(request_id="req-G")) == ["a1", "a3"]


def test_find_by_tenant_event_type_name_and_service(story):
    assert ids(story.query(tenant="t2")) == ["b1", "b2"]
    assert ids(story.query(name="instance.create.start")) == ["a1", "b1"]
    assert ids(story.query(event_type="compute.instance.create.start")) == ["a1", "b1"]
    assert ids(story.query(service="cinder")) == ["v1"]
    assert ids(story.query(errors_only=True)) == ["b2"]


def test_find_by_time_start_inclusive_end_exclusive_and_order(story):
    assert ids(story.query(start=T0 + 10, end=T0 + 40)) == ["a2", "b1", "b2"]
    assert ids(story.query(newest_first=True, limit=2)) == ["a3", "v1"]
    assert ids(story.query(limit=1)) == ["a1"]


def test_equal_timestamps_keep_insertion_order(archive):
    store_all(archive, [nova("update", f"u{i}", T0) for i in range(5)])
    assert ids(archive.query()) == [f"u{i}" for i in range(5)]
    assert ids(archive.query(newest_first=True)) == [f"u{i}" for i in reversed(range(5))]


def test_more_rows_than_one_page(archive):
    store_all(archive, [nova("update", f"p{i:05d}", T0 + i) for i in range(120)])
    assert ids(archive.query(limit=100_000)) == [f"p{i:05d}" for i in range(120)]


# -- inventory inputs ---------------------------------------------------------------------------------------

def test_alive_instances_per_host_and_flavor(story):
    store_all(story, [nova("create.end", "c1", T0 + 60, instance="c" * 8, host="cmp2", flavor="m1.large")])
    by_host, by_flavor = story.alive_instances()
    # UUID was deleted; OTHER's latest state is error (alive); "cccccccc" active on cmp2
    assert by_host == {"cmp1": 1, "cmp2": 1}
    assert by_flavor == {"unknown": 1, "m1.large": 1}


def test_resource_events_oldest_first(archive):
    def vol(event, mid, ts, status, size):
        return msg(body(f"volume.{event}", mid, ts, publisher="volume.stor1@lvm#pool", volume_id="vol-1",
                        status=status, size=size, host="stor1@lvm#pool"), exchange="openstack")
    store_all(archive, [vol("create.end", "v1", T0, "available", "10"),
                        vol("resize.end", "v2", T0 + 5, "available", 20),
                        vol("attach.end", "v3", T0 + 9, "in-use", 20),
                        msg(body("image.upload", "i1", T0 + 1, publisher="image.glance1", id="img-1", status="active",
                                 size=12_345_678), exchange="glance")])
    events = archive.resource_events("cinder")
    assert [(e.resource_id, e.name, e.state, e.size, e.host) for e in events] == [
        ("vol-1", "volume.create.end", "available", 10.0, "stor1"),
        ("vol-1", "volume.resize.end", "available", 20.0, "stor1"),
        ("vol-1", "volume.attach.end", "in-use", 20.0, "stor1")]
    (image,) = archive.resource_events("glance")
    assert (image.resource_id, image.state, image.size) == ("img-1", "active", 12_345_678.0)


# -- dead letters, retention ----------------------------------------------------------------------------------

def test_dead_letters_keep_the_raw_body_and_a_reason(archive):
    junk = b"\xff\xfe not even utf-8"
    store_all(archive, [msg(junk, at=T0), msg(b'{"no": "event_type"}', at=T0 + 1), msg(b"[1, 2", at=T0 + 2),
                        msg(b'{"event_type": "thing.happened", "publisher_id": "weird.h", "payload": {}}',
                            exchange="weird", at=T0 + 3)])
    assert archive.count() == 0
    assert archive.dead_letter_counts() == {"not UTF-8": 1, "no event_type": 1, "not JSON": 1,
                                            "unknown event type": 1}
    dead = archive.dead_letters()
    assert [d.reason for d in dead] == ["unknown event type", "not JSON", "no event_type", "not UTF-8"]
    assert dead[-1].raw == junk and dead[-1].deployment == "region-one"


def test_retention_deletes_what_is_older_than_the_cutoff(archive):
    day = 86400.0
    store_all(archive, [nova("update", "old", T0 - 3 * day), nova("update", "edge", T0 - day - 1),
                        nova("update", "new", T0 - day + 1), msg(b"junk", at=T0 - 3 * day)])
    assert archive.enforce_retention(T0, day) == 3         # two notifications, one dead letter
    assert ids(archive.query()) == ["new"]
    assert archive.dead_letters() == []


# -- Elasticsearch only: outages -------------------------------------------------------------------------------

def test_elasticsearch_down_raises_store_unavailable_and_stores_nothing(make_es_store, es_url):
    from stackwatch.store.elasticsearch import RetryPolicy, StoreUnavailable

    with FlakyProxy(es_url) as proxy:
        store = make_es_store(proxy.url, retry=RetryPolicy(retry_for=1.0, initial_backoff=0.05))
        proxy.down = True
        ingest = NotificationIngest(store, use_helper=False)
        with pytest.raises(StoreUnavailable):          # the sink refuses: the consumer acks nothing
            ingest.sink([nova("create.end", "m1", T0)])
        proxy.down = False
        assert store.count() == 0
        ingest.sink([nova("create.end", "m1", T0)])    # RabbitMQ's redelivery
        assert store.count() == 1 and ingest.stored == 1


def test_elasticsearch_busy_is_retried_until_stored(make_es_store, es_url):
    with FlakyProxy(es_url) as proxy:
        store = make_es_store(proxy.url)
        proxy.fail_bulk(2, 429)
        store_all(store, [nova("create.end", "m1", T0), nova("delete.end", "m2", T0 + 1)])
        assert proxy.bulk_requests >= 3 and store.stats.retries >= 2
        assert ids(store.query()) == ["m1", "m2"]


# -- the commands and pages on the Elasticsearch archive --------------------------------------------------------

def test_config_names_the_archive_and_shares_the_logs_cluster(tmp_path):
    from stackwatch.config import ConfigError, build_config
    from tests.conftest import minimal_raw

    def config(**extra):
        return build_config(minimal_raw(tmp_path, **extra), tmp_path / "config.yaml", environ={})
    assert config().notifications.backend == "sqlite"
    shared = config(logs={"elasticsearch": {"hosts": ["http://es-1:9200"], "username": "sw"}},
                    notifications={"backend": "elasticsearch"}).notifications.elasticsearch
    assert (shared.hosts, shared.username, shared.index_prefix) == (("http://es-1:9200",), "sw",
                                                                   "stackwatch-notifications")
    own = config(notifications={"backend": "elasticsearch", "elasticsearch": {"hosts": ["http://es-2:9200"],
                                                                             "index_prefix": "nt"}})
    assert own.notifications.elasticsearch.index_prefix == "nt"
    with pytest.raises(ConfigError, match="notifications.elasticsearch: required with backend: elasticsearch"):
        config(notifications={"backend": "elasticsearch"})
    with pytest.raises(ConfigError, match="overlaps the logs' index prefix 'stackwatch'"):
        config(logs={"elasticsearch": {"hosts": ["http://es-1:9200"], "index_prefix": "stackwatch"}},
               notifications={"backend": "elasticsearch"})


def test_events_commands_and_pages_answer_from_elasticsearch(tmp_path, es_url):
    import yaml
    from click.testing import CliRunner
    from elasticsearch import Elasticsearch

    from stackwatch.cli import cli
    from stackwatch.config import load_config
    from stackwatch.runtime import Runtime
    from stackwatch.store.elasticsearch.notifications import ElasticsearchNotificationStore
    from stackwatch.store.sqlite.notifications import SqliteNotificationStore
    from stackwatch.web import create_app
    from tests.conftest import minimal_raw

    prefix = f"sw-ncli-{uuid.uuid4().hex[:10]}"
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(minimal_raw(tmp_path, notifications={
        "backend": "elasticsearch", "elasticsearch": {"hosts": [es_url], "index_prefix": prefix}})))
    es = ElasticsearchNotificationStore(es_url, prefix, refresh="wait_for")
    try:
        store_all(es, [
            nova("create.start", "n1", T0, state="building", request_id="req-cli"),
            nova("create.end", "n2", T0 + 30, state="active", request_id="req-cli",
                 launched_at="2025-11-24T16:00:29.000000"),
            msg(body("compute.instance.resize.error", "n3", T0 + 60, priority="ERROR", instance_id=UUID,
                     exception="ResizeError", message="Resize error: <b>no</b>")),
            nova("delete.end", "n4", T0 + 90, state="deleted", deleted_at="2025-11-24T16:01:29.000000")])
        run = lambda *a: CliRunner().invoke(cli, [*a, "--config", str(cfg)])  # noqa: E731
        shown = run("events", "show", UUID)
        assert shown.exit_code == 0, shown.output
        assert "30.000s" in shown.output
        assert run("events", "request", "req-cli").output.count(UUID) == 2
        assert "instance.resize.error" in run("events", "errors", "--since", "30000d").output
        audit = run("events", "audit", "--start", "2025-11-24T00:00:00", "--end", "2025-11-25T00:00:00")
        assert audit.exit_code == 0, audit.output

        config = load_config(cfg)
        rt = Runtime.build(config, clock=lambda: T0 + 100)
        try:
            assert isinstance(rt.store.notifications, ElasticsearchNotificationStore)
            app = create_app(config, rt.store, rt.registry, clock=lambda: T0 + 100, events=rt.events)
            client = app.test_client()
            page = client.get(f"/events/instance/{UUID}").get_data(as_text=True)
            assert "create (boot time)" in page and "30.000 s" in page
            index = client.get("/events").get_data(as_text=True)
            assert "instance.resize.error" in index and "<b>no</b>" not in index
            assert SqliteNotificationStore(rt.store.db).count() == 0        # nothing went to SQLite
        finally:
            rt.store.close()
    finally:
        es.close()
        admin = Elasticsearch(es_url)
        for p in (prefix, f"{prefix}_dead"):
            for name in admin.indices.get(index=f"{p}-*", allow_no_indices=True, ignore_unavailable=True):
                admin.indices.delete(index=name)
            admin.options(ignore_status=404).indices.delete_index_template(name=p)
        admin.close()


def test_a_real_consumer_acknowledges_nothing_while_elasticsearch_is_away(make_es_store, es_url, rabbitmq):  # noqa: F811
    """RabbitMQ (Debian's, started by the tests) -> NotificationConsumer -> the ingest -> Elasticsearch behind a
    proxy that answers 503: every batch is refused (StoreUnavailable), nothing is acknowledged, the broker keeps
    the notifications; once Elasticsearch is back they are all stored, each once."""
    from stackwatch.stacktach.amqp import NotificationConsumer
    from stackwatch.store.elasticsearch import RetryPolicy

    broker = rabbitmq
    queue = f"stackwatch.es-outage.{uuid.uuid4().hex[:8]}"
    with FlakyProxy(es_url) as proxy:
        store = make_es_store(proxy.url, retry=RetryPolicy(retry_for=0.3, initial_backoff=0.05))
        ingest = NotificationIngest(store, use_helper=False)
        consumer = NotificationConsumer("region-one", [broker.url()], [("nova", "notifications.info")], queue,
                                        ingest.sink, prefetch=100, batch_max=50, backoff_base=0.1, backoff_max=0.5)
        proxy.down = True
        consumer.start()
        try:
            wait_until(lambda: broker_has_queue(broker, queue), 30, "the consumer's queue")
            publish(broker, [("nova", "notifications.info", body("compute.instance.update", f"out-{i:04d}",
                                                                 T0 + i, instance_id=UUID)) for i in range(300)])
            wait_until(lambda: consumer.stats.refused >= 3, 60, "refused batches")
            assert consumer.stats.acked == 0 and ingest.stored == 0
            assert queue_depth(broker, queue) + consumer.stats.delivered - consumer.stats.acked >= 300
            proxy.down = False
            wait_until(lambda: ingest.stored == 300, 120, "300 stored once Elasticsearch is back")
            wait_until(lambda: consumer.stats.acked >= 300, 30, "all acknowledged")
            assert queue_depth(broker, queue) == 0
            rows = store.query(limit=10_000)
            assert len(rows) == len({r.message_id for r in rows}) == 300
        finally:
            consumer.stop()
            broker.delete_queue(queue)


def broker_has_queue(broker, queue: str) -> bool:
    try:
        queue_depth(broker, queue)
        return True
    except Exception:
        return False

