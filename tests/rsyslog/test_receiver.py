"""SyslogReceiver with real sockets: TCP (octet-counted, LF, NUL), UDP, TLS and RELP clients written
here, sink refusal, over-long messages, garbage, batching and back-pressure; plus the pure framers."""

from __future__ import annotations

import os
import random
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from stackwatch.rsyslog.framing import SyslogFramer, datagram_message
from stackwatch.rsyslog.message import RawMessage, SinkRefused
from stackwatch.rsyslog.receiver import SyslogReceiver
from stackwatch.rsyslog.relp import RelpError, RelpParser, response

LOCAL = ("127.0.0.1", 0)


class MemorySink:
    """A Sink that keeps what it stores; `refuse` calls raise SinkRefused; `gate` blocks it."""

    def __init__(self, refuse: int = 0):
        self.messages: list[RawMessage] = []
        self.calls: list[int] = []
        self.refuse = refuse
        self.refusing = False
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()

    def __call__(self, batch: list[RawMessage]) -> None:
        self.gate.wait()
        with self.lock:
            if self.refusing or self.refuse > 0:
                self.refuse -= 1
                raise SinkRefused("store down")
            self.calls.append(len(batch))
            self.messages.extend(batch)

    def data(self) -> list[bytes]:
        with self.lock:
            return [m.data for m in self.messages]


class Stats:
    framing_errors = 0
    oversized = 0


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def receivers():
    started: list[SyslogReceiver] = []

    def make(sink, **kw) -> SyslogReceiver:
        r = SyslogReceiver(sink, **kw)
        r.start()
        started.append(r)
        return r
    yield make
    for r in started:
        r.stop()


def octet(msg: bytes) -> bytes:
    return b"%d %s" % (len(msg), msg)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


# -- pure framing ---------------------------------------------------------------------------------

def test_framer_mixes_octet_counting_lf_and_nul_even_byte_by_byte():
    stream = octet(b"<13>1 - a") + b"<13>b line\n" + octet(b"<13>with\nnewline") + b"<13>c\0" + b"\r\n" \
        + octet(b"<13>d\n") + b"<14>e\r\n"
    want = [b"<13>1 - a", b"<13>b line", b"<13>with\nnewline", b"<13>c", b"<13>d", b"<14>e"]
    s = Stats()
    f = SyslogFramer(s)
    assert [m for i in range(len(stream)) for m in f.feed(stream[i:i + 1])] + f.finish() == want
    assert SyslogFramer(s).feed(stream) == want
    assert s.framing_errors == 0 and s.oversized == 0


def test_framer_cuts_over_long_messages_and_keeps_going():
    s = Stats()
    f = SyslogFramer(s, max_size=10)
    out = f.feed(octet(b"<1>" + b"x" * 30) + b"<2>" + b"y" * 25 + b"\n<3>ok\n")
    assert out == [b"<1>xxxxxxx", b"<2>yyyyyyy", b"<3>ok"]
    assert s.oversized == 2
    assert len(f._buf) == 0


def test_framer_counts_garbage_but_survives():
    s = Stats()
    f = SyslogFramer(s, max_size=100)
    out = f.feed(b"\xff\xfe binary\n0 <1>x\n12345678901 x\n<5>good\n")
    assert out[-1] == b"<5>good" and s.framing_errors >= 2
    assert f.finish() == []
    assert f.feed(b"<6>no newline") == [] and f.finish() == [b"<6>no newline"]
    assert f.feed(b"20 <1>trunc") == [] and f.finish() == []       # truncated octet frame: an error
    assert datagram_message(b"<1>x\n", s) == b"<1>x" and datagram_message(b"\n", s) is None


def test_relp_parser_rejects_broken_frames():
    assert RelpParser().feed(b"1 open 3 a=b\n2 syslog 3 <1>\n") [1].data == b"<1>"
    for bad in (b"x open 0\n", b"1 syslog 3 abcX", b"1 syslog 1\n", b"\x00\x01 garbage" * 10):
        with pytest.raises(RelpError):
            RelpParser().feed(bad)
    assert response(7, 500, "no") == b"7 rsp 6 500 no\n"


