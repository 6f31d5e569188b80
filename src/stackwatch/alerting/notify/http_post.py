"""Posting a JSON body over HTTP(S) for the HTTP receivers (stdlib urllib), with a timeout and the
retry classification Alertmanager uses: connection errors, timeouts, 5xx, 408 and 429 are worth
retrying; any other 4xx (the receiver refused this payload or our credentials) is not.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from stackwatch.alerting.notification import DeliveryError

_RETRYABLE_4XX = {408, 425, 429}
_USER_AGENT = "stackwatch-notify/1"


@dataclass(frozen=True, slots=True)
class HttpAuth:
    """How to authenticate to an HTTP receiver: a bearer token or basic auth (secrets resolved)."""

    bearer_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def header(self) -> dict[str, str]:
        if self.bearer_token:
            return {"Authorization": f"Bearer {self.bearer_token}"}
        if self.username is not None:
            raw = f"{self.username}:{self.password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        return {}


def post_json(url: str, body: Any, timeout: float, auth: HttpAuth | None = None,
              ca_file: str | None = None, headers: dict[str, str] | None = None,
              shown_as: str | None = None) -> bytes:
    """POST `body` as JSON; return the response body of a 2xx, raise DeliveryError otherwise.

    Errors name the receiver as `shown_as`, else scheme://host:port/path (never the query string):
    pass `shown_as` when the URL itself is a secret (Slack's incoming webhooks)."""
    where = shown_as or _origin(url)
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    all_headers = {"Content-Type": "application/json", "User-Agent": _USER_AGENT, **(headers or {})}
    if auth is not None:
        all_headers.update(auth.header())
    req = urllib.request.Request(url, data=data, headers=all_headers, method="POST")
    context = ssl.create_default_context(cafile=ca_file) if url.startswith("https") else None
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        detail = _excerpt(exc)
        retryable = exc.code >= 500 or exc.code in _RETRYABLE_4XX
        raise DeliveryError(f"HTTP {exc.code} {exc.reason} from {where}{detail}", retryable) from None
    except (TimeoutError, socket.timeout):
        raise DeliveryError(f"no answer from {where} within {timeout:g}s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise DeliveryError(f"TLS certificate of {where} not trusted: {reason.verify_message}",
                                retryable=False) from None
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise DeliveryError(f"no answer from {where} within {timeout:g}s") from None
        raise DeliveryError(f"cannot reach {where}: {reason}") from None
    except (OSError, ValueError) as exc:   # connection reset mid-answer, a malformed URL
        raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}") from None


def _origin(url: str) -> str:
    """scheme://host:port/path of `url`, without query or credentials (URLs can carry tokens)."""
    parsed = urllib.request.urlparse(url)
    host = parsed.hostname or ""
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{host}{port}{parsed.path}"


def _excerpt(exc: urllib.error.HTTPError, limit: int = 200) -> str:
    try:
        text = exc.read(limit + 1).decode("utf-8", "replace")
    except OSError:
        return ""
    text = " ".join(text.split())
    return f": {text[:limit]}" if text else ""
