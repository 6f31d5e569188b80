"""Email receiver: sends the message `mail` builds through an SMTP smarthost (stdlib smtplib), with
STARTTLS (required by default, as Alertmanager's require_tls) or implicit TLS, and AUTH.

A password is never sent over an unencrypted connection. Permanent SMTP answers (5xx), a refused
certificate, a server without STARTTLS when it is required and bad credentials are not retried;
timeouts, dropped connections and 4xx answers are.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass, field

from stackwatch.alerting.notification import DeliveryError, GroupNotification
from stackwatch.alerting.notify.mail import build_message

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpReceiver:
    name: str
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False                 # implicit TLS (SMTPS, usually port 465)
    require_tls: bool = True          # STARTTLS must be offered and used (when not implicit TLS)
    ca_file: str | None = None
    hello: str | None = None          # the name we give in EHLO (default: this host's FQDN)
    subject_prefix: str = ""
    timeout: float = 30.0
    kind: str = "email"

    def send(self, n: GroupNotification) -> None:
        self.deliver_message(build_message(n, self.sender, self.to, self.subject_prefix, domain=self.hello))

    def deliver_message(self, msg, to: tuple[str, ...] | None = None) -> None:
        """Send a ready-made EmailMessage (a page, or a scheduled report) through this receiver's server, TLS
        and credentials; failures raise DeliveryError, retryable or not, as for pages."""
        where = f"SMTP {self.host}:{self.port}"
        try:
            refused = self._deliver(msg, tuple(to) if to else self.to)
        except DeliveryError:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{rcpt}: {code} {_text(m)}" for rcpt, (code, m) in exc.recipients.items())
            raise DeliveryError(f"{where} refused every recipient ({detail})",
                                retryable=any(c < 500 for c in codes)) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{where} refused our credentials: {exc.smtp_code} {_text(exc.smtp_error)}",
                                retryable=exc.smtp_code < 500) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)}",
                                retryable=exc.smtp_code < 500) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{where}: {exc}", retryable=False) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(f"{where}: TLS certificate not trusted: {exc.verify_message}",
                                retryable=False) from None
        except (TimeoutError, socket.timeout):
            raise DeliveryError(f"{where}: no answer within {self.timeout:g}s") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}") from None
        if refused:
            log.warning("%s accepted the page for %s but refused %s", where, self.name, ", ".join(refused))

    def _deliver(self, msg, to: tuple[str, ...]) -> dict:
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.tls:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.hello,
                                                  timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, local_hostname=self.hello, timeout=self.timeout)
        with conn:
            conn.ehlo()
            encrypted = self.tls
            if not self.tls and conn.has_extn("starttls"):
                conn.starttls(context=context)
                conn.ehlo()
                encrypted = True
            elif not self.tls and self.require_tls:
                raise DeliveryError(f"SMTP {self.host}:{self.port} does not offer STARTTLS and require_tls is "
                                    "set", retryable=False)
            if self.username is not None:
                if not encrypted:
                    raise DeliveryError(f"SMTP {self.host}:{self.port}: refusing to send the password over an "
                                        "unencrypted connection (use STARTTLS or tls: true)", retryable=False)
                conn.login(self.username, self.password or "")
            return conn.send_message(msg, from_addr=self.sender, to_addrs=list(to))


def _text(raw) -> str:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return " ".join(str(raw).split())