# -- TCP, UDP, TLS --------------------------------------------------------------------------------

def test_tcp_octet_counted_lf_and_nul_in_order(receivers):
    sink = MemorySink()
    r = receivers(sink, tcp=LOCAL)
    port = r.bound_ports["tcp"]
    assert port > 0
    msgs = [b"<134>1 2024-01-01T00:00:00Z host app - - - m%d" % i for i in range(300)]
    wire = b"".join(octet(m) if i % 3 == 0 else m + (b"\n" if i % 3 == 1 else b"\0") for i, m in enumerate(msgs))
    with connect(port) as s:
        for i in range(0, len(wire), 7):
            s.sendall(wire[i:i + 7])
    assert wait_until(lambda: len(sink.data()) == 300)
    assert sink.data() == msgs
    m = sink.messages[0]
    assert m.transport == "tcp" and m.peer.startswith("127.0.0.1:") and m.received_at > 0
    assert wait_until(lambda: r.stored == 300)  # counted after the sink returns, on the sink's thread
    assert r.counters()["received"] == 300 and r.framing_errors == 0


def test_udp_one_datagram_one_message(receivers):
    sink = MemorySink()
    r = receivers(sink, udp=LOCAL)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(20):
            s.sendto(b"<11>Sep  7 14:53:08 host nova-compute: m%d\n" % i, ("127.0.0.1", r.bound_ports["udp"]))
            time.sleep(0.001)
    assert wait_until(lambda: len(sink.data()) == 20)
    assert sink.data()[0] == b"<11>Sep  7 14:53:08 host nova-compute: m0"
    assert {m.transport for m in sink.messages} == {"udp"}


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    openssl = shutil.which("openssl")
    if not openssl:
        if os.environ.get("CI"):
            pytest.fail("CI must provide openssl")
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem"), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


def test_tls_octet_counted(receivers, cert):
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(*cert)
    sink = MemorySink()
    r = receivers(sink, tls=("127.0.0.1", 0, server_ctx))
    client_ctx = ssl.create_default_context(cafile=str(cert[0]))
    with connect(r.bound_ports["tls"]) as raw, client_ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"".join(octet(b"<14>1 - h app - - - tls %d" % i) for i in range(50)))
        s.sendall(b"<14>lf framed over tls\n")
        # stay connected until stored: closing with the server's TLS 1.3 session tickets unread resets
        # the connection, and a reset may drop what the server had not read yet
        assert wait_until(lambda: len(sink.data()) == 51)
    assert sink.data()[-1] == b"<14>lf framed over tls" and sink.messages[0].transport == "tls"


def test_oversized_tcp_message_is_cut_and_the_stream_goes_on(receivers):
    sink = MemorySink()
    r = receivers(sink, tcp=LOCAL)
    big = b"<13>" + b"a" * 100_000
    with connect(r.bound_ports["tcp"]) as s:
        s.sendall(big + b"\n" + octet(big) + b"<13>after\n")
    assert wait_until(lambda: len(sink.data()) == 3)
    got = sink.data()
    assert [len(x) for x in got] == [65536, 65536, 9] and got[2] == b"<13>after"
    assert r.oversized == 2


def test_garbage_is_counted_and_the_connection_survives(receivers):
    sink = MemorySink()
    r = receivers(sink, tcp=LOCAL)
    junk = random.Random(5).randbytes(200_000)
    with connect(r.bound_ports["tcp"]) as s:
        s.sendall(junk + b"\n<13>still here\n")
    assert wait_until(lambda: b"<13>still here" in sink.data())
    assert r.framing_errors > 0
    with connect(r.bound_ports["tcp"]) as s:
        s.sendall(b"<13>next connection\n")
    assert wait_until(lambda: b"<13>next connection" in sink.data())


