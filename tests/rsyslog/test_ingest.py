"""LogIngest.sink into a real SQLite store: syslog messages and file lines become events with every field,
raw kept and tracebacks folded; the service from the facility; search and trace; a store that refuses;
big batches parsed by the parse helpers, or parsed and stored by the store's writer processes, giving the same
events and metrics; a helper or writer that dies; a writer's answer lost after its commit."""

from __future__ import annotations

import sqlite3
import time

import pytest

from stackwatch.rsyslog import ingest as ingest_module
from stackwatch.rsyslog.ingest import LogIngest, record_to_event
from stackwatch.rsyslog.message import RawMessage, SinkRefused
from stackwatch.rsyslog.parse import parse_lines, parse_syslog_message

REQ = "req-9c8f1c2e-56b1-4a9e-9d55-0d1f3c1e7a42"
UUID = "9f1e7a4c-3d2b-4c5e-8f6a-1b2c3d4e5f60"
T0 = 1764064801.0                                   # 2025-11-25 10:00:01 UTC
HEADER = "<{pri}>1 2025-11-25T10:00:01+00:00 {host} {app} {pid} - -  "
FILE = "/var/log/nova/nova-compute.log"


def syslog(body: str, host: str = "compute-1", app: str = "nova-compute", pid: int = 4242, pri: int = 134,
           peer: str = "10.0.0.5:40000", transport: str = "tcp") -> RawMessage:
    return RawMessage((HEADER.format(pri=pri, host=host, app=app, pid=pid) + body).encode(), T0 + 5, peer,
                      transport)


def file_line(line: str) -> RawMessage:
    return RawMessage(line.encode(), T0 + 6, FILE, "file")


def oslo(i: int, level: str = "INFO", text: str = "Took 2.1 seconds to spawn", context: str | None = None) -> str:
    context = context or f"{REQ} u{i % 7} p{i % 3} - - -"
    return f"2025-11-25 10:00:01.{i % 1000:03d} 4242 {level} nova.compute.manager [{context}] " \
           f"[instance: {UUID}] #{i} {text}"


TRACEBACK = ("2025-11-25 10:00:02.000 4242 ERROR nova.compute.manager [{req} - - - - -] Instance failed to spawn"
             "#0122025-11-25 10:00:02.000 4242 ERROR nova.compute.manager Traceback (most recent call last):"
             "#0122025-11-25 10:00:02.000 4242 ERROR nova.compute.manager   File \"x.py\", line 1, in f"
             "#0122025-11-25 10:00:02.000 4242 ERROR nova.compute.manager PortBindingFailed: binding failed")
FILE_LINES = [
    f"2025-11-25 10:00:03.000 77 ERROR nova.compute.manager [{REQ} - - - - -] Build failed",
    "2025-11-25 10:00:03.000 77 ERROR nova.compute.manager Traceback (most recent call last):",
    "2025-11-25 10:00:03.000 77 ERROR nova.compute.manager ValueError: file boom",
    "2025-11-25 10:00:04.000 77 INFO nova.compute.manager [-] next record",
]


class WatchRecorder:
    """A LogWatch stand-in: active, and keeps what it is shown."""

    active = True

    def __init__(self):
        self.seen = []

    def observe(self, record, received_at):
        self.seen.append((record, received_at))


@pytest.fixture
def make_ingest(store):
    made = []

    def make(events=None, **kw):
        ingest = LogIngest(events or store.events, "collector-1", {16: "nova", 17: "glance"}, "UTC", **kw)
        made.append(ingest)
        return ingest
    yield make
    for ingest in made:
        ingest.close()


def rows(store, where: str = "1", args=()) -> list[sqlite3.Row]:
    conn = store.db.read()
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(f"SELECT * FROM events WHERE {where} ORDER BY id", args).fetchall()
    finally:
        conn.row_factory = None


