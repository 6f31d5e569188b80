"""RELP over TLS with a real rsyslogd: the generated client config with omrelp tls="on" forwards to
SyslogReceiver's RELP-over-TLS listener, both sides holding certificates of a CA made here with openssl
(the receiver requires the client's); every message arrives once and is answered. A peer that speaks
plain RELP to that port gets nothing stored."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess

import pytest

from stackwatch.rsyslog.receiver import SyslogReceiver
from stackwatch.rsyslog.rsyslogconf import FORWARD_FILE, client_config

from .rsyslog_server import Rsyslogd, need
from .test_receiver import MemorySink, wait_until


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a server certificate for localhost and a client certificate for compute-1, both signed by it."""
    openssl = need("openssl")
    d = tmp_path_factory.mktemp("pki")
    _run(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "ca.key"),
         "-out", str(d / "ca.pem"), "-days", "2", "-subj", "/CN=stackwatch test CA")
    for name, cn, san in (("server", "localhost", "DNS:localhost,IP:127.0.0.1"), ("client", "compute-1", "DNS:compute-1")):
        _run(openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / f"{name}.key"),
             "-out", str(d / f"{name}.csr"), "-subj", f"/CN={cn}")
        (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        _run(openssl, "x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / "ca.pem"),
             "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-out", str(d / f"{name}.pem"), "-days", "2",
             "-extfile", str(d / f"{name}.ext"))
    return d


def server_context(pki) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki / "server.pem", pki / "server.key")
    ctx.load_verify_locations(pki / "ca.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED                    # the client must show a certificate of the CA
    return ctx


def test_rsyslog_forwards_over_relp_with_tls(tmp_path, pki):
    need("rsyslogd")
    total = 200
    sink = MemorySink()
    with SyslogReceiver(sink, relp_tls=("127.0.0.1", 0, server_context(pki))) as receiver:
        spool = tmp_path / "spool"
        spool.mkdir()
        files = client_config("compute-1", ["nova"], None, "127.0.0.1", receiver.bound_ports["relp_tls"],
                              protocol="relp", queue_dir=str(spool), resume_interval=1,
                              tls={"ca_file": str(pki / "ca.pem"), "cert_file": str(pki / "client.pem"),
                                   "key_file": str(pki / "client.key"), "permitted_peer": ["localhost"]})
        assert 'tls="on"' in files[FORWARD_FILE]
        with Rsyslogd(tmp_path, files[FORWARD_FILE]) as rsyslogd:
            for i in range(total):
                rsyslogd.send("nova-compute", f"over relp+tls {i}")
            ids = lambda: [int(m) for m in re.findall(rb"over relp\+tls (\d+)$", b"\n".join(sink.data()), re.M)]
            assert wait_until(lambda: len(ids()) >= total, 30), rsyslogd.output.read_text()
        counters = receiver.counters()
    assert ids() == list(range(total))                       # once each, in order
    assert sink.data()[0].startswith(b"<131>1 ")             # local0.err, the facility kept
    assert {m.transport for m in sink.messages} == {"relp-tls"}
    assert counters["stored"] == total and counters["framing_errors"] == 0


def test_plain_relp_on_the_tls_port_stores_nothing(pki):
    sink = MemorySink()
    with SyslogReceiver(sink, relp_tls=("127.0.0.1", 0, server_context(pki))) as receiver:
        with socket.create_connection(("127.0.0.1", receiver.bound_ports["relp_tls"]), timeout=10) as s:
            s.sendall(b"1 open 0\n2 syslog 14 <14>1 - h a - -\n")
            s.settimeout(10)
            try:
                answer = s.recv(4096)                        # the TLS side gives up on this peer
            except (ConnectionError, socket.timeout):
                answer = b""
        assert b"rsp" not in answer
    assert sink.data() == [] and receiver.received == 0


def test_config_opens_a_relp_tls_listener_with_the_tls_certificate(make_config, store, pki):
    from stackwatch.logs_runtime import LogRuntime

    config = make_config(logs={"receive": {"tls": {"relp": "127.0.0.1:0", "cert_file": str(pki / "server.pem"),
                                                   "key_file": str(pki / "server.key"),
                                                   "ca_file": str(pki / "ca.pem")}}})
    assert config.logs.relp_tls_listen == ("127.0.0.1", 0) and config.logs.tls_listen is None
    runtime = LogRuntime.build(config, store.events)
    runtime.start()
    try:
        assert set(runtime.receiver.bound_ports) == {"relp_tls"}
        client = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        client.load_cert_chain(pki / "client.pem", pki / "client.key")
        port = runtime.receiver.bound_ports["relp_tls"]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                client.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"1 open 0\n")
            assert s.recv(4096).startswith(b"1 rsp ")        # a RELP session, over TLS
    finally:
        runtime.stop()
        runtime.ingest.close()
