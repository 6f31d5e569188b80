"""The generated client config in a real rsyslogd, forwarding to SyslogReceiver over TCP and RELP:
messages arrive with their facility, and none is lost while the receiver is down (RELP: exactly once;
TCP: at least once, duplicates counted and reported)."""

from __future__ import annotations

import re
import time

import pytest

from stackwatch.rsyslog.receiver import SyslogReceiver
from stackwatch.rsyslog.rsyslogconf import FORWARD_FILE, client_config

from .rsyslog_server import Rsyslogd, need
from .test_receiver import MemorySink, wait_until

PROTOCOLS = ["tcp", "relp"]


def forwarder(tmp_path, port: int, protocol: str) -> Rsyslogd:
    need("rsyslogd")
    spool = tmp_path / "spool"
    spool.mkdir()
    files = client_config("compute-1", ["nova", "glance"], None, "127.0.0.1", port, protocol=protocol,
                          queue_dir=str(spool), resume_interval=1, resume_interval_max=2)
    return Rsyslogd(tmp_path, files[FORWARD_FILE])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_messages_arrive_with_their_facility(tmp_path, protocol):
    sink = MemorySink()
    with SyslogReceiver(sink, **{protocol: ("127.0.0.1", 0)}) as receiver:
        with forwarder(tmp_path, receiver.bound_ports[protocol], protocol) as rsyslogd:
            rsyslogd.logger("nova-compute", "Instance failed to spawn", "local0.err")
            rsyslogd.send("glance-api", "image uploaded", "local1", "info")
            assert wait_until(lambda: len(sink.data()) >= 2, 30), rsyslogd.output.read_text()
    by_tag = {re.split(rb" ", m, 4)[3]: m for m in sink.data()}
    nova, glance = by_tag[b"nova-compute"], by_tag[b"glance-api"]
    assert nova.startswith(b"<131>1 ") and nova.endswith(b"Instance failed to spawn")   # local0.err: 16*8+3
    assert glance.startswith(b"<142>1 ") and glance.endswith(b"image uploaded")          # local1.info: 17*8+6
    assert {m.transport for m in sink.messages} == {protocol}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_nothing_is_lost_while_the_receiver_is_down(tmp_path, protocol, record_property, capsys):
    total, seconds = 2000, 10.0
    first = MemorySink()
    receiver = SyslogReceiver(first, **{protocol: ("127.0.0.1", 0)})
    receiver.start()
    port = receiver.bound_ports[protocol]
    with forwarder(tmp_path, port, protocol) as rsyslogd:
        rsyslogd.send("nova-compute", "warm-up")
        assert wait_until(lambda: first.data(), 30), rsyslogd.output.read_text()
        receiver.stop()
        t0 = time.monotonic()
        for i in range(total):
            rsyslogd.send("nova-compute", f"loss-test {i}")
            time.sleep(max(0.0, t0 + seconds * (i + 1) / total - time.monotonic()))
        second = MemorySink()
        with SyslogReceiver(second, **{protocol: ("127.0.0.1", port)}):
            wanted = set(range(total))
            ids = lambda: [int(m) for m in re.findall(rb"loss-test (\d+)$", b"\n".join(second.data()), re.M)]
            wait_until(lambda: wanted <= set(ids()), 90)
            time.sleep(1.0)                                    # late duplicates, if any
            got = ids()
    duplicates = len(got) - len(set(got))
    missing = sorted(wanted - set(got))
    result = {"protocol": protocol, "sent": total, "received": len(got), "distinct": len(set(got)),
              "duplicates": duplicates, "missing": len(missing), "in_first_receiver": len(first.data()) - 1}
    record_property("loss_test", result)
    with capsys.disabled():
        print(f"\nloss test {result}")
    assert not missing, f"lost {len(missing)} of {total}: {missing[:20]}"
    assert got == sorted(got) or protocol == "tcp"             # RELP keeps the order too
    if protocol == "relp":
        assert duplicates == 0