def test_syslog_and_file_messages_are_stored_with_every_field(store, make_ingest):
    ingest = make_ingest()
    batch = [syslog(oslo(1, "DEBUG", "Lock acquired inner /usr/lib/python3/x.py:390")),
             syslog(TRACEBACK.format(req=REQ), host="compute-2", pri=131),
             syslog("plain message from a tool", app="mytool", pid=9, pri=17 * 8 + 6, peer="[fe80::1]:514"),
             *[file_line(line) for line in FILE_LINES]]
    ingest.sink(batch)
    got = rows(store)
    assert len(got) == 5 and ingest.stored == 5 and ingest.received == 7
    debug, error, tool, file_error, file_info = got
    assert (debug["host"], debug["service"], debug["program"], debug["severity"], debug["request_id"],
            debug["instance_uuid"], debug["message"]) == (
        "compute-1", "nova", "nova-compute", "DEBUG", REQ, UUID, "#1 Lock acquired")
    assert debug["ts"] == T0 + 0.001 and debug["raw"] == batch[0].data.decode()
    assert debug["fields"] == ('{"pid":4242,"logger":"nova.compute.manager","user_id":"u1","project_id":"p1",'
                               '"facility":16,"severity":6,"parsed":true,"truncated":false,"function":"inner",'
                               '"location":"/usr/lib/python3/x.py:390","transport":"tcp"}')
    assert error["traceback"].splitlines()[-1] == "PortBindingFailed: binding failed"
    assert error["message"] == "Instance failed to spawn" and error["host"] == "compute-2"
    assert (tool["service"], tool["program"], tool["severity"], tool["message"]) == (
        "glance", "mytool", "INFO", "plain message from a tool")           # local1 is glance's facility
    assert file_error["traceback"].endswith("ValueError: file boom") and file_error["host"] == "collector-1"
    assert '"source":"/var/log/nova/nova-compute.log"' in file_error["fields"]
    assert '"transport":"file"' in file_error["fields"] and file_info["message"] == "next record"


def test_stored_events_are_searchable_and_traceable(store, make_ingest):
    make_ingest().sink([syslog(TRACEBACK.format(req=REQ)), *[file_line(line) for line in FILE_LINES]])
    assert [e.message for e in store.events.search("PortBindingFailed")] == ["Instance failed to spawn"]
    assert {e.message for e in store.events.trace(REQ)} == {"Instance failed to spawn", "Build failed"}
    (event,) = store.events.search("PortBindingFailed")
    assert event.fields["traceback"].endswith("binding failed") and event.fields["logger"] == "nova.compute.manager"


def test_a_refused_batch_counts_nothing_and_the_sink_raises(store, make_ingest):
    class Refusing:
        def add(self, events):
            for i, _ in enumerate(events):
                if i == 10:
                    raise SinkRefused("store down")
            return i

    ingest = make_ingest(events=Refusing())
    with pytest.raises(SinkRefused):
        ingest.sink([syslog(oslo(i)) for i in range(20)])
    assert (ingest.received, ingest.stored, dict(ingest.metrics.totals)) == (0, 0, {})


def test_record_to_event_keeps_what_is_set():
    r = parse_syslog_message(b"<11>1 - host app - - - no oslo here", T0, "peer")
    e = record_to_event(r, T0 + 1, "udp")
    assert (e.ts, e.kind, e.severity, e.host, e.program, e.message) == (T0, "log", "ERR", "host", "app", "no oslo here")
    assert e.fields == {"facility": 1, "severity": 3, "parsed": True, "truncated": False, "transport": "udp"}
    r = parse_syslog_message(syslog(oslo(3)).data, T0, "peer")
    assert record_to_event(r, T0).fields == {"pid": 4242, "logger": "nova.compute.manager", "user_id": "u3",
                                             "project_id": "p0", "facility": 16, "severity": 6, "parsed": True,
                                             "truncated": False}
    (r,) = parse_lines(["a line of no known format"], syslog=False)         # no time at all
    e = record_to_event(r, T0)
    assert e.ts == T0 and e.fields == {"parsed": False, "truncated": False, "time_from": "received"}


