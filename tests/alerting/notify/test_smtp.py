"""The email receiver against a real SMTP server (aiosmtpd) with STARTTLS on a certificate made here,
AUTH, and implicit TLS; what arrives is read back and checked."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from stackwatch.alerting.notification import DeliveryError
from stackwatch.alerting.notify.smtp import SmtpReceiver

from .sinks import notification, snapshot
from .tls import make_tls

USER, PASSWORD = "stackwatch", "correct horse"


@dataclass
class Mailbox:
    messages: list = field(default_factory=list)
    refuse_rcpt: str = ""            # an SMTP answer to give every RCPT TO, e.g. "550 no such user"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({
            "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "login": session.auth_data.login.decode() if session.authenticated else None,
            "message": email.message_from_bytes(envelope.original_content, policy=email.policy.default),
        })
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("tls"))


def server_context(tls) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tls.cert, tls.key)
    return ctx


@pytest.fixture
def smtpd(tls):
    """Start an aiosmtpd with the given options; stopped after the test."""
    started = []

    def start(mailbox: Mailbox, **options) -> int:
        port = free_port()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(controller)
        return port
    yield start
    for c in started:
        c.stop()


def receiver(port: int, files, **changes) -> SmtpReceiver:
    base = dict(name="ops-mail", host="127.0.0.1", port=port, sender="stackwatch@example.org",
                to=("ops@example.org", "oncall@example.org"), username=USER, password=PASSWORD,
                ca_file=str(files.ca), subject_prefix="[stackwatch]", timeout=10.0)
    base.update(changes)
    return SmtpReceiver(**base)


def test_starttls_and_auth_deliver_a_multipart_page(smtpd, tls):
    box = Mailbox()
    port = smtpd(box, tls_context=server_context(tls), require_starttls=True, authenticator=authenticator,
                 auth_require_tls=True)
    evil = snapshot("compute-2", summary="<script>alert(1)</script> & more")
    receiver(port, tls).send(notification(receiver="ops-mail", alerts=(snapshot("compute-1"), evil)))
    (got,) = box.messages
    assert got["tls"] and got["login"] == USER
    assert got["from"] == "stackwatch@example.org"
    assert got["to"] == ["ops@example.org", "oncall@example.org"]
    msg = got["message"]
    assert msg["Subject"] == "[stackwatch] [FIRING:2] critical alertname=HostDown role=compute"
    assert msg["To"] == "ops@example.org, oncall@example.org"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "compute-1 is down" in text and "host=compute-2" in text
    assert "<script>alert(1)</script> & more" in text                 # plain text is not HTML
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert 'href="http://127.0.0.1:9844/alerts/fp-HostDown-compute-1"' in html


def test_resolved_and_acknowledged_subjects(smtpd, tls):
    box = Mailbox()
    port = smtpd(box, tls_context=server_context(tls), require_starttls=True)
    r = receiver(port, tls, username=None, password=None, subject_prefix="")
    r.send(notification(event="resolve", alerts=(snapshot(status="resolved", ends_at=1_764_000_500.0),)))
    r.send(notification(event="acknowledge"))
    subjects = [m["message"]["Subject"] for m in box.messages]
    assert subjects == ["[RESOLVED] critical alertname=HostDown role=compute",
                        "[ACKNOWLEDGED] critical alertname=HostDown role=compute"]
    assert "Resolved (1)" in box.messages[0]["message"].get_body(("plain",)).get_content()


def test_implicit_tls(smtpd, tls):
    box = Mailbox()
    port = smtpd(box, ssl_context=server_context(tls), authenticator=authenticator, auth_require_tls=False)
    receiver(port, tls, tls=True).send(notification())
    assert len(box.messages) == 1 and box.messages[0]["tls"] and box.messages[0]["login"] == USER


def test_wrong_password_is_not_retried(smtpd, tls):
    port = smtpd(Mailbox(), tls_context=server_context(tls), require_starttls=True, authenticator=authenticator,
                 auth_require_tls=True)
    with pytest.raises(DeliveryError) as err:
        receiver(port, tls, password="wrong").send(notification())
    assert not err.value.retryable and "535" in err.value.reason


def test_untrusted_certificate_is_refused(smtpd, tls):
    box = Mailbox()
    port = smtpd(box, tls_context=server_context(tls), require_starttls=True)
    with pytest.raises(DeliveryError) as err:
        receiver(port, tls, ca_file=None).send(notification())
    assert not err.value.retryable and "certificate" in err.value.reason
    assert box.messages == []


def test_no_starttls_offered(smtpd, tls):
    box = Mailbox()
    port = smtpd(box)                              # plain SMTP, no STARTTLS
    with pytest.raises(DeliveryError) as err:
        receiver(port, tls).send(notification())
    assert not err.value.retryable and "STARTTLS" in err.value.reason
    with pytest.raises(DeliveryError) as err:
        receiver(port, tls, require_tls=False).send(notification())
    assert "unencrypted" in err.value.reason
    assert box.messages == []                      # the password never crossed the wire in clear
    receiver(port, tls, require_tls=False, username=None, password=None).send(notification())
    assert len(box.messages) == 1 and not box.messages[0]["tls"]


@pytest.mark.parametrize("answer,retryable", [("550 5.1.1 no such user", False), ("451 4.3.0 try later", True)])
def test_refused_recipients(smtpd, tls, answer, retryable):
    port = smtpd(Mailbox(refuse_rcpt=answer), tls_context=server_context(tls), require_starttls=True)
    with pytest.raises(DeliveryError) as err:
        receiver(port, tls, username=None, password=None).send(notification())
    assert err.value.retryable is retryable and answer[:3] in err.value.reason


def test_no_server_is_retryable(tls):
    with pytest.raises(DeliveryError) as err:
        receiver(free_port(), tls).send(notification())
    assert err.value.retryable
