"""Adapter: raw JSON calls to the OpenStack APIs over an openstacksdk Connection's service proxies.

The collectors and probes talk to the REST APIs directly (one GET per page, the JSON as it comes, no
resource objects): that is what keeps an inventory of thousands of servers to a few seconds. Every failure
becomes one `ApiError` carrying what a status line needs: the service, the call, the HTTP status (None when
no answer came: refused, timed out, no endpoint in the catalog), the error message one-lined, and the request
id of the failing response (`x-openstack-request-id`, nova's `x-compute-request-id`, swift's `x-trans-id`).
"""

from __future__ import annotations

import json as jsonlib
import logging
from typing import Any, Iterator

from stackwatch.openstack.connection import one_line

log = logging.getLogger(__name__)

# the openstacksdk proxy attribute of each service type we use
PROXIES = {"compute": "compute", "image": "image", "network": "network", "volume": "block_storage",
           "placement": "placement", "identity": "identity", "object-store": "object_store"}
REQUEST_ID_HEADERS = ("x-openstack-request-id", "x-compute-request-id", "x-trans-id", "x-request-id")


class ApiError(Exception):
    """A call that failed. `status` is the HTTP status, or None when no HTTP answer came."""

    def __init__(self, service: str, call: str, message: str, status: int | None = None,
                 request_id: str | None = None, missing_endpoint: bool = False, unauthorized: bool = False):
        self.service, self.call, self.status, self.request_id = service, call, status, request_id
        self.message = one_line(message)
        self.missing_endpoint, self.unauthorized = missing_endpoint, unauthorized
        super().__init__(self.line())

    def line(self) -> str:
        what = f"HTTP {self.status}" if self.status is not None else "no answer"
        if self.missing_endpoint:
            what = "no endpoint"
        text = f"{self.service} {self.call}: {what}: {self.message}"
        if self.request_id:
            text += f" (request {self.request_id})"
        return text


def request_id_of(headers) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def error_message(body: bytes | str, limit: int = 300) -> str:
    """The message inside an OpenStack error body: nova's {"itemNotFound": {"message"}}, neutron's
    {"NeutronError": {"message"}}, keystone's {"error": {"message"}}, cinder's, or the text itself."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        doc = jsonlib.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        for value in doc.values():
            if isinstance(value, dict) and value.get("message"):
                return one_line(str(value["message"]), limit)
        if doc.get("message"):
            return one_line(str(doc["message"]), limit)
        if doc.get("title") or doc.get("description"):
            return one_line(f"{doc.get('title', '')} {doc.get('description', '')}", limit)
    if "<" in text:  # an HTML error page (glance, swift, a proxy): its text only
        import re

        text = re.sub(r"<[^>]+>", " ", text)
    return one_line(text or "(empty body)", limit)


class Api:
    """JSON over the service proxies of `conn` (an openstacksdk Connection); `timeout` bounds each request."""

    def __init__(self, conn, timeout: float = 30.0):
        self.conn, self.timeout = conn, timeout

    def endpoint(self, service: str) -> str:
        proxy = self._proxy(service)
        try:
            from keystoneauth1.adapter import Adapter

            url = Adapter.get_endpoint(proxy)  # the identity proxy's own get_endpoint() reads endpoint records
        except Exception as exc:  # keystoneauth's EndpointNotFound, or no catalog at all
            raise self._failure(service, "endpoint", exc) from None
        if not url:
            raise ApiError(service, "endpoint", f"no {service} endpoint in the catalog", missing_endpoint=True)
        return url

    def _proxy(self, service: str):
        return getattr(self.conn, PROXIES[service])

    def request(self, service: str, method: str, path: str, *, params: dict | None = None, json: Any = None,
                data: bytes | None = None, headers: dict | None = None, microversion: str | None = None,
                timeout: float | None = None, stream: bool = False, expect: tuple[int, ...] = (),
                authenticated: bool = True):
        """The response of one call; ApiError for no answer or a status >= 400 (unless in `expect`)."""
        call = f"{method} {path}"
        kwargs: dict[str, Any] = {"params": params, "headers": headers or {}, "raise_exc": False,
                                  "timeout": timeout or self.timeout}
        if json is not None:
            kwargs["json"] = json
        if data is not None:
            kwargs["data"] = data
        if microversion:
            kwargs["microversion"] = microversion
        if stream:
            kwargs["stream"] = True
        if not authenticated:  # e.g. a token request with someone else's password
            kwargs["authenticated"] = False
        try:
            resp = self._proxy(service).request(path, method, **kwargs)
        except Exception as exc:
            raise self._failure(service, call, exc) from None
        if resp.status_code >= 400 and resp.status_code not in expect:
            raise ApiError(service, call, error_message(resp.content), resp.status_code, request_id_of(resp.headers),
                           unauthorized=resp.status_code == 401)
        return resp

    def get_json(self, service: str, path: str, **kwargs) -> dict:
        resp = self.request(service, "GET", path, **kwargs)
        return self.decode(service, f"GET {path}", resp)

    @staticmethod
    def decode(service: str, call: str, resp) -> dict:
        try:
            doc = resp.json()
        except ValueError:
            raise ApiError(service, call, f"answer is not JSON: {resp.text[:80]!r}", resp.status_code,
                           request_id_of(resp.headers)) from None
        if not isinstance(doc, dict):
            raise ApiError(service, call, f"answer is not a JSON object: {type(doc).__name__}", resp.status_code,
                           request_id_of(resp.headers))
        return doc

    def paginate(self, service: str, path: str, key: str, params: dict | None = None, page_size: int = 1000,
                 **kwargs) -> Iterator[dict]:
        """Every item of a marker-paginated list (nova, glance, cinder, neutron all take limit & marker)."""
        params = dict(params or {})
        marker = None
        seen_markers = set()
        while True:
            page_params = {**params, "limit": page_size}
            if marker:
                page_params["marker"] = marker
            doc = self.get_json(service, path, params=page_params, **kwargs)
            items = doc.get(key)
            if not isinstance(items, list):
                raise ApiError(service, f"GET {path}", f"answer has no {key!r} list", 200)
            yield from items
            if len(items) < page_size or not items:
                return
            marker = items[-1].get("id")
            if not marker or marker in seen_markers:  # a server that ignores the marker: stop, do not loop
                return
            seen_markers.add(marker)

    def _failure(self, service: str, call: str, exc: Exception) -> ApiError:
        import keystoneauth1.exceptions as ka

        name = type(exc).__name__
        if isinstance(exc, ka.EndpointNotFound) or name in ("EndpointNotFound", "ServiceDisabledException"):
            return ApiError(service, call, f"no {service} endpoint in the catalog ({one_line(str(exc))})",
                            missing_endpoint=True)
        if isinstance(exc, ka.Unauthorized):
            return ApiError(service, call, f"authentication failed: {one_line(str(exc))}", 401, unauthorized=True)
        if isinstance(exc, ka.http.HttpError):
            return ApiError(service, call, one_line(str(exc)), getattr(exc, "http_status", None),
                            getattr(exc, "request_id", None))
        return ApiError(service, call, f"{name}: {one_line(str(exc))}")