class TestHelperProcess:
    def big_batch(self, n: int = 1200, start: int = 0) -> list[RawMessage]:
        out = []
        for i in range(start, start + n):
            if i % 97 == 0:
                out.append(syslog(TRACEBACK.format(req=f"req-{i:08d}-0000-4000-8000-000000000000")))
            elif i % 31 == 0:
                out.append(syslog(f"unstructured {i}", app="kernel", pri=6, host=f"compute-{i % 5}"))
            else:
                status = f'10.0.0.1 "GET /v2.1/servers HTTP/1.1" status: {200 + i % 3} len: 10 time: 0.{i:03d}'
                out.append(syslog(oslo(i, text=status if i % 5 == 0 else "Took 2.1 seconds to spawn"),
                                  host=f"compute-{i % 5}", app="nova-api" if i % 5 == 0 else "nova-compute"))
        return out

    def stored(self, store):
        return [tuple(r)[1:] for r in store.db.read().execute("SELECT * FROM events ORDER BY id")]

    @pytest.mark.parametrize("mode", ["writer", "parse helper"])
    def test_same_events_metrics_and_records_as_parsing_here(self, tmp_path, make_ingest, monkeypatch, mode):
        from stackwatch.config import MetricsConfig
        from stackwatch.store.sqlite import open_store

        batches = [self.big_batch(1200, 0), self.big_batch(300, 5000), self.big_batch(900, 9000)]
        results = []
        for helper in (True, False):
            monkeypatch.setattr(ingest_module, "WORKER_MIN_BATCH", 400 if helper else 10 ** 9)
            s = open_store(tmp_path / f"helper-{helper}.db", MetricsConfig())
            watch = WatchRecorder()
            events = s.events if mode == "writer" else WithoutWriter(s.events)
            ingest = make_ingest(events=events, logwatch=watch, helpers=2)   # parse helper: chunks over two
            for batch in batches:
                ingest.sink(batch)
            used = ingest._writers is not None and ingest._writers._started if mode == "writer" else ingest._worker
            assert bool(used) is helper
            results.append((self.stored(s), dict(ingest.metrics.totals), dict(ingest.metrics.latencies),
                            watch.seen, ingest.stored))
            s.close()
        assert results[0] == results[1]
        assert results[0][4] == 2400 and len(results[0][3]) == 2400

    def test_a_helper_that_dies_is_replaced_by_parsing_here(self, store, make_ingest, monkeypatch, caplog):
        ingest = make_ingest(events=WithoutWriter(store.events))
        ingest.sink(self.big_batch(1000))
        worker = ingest._worker
        receive = worker.receive
        calls = []

        def dying_receive():
            calls.append(1)
            if len(calls) == 2:                               # mid-batch: the helper is gone
                worker.workers[0]._proc.kill()
                worker.workers[0]._proc.wait()
            return receive()
        monkeypatch.setattr(worker, "receive", dying_receive)
        ingest.sink(self.big_batch(1000, 1000))               # its first chunk from the helper, the rest here
        assert ingest._worker is None and "parse helper process failed" in caplog.text
        ingest.sink(self.big_batch(1000, 2000))               # parsed here until _RESTART_AFTER
        assert ingest._worker is None
        monkeypatch.setattr(ingest_module, "_RESTART_AFTER", 0.0)
        ingest.sink(self.big_batch(1000, 3000))
        assert ingest._worker is not None and ingest._worker.alive()
        assert store.events.count() == 4000 == ingest.stored
        raws = [r[0] for r in store.db.read().execute("SELECT raw FROM events ORDER BY id")]
        assert raws == [m.data.decode() for start in (0, 1000, 2000, 3000) for m in self.big_batch(1000, start)]

    def test_a_failed_write_leaves_no_answers_behind(self, store, make_ingest):
        class FailingOnce:                                   # no writer, no add_rows: Events through `add`
            def __init__(self, events):
                self.events, self.fail = events, True

            def add(self, events):
                if self.fail:
                    self.fail = False
                    for i, _ in enumerate(events):
                        if i == 150:                         # the helper still owes a chunk or two
                            raise sqlite3.OperationalError("disk I/O error")
                return self.events.add(events)

        ingest = make_ingest(events=FailingOnce(store.events))
        with pytest.raises(sqlite3.OperationalError):
            ingest.sink(self.big_batch(1000))
        ingest.sink(self.big_batch(1000))                   # the retry: same helper, the right answers
        assert ingest._worker is not None and ingest._worker.pending == 0
        assert store.events.count() == 1000 == ingest.stored
        raws = [r[0] for r in store.db.read().execute("SELECT raw FROM events ORDER BY id")]
        assert raws == [m.data.decode() for m in self.big_batch(1000)]