def test_relp_refusals_are_resent_by_rsyslog_and_stored_once(tmp_path):
    """The sink refuses for a while: no answer, the connection closes, librelp resends after reconnecting."""
    total = 300
    sink = MemorySink()
    with SyslogReceiver(sink, relp=("127.0.0.1", 0)) as receiver:
        with forwarder(tmp_path, receiver.bound_ports["relp"], "relp") as rsyslogd:
            rsyslogd.send("nova-compute", "warm-up")
            assert wait_until(lambda: sink.data(), 30), rsyslogd.output.read_text()
            sink.refusing = True
            for i in range(total):
                rsyslogd.send("nova-compute", f"refused {i}")
            assert wait_until(lambda: receiver.refused > 0, 30)
            time.sleep(2)
            sink.refusing = False
            # librelp sees that the session broke when it next sends: with the generated window (8,192 frames)
            # all 300 went out unanswered, so the next message, as a cloud's next log line, sets off the resend
            rsyslogd.send("nova-compute", "after the refusal")
            ids = lambda: [int(m) for m in re.findall(rb"refused (\d+)$", b"\n".join(sink.data()), re.M)]
            assert wait_until(lambda: len(set(ids())) == total, 60), (len(set(ids())), receiver.counters())
            time.sleep(1)
    assert sorted(ids()) == list(range(total)), "each message stored exactly once"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_disk_queue_survives_an_rsyslog_restart(tmp_path, protocol, record_property, capsys):
    """Receiver down, rsyslog stopped (queue saved to the spool) and started again: nothing lost. rsyslog
    itself may send one message twice here (the one its suspended action held at shutdown is saved with
    the queue too), over RELP as well: reported, not failed."""
    total = 500
    sink = MemorySink()
    receiver = SyslogReceiver(sink, **{protocol: ("127.0.0.1", 0)})
    receiver.start()
    port = receiver.bound_ports[protocol]
    receiver.stop()
    rsyslogd = forwarder(tmp_path, port, protocol).start()
    for i in range(total):
        rsyslogd.send("nova-compute", f"restart {i}")
    time.sleep(1)
    rsyslogd.stop()
    assert list((tmp_path / "spool").glob("stackwatch-forward*")), "queue saved to disk on shutdown"
    with rsyslogd, SyslogReceiver(sink, **{protocol: ("127.0.0.1", port)}):     # __enter__ starts it again
        ids = lambda: [int(m) for m in re.findall(rb"restart (\d+)$", b"\n".join(sink.data()), re.M)]
        assert wait_until(lambda: set(ids()) == set(range(total)), 60), rsyslogd.output.read_text()
    got = ids()
    result = {"protocol": protocol, "sent": total, "received": len(got), "distinct": len(set(got)),
              "duplicated": sorted(i for i in set(got) if got.count(i) > 1)}
    record_property("restart_test", result)
    with capsys.disabled():
        print(f"\nrestart test {result}")


def test_tcp_over_tls_with_gtls(tmp_path):
    import shutil
    import ssl
    import subprocess

    openssl = need("openssl")
    pki = tmp_path / "pki"
    pki.mkdir()
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(pki / "key.pem"),
                    "-out", str(pki / "cert.pem"), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    shutil.copy(pki / "cert.pem", pki / "ca.pem")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki / "cert.pem", pki / "key.pem")
    sink = MemorySink()
    with SyslogReceiver(sink, tls=("127.0.0.1", 0, ctx)) as receiver:
        spool = tmp_path / "spool"
        spool.mkdir()
        files = client_config("compute-1", ["nova"], None, "127.0.0.1", receiver.bound_ports["tls"],
                              tls={"ca_file": str(pki / "ca.pem"), "permitted_peer": ["localhost"]},
                              queue_dir=str(spool), resume_interval=1)
        with Rsyslogd(tmp_path, files[FORWARD_FILE]) as rsyslogd:
            rsyslogd.send("nova-compute", "over tls")
            assert wait_until(lambda: sink.data(), 30), rsyslogd.output.read_text()
    assert sink.data()[0].startswith(b"<131>1 ") and sink.data()[0].endswith(b"over tls")
    assert sink.messages[0].transport == "tls"