def test_batches_and_back_pressure(receivers):
    sink = MemorySink()
    sink.gate.clear()                                          # the store is slow: nothing returns
    r = receivers(sink, tcp=LOCAL, batch_max=50, batch_wait=0.2)
    line = b"<13>" + b"x" * 200 + b"\n"
    total = 100_000                                            # 20 MB: more than the socket buffers hold
    done = threading.Event()

    def send():
        with connect(r.bound_ports["tcp"]) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
            s.sendall(line * total)
        done.set()
    t = threading.Thread(target=send, daemon=True)
    t.start()
    time.sleep(1.0)
    assert not done.is_set(), "the sender should be blocked by back-pressure"
    # held: the queue and the batch in the sink, 2 x 50 messages together (the queue's bound), overshot by
    # the read that reached the bound (at most 64 KiB); one more read as a margin
    per_read = 65536 // len(line) + 1
    assert r.received < 3 * 50 + 2 * per_read, f"read {r.received} messages while the sink was blocked"
    sink.gate.set()
    assert wait_until(lambda: len(sink.data()) == total, 30)
    t.join(5)
    assert max(sink.calls) <= 50 + per_read and len(sink.calls) < total


def test_tcp_refusal_is_retried_without_loss(receivers):
    sink = MemorySink(refuse=2)
    r = receivers(sink, tcp=LOCAL)
    with connect(r.bound_ports["tcp"]) as s:
        s.sendall(b"".join(b"<13>m%d\n" % i for i in range(100)))
    assert wait_until(lambda: len(sink.data()) == 100)
    assert sink.data() == [b"<13>m%d" % i for i in range(100)] and r.refused > 0


def test_stop_is_quick_with_idle_connections(receivers):
    r = SyslogReceiver(MemorySink(), tcp=LOCAL, relp=LOCAL, udp=LOCAL)
    r.start()
    socks = [connect(r.bound_ports["tcp"]), connect(r.bound_ports["relp"])]
    time.sleep(0.1)
    t0 = time.monotonic()
    r.stop()
    assert time.monotonic() - t0 < 3
    for s in socks:
        s.close()
    r.stop()                                                   # twice is fine


# -- RELP -----------------------------------------------------------------------------------------

class RelpClient:
    """A minimal RELP client: frames out, responses in (txnr -> (code, text, data))."""

    def __init__(self, port: int):
        self.sock = connect(port)
        self.txnr = 0
        self.buf = b""
        self.parser = RelpParser()

    def send(self, command: bytes, data: bytes = b"") -> int:
        self.txnr += 1
        self.sock.sendall(b"%d %s %d" % (self.txnr, command, len(data)) + (b" " + data if data else b"") + b"\n")
        return self.txnr

    def frames(self, count: int, timeout: float = 10.0) -> list:
        out = []
        self.sock.settimeout(timeout)
        while len(out) < count:
            data = self.sock.recv(65536)
            if not data:
                break
            out += self.parser.feed(data)
        return out

    def close(self):
        self.sock.close()


def relp_open(c: RelpClient) -> None:
    c.send(b"open", b"relp_version=0\nrelp_software=test\ncommands=syslog")
    (rsp,) = c.frames(1)
    assert rsp.command == "rsp" and rsp.txnr == 1 and rsp.data.startswith(b"200 OK\n")
    assert b"commands=syslog" in rsp.data and b"relp_version=0" in rsp.data


def test_relp_acknowledges_only_stored_frames_in_order(receivers):
    sink = MemorySink()
    acked_with_stored = []
    orig = sink.__call__

    r = receivers(lambda batch: orig(batch), relp=LOCAL)
    c = RelpClient(r.bound_ports["relp"])
    relp_open(c)
    txnrs = [c.send(b"syslog", b"<134>1 - h app - - - relp %d\n" % i) for i in range(200)]
    for f in c.frames(200):
        assert f.command == "rsp" and f.data == b"200 OK"
        acked_with_stored.append((f.txnr, len(sink.data())))
    assert [t for t, _ in acked_with_stored] == txnrs
    assert all(n >= i + 1 for i, (_, n) in enumerate(acked_with_stored)), "ack before store"
    close = c.send(b"close")
    rsp, hint = c.frames(2)
    assert (rsp.txnr, rsp.data) == (close, b"200 OK") and (hint.txnr, hint.command) == (0, "serverclose")
    c.close()
    assert sink.data()[0] == b"<134>1 - h app - - - relp 0" and {m.transport for m in sink.messages} == {"relp"}