class TestWriterProcess:
    """With the embedded store, a big batch goes whole to one of the store's writer processes."""

    big_batch = TestHelperProcess.big_batch

    def raws(self, store) -> list[str]:
        return [r[0] for r in store.db.read().execute("SELECT raw FROM events ORDER BY id")]

    def test_each_batch_is_stored_by_a_writer_with_its_token(self, store, make_ingest):
        ingest = make_ingest(helpers=2)
        ingest.sink(self.big_batch(1000))
        ingest.sink(self.big_batch(500, 1000))
        assert ingest._worker is None and ingest._writers._started == 1    # one at a time: one writer
        assert self.raws(store) == [m.data.decode() for m in self.big_batch(1500)]
        assert ingest.stored == 1500 == store.events.count()
        assert store.db.read().execute("SELECT count(*) FROM log_batches").fetchone()[0] == 2

    def test_two_batches_at_once_go_to_two_writers(self, store, make_ingest):
        import threading

        ingest = make_ingest(helpers=2)
        both = [ingest._writers.take(60), ingest._writers.take(60)]      # two writers up, idle
        for writer in both:
            ingest._writers.give_back(writer)
        batches = [self.big_batch(2000, i * 2000) for i in range(6)]
        threads = [threading.Thread(target=lambda b=b: ingest.sink(b)) for b in batches[:3]]
        threads += [threading.Thread(target=lambda b=b: ingest.sink(b)) for b in batches[3:]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert ingest._writers._started == 2 and sorted(map(id, ingest._writers._idle)) == sorted(map(id, both))
        assert sorted(self.raws(store)) == sorted(m.data.decode() for b in batches for m in b)
        assert ingest.stored == 12000 == store.events.count()
        assert ingest.metrics.totals == make_reference_metrics(batches)

    def test_a_writer_that_dies_before_committing_is_replaced_by_storing_here(self, store, make_ingest,
                                                                             monkeypatch, caplog):
        ingest = make_ingest()
        ingest.sink(self.big_batch(1000))
        (writer,) = ingest._writers._idle
        send = writer.send

        def dying_send(request):
            writer._proc.kill()                              # gone before it could store anything
            writer._proc.wait()
            send(request)
        monkeypatch.setattr(writer, "send", dying_send)
        ingest.sink(self.big_batch(1000, 1000))              # stored here
        assert "log writer process failed" in caplog.text and not ingest._writers._idle
        ingest.sink(self.big_batch(1000, 2000))              # here until _RESTART_AFTER
        assert ingest._writers._started == 0
        ingest._writers.restart_after = 0.0
        ingest.sink(self.big_batch(1000, 3000))              # a new writer
        assert ingest._writers._started == 1 and ingest._writers._idle[0] is not writer
        assert self.raws(store) == [m.data.decode() for m in self.big_batch(4000)]
        assert ingest.stored == 4000 == store.events.count()

    def test_a_batch_committed_whose_answer_is_lost_is_not_stored_twice(self, store, make_ingest, monkeypatch):
        from stackwatch.helperprocess import HelperFailed

        watch = WatchRecorder()
        ingest = make_ingest(logwatch=watch)
        ingest.sink(self.big_batch(1000))
        (writer,) = ingest._writers._idle
        receive = writer.receive

        def losing_receive():
            receive()                                        # committed...
            raise HelperFailed("no answer in 60 s")          # ...but the answer never came
        monkeypatch.setattr(writer, "receive", losing_receive)
        ingest.sink(self.big_batch(1000, 1000))
        assert self.raws(store) == [m.data.decode() for m in self.big_batch(2000)]      # once each
        assert ingest.stored == 2000 and len(watch.seen) == 2000                         # counted, watched
        assert ingest.metrics.totals == make_reference_metrics([self.big_batch(2000)])


    def test_bad_input_in_a_big_batch_is_kept_raw_by_the_writer(self, store, make_ingest):
        from stackwatch.rsyslog.record import MAX_LINE_CHARS

        bad = [b"\x00\x01\xfe binary garbage", b"\xff\xfe invalid utf-8 \xc3\x28", b"no prefix that matches",
               b"<134>1 2025-11-25T10:00:01+00:00 h app - - - " + b"x" * (70 * 1024)]     # over 64 KiB
        batch = [RawMessage(bad[i % 4], T0 + 5, "10.0.0.9:514", "tcp") for i in range(800)]
        ingest = make_ingest()
        ingest.sink(batch)
        assert ingest._writers._started == 1 and ingest.stored == 800 == store.events.count()
        rows = store.db.read().execute("SELECT raw, fields, host FROM events ORDER BY id").fetchall()
        assert rows[1][0] == "\\xff\\xfe invalid utf-8 \\xc3("                          # kept, escaped
        assert '"parsed":false' in rows[0][1] and rows[0][2] == "10.0.0.9"
        assert len(rows[3][0]) == MAX_LINE_CHARS and '"truncated":true' in rows[3][1]
        unparsed = sum(v for (name, _), v in ingest.metrics.totals.items() if name == "stackwatch_log_unparsed_total")
        assert unparsed == 600                                 # the long message has a header: parsed


class WithoutWriter:
    """The SQLite event store as a store without writer processes or rows of its own (Elasticsearch) looks
    to the ingest: Events through `add`; big batches then go to the parse helpers."""

    def __init__(self, events):
        self.events = events

    def add(self, events):
        return self.events.add(events)


def make_reference_metrics(batches) -> dict:
    """The metric totals of the batches parsed in this process."""
    ingest = LogIngest(WithoutWriter(None), "collector-1", {16: "nova", 17: "glance"}, "UTC")
    for b in batches:
        for r, _ in ingest.parse(b):
            ingest.metrics.observe(r)
    return ingest.metrics.totals


def test_events_reach_the_database_file_in_the_background(store, make_ingest):
    """The WAL is checkpointed by a background thread: the rows get into the database file itself."""
    ingest = make_ingest()
    ingest.sink([syslog(oslo(i)) for i in range(500)])
    uri = f"file:{store.db.path}?immutable=1"              # the file alone, without the WAL

    def in_file() -> int:
        conn = sqlite3.connect(uri, uri=True)
        try:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]
        except sqlite3.DatabaseError:
            return -1
        finally:
            conn.close()
    deadline = time.monotonic() + 10
    while in_file() != 500 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_file() == 500