def test_relp_refusal_means_no_ack_and_a_resend_is_stored_once(receivers):
    sink = MemorySink()
    sink.refusing = True
    r = receivers(sink, relp=LOCAL)
    c = RelpClient(r.bound_ports["relp"])
    relp_open(c)
    for i in range(5):
        c.send(b"syslog", b"<13>refused %d" % i)
    frames = c.frames(5, timeout=5)
    assert all(f.data != b"200 OK" for f in frames if f.command == "rsp"), frames
    assert [f.command for f in frames] in (["serverclose"], [])
    assert c.sock.recv(100) == b""                              # closed: the sender resends
    c.close()
    assert sink.data() == [] and r.refused >= 1
    sink.refusing = False
    c = RelpClient(r.bound_ports["relp"])
    relp_open(c)
    for i in range(5):
        c.send(b"syslog", b"<13>refused %d" % i)
    assert [f.data for f in c.frames(5)] == [b"200 OK"] * 5
    c.close()
    assert sink.data() == [b"<13>refused %d" % i for i in range(5)]


def test_relp_oversized_frame_is_cut_and_acknowledged(receivers):
    sink = MemorySink()
    r = receivers(sink, relp=LOCAL)
    c = RelpClient(r.bound_ports["relp"])
    relp_open(c)
    t = c.send(b"syslog", b"<13>" + b"z" * 70_000)
    (f,) = c.frames(1)
    assert (f.txnr, f.data) == (t, b"200 OK")
    assert len(sink.data()[0]) == 65536 and r.oversized == 1
    c.close()


def test_relp_garbage_closes_that_connection_only(receivers):
    sink = MemorySink()
    r = receivers(sink, relp=LOCAL)
    c = RelpClient(r.bound_ports["relp"])
    c.sock.sendall(b"\x16\x03\x01 this is not relp\n" * 3)
    c.sock.settimeout(5)
    assert c.sock.recv(100) in (b"", b"0 serverclose 0\n")
    c.close()
    assert wait_until(lambda: r.framing_errors == 1)
    c = RelpClient(r.bound_ports["relp"])
    relp_open(c)
    c.send(b"syslog", b"<13>fine")
    assert c.frames(1)[0].data == b"200 OK"
    c.close()


def test_relp_stop_answers_what_was_stored(receivers):
    sink = MemorySink()
    r = SyslogReceiver(sink, relp=LOCAL)
    r.start()
    c = RelpClient(r.bound_ports["relp"])
    relp_open(c)
    for i in range(50):
        c.send(b"syslog", b"<13>s%d" % i)
    time.sleep(0.3)
    r.stop()
    frames = c.frames(51)
    acks = [f.txnr for f in frames if f.command == "rsp" and f.data == b"200 OK"]
    assert len(acks) == len(sink.data()) == 50 and frames[-1].command == "serverclose"
    c.close()


def test_overlapping_batches_are_all_stored_and_relp_answered_in_order(receivers):
    """overlap=2: two batches in the sink at once (the second waits for the first to be let go here);
    every frame is answered once stored, in command order."""
    sink = MemorySink()
    inside, most, first_gate = [0], [0], threading.Event()
    lock = threading.Lock()

    def slow_sink(batch):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            first = len(sink.calls) == 0 and inside[0] == 1
        try:
            if first:
                first_gate.wait(10)                          # held until a second batch is in the sink too
            else:
                first_gate.set()
            sink(batch)
        finally:
            with lock:
                inside[0] -= 1

    r = receivers(slow_sink, relp=LOCAL, batch_max=50, batch_wait=0.01, overlap=2)
    c = RelpClient(r.bound_ports["relp"])
    relp_open(c)
    txnrs = [c.send(b"syslog", b"<134>1 - h app - - - overlap %d\n" % i) for i in range(500)]
    answers = c.frames(500)
    c.close()
    assert [f.txnr for f in answers] == txnrs and {f.data for f in answers} == {b"200 OK"}
    assert most[0] == 2 and sorted(sink.data()) == sorted(b"<134>1 - h app - - - overlap %d" % i for i in range(500))
