"""Test helper: a misbehaving OpenStack on loopback, for the failure modes the real lab cannot be asked to show
(HTTP 500, a body that is not JSON, a hang, refused credentials, a catalog without the service).

One ThreadingHTTPServer plays keystone (version document, POST /v3/auth/tokens with a catalog pointing back at
itself) and every service under /<service>/; `behaviour[service]` says how a service answers: "ok" (a small
valid answer), "500", "garbage", "hang" (answers after `hang_seconds`), "shape" (valid JSON of another shape).
`behaviour["keystone"] = "401"` refuses the credentials; a service listed in `missing` is left out of the catalog.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROJECT = "p0000000000000000000000000000001"

OK_BODIES = {
    "compute": {"/os-services": {"services": [
        {"id": 1, "binary": "nova-compute", "host": "c1", "status": "enabled", "state": "up", "forced_down": False,
         "updated_at": "2026-01-01T00:00:00.000000", "disabled_reason": None, "zone": "nova"}]},
        "/servers/detail": {"servers": []}},
    "volume": {"/os-services": {"services": [
        {"binary": "cinder-volume", "host": "c1@lvm", "status": "enabled", "state": "up",
         "updated_at": "2026-01-01T00:00:00.000000", "disabled_reason": None, "zone": "nova"}]}},
    "network": {"/v2.0/agents": {"agents": []}},
    "placement": {"/resource_providers": {"resource_providers": []}},
}
VERSIONS = {
    "compute": {"version": {"id": "v2.1", "status": "CURRENT", "version": "2.90", "min_version": "2.1",
                            "links": [{"rel": "self", "href": "{base}/compute/v2.1/"}]}},
    "volume": {"version": {"id": "v3.0", "status": "CURRENT", "version": "3.70", "min_version": "3.0",
                           "links": [{"rel": "self", "href": "{base}/volume/v3/"}]}},
    "network": {"versions": [{"id": "v2.0", "status": "CURRENT",
                              "links": [{"rel": "self", "href": "{base}/network/v2.0/"}]}]},
    "placement": {"versions": [{"id": "v1.0", "status": "CURRENT", "max_version": "1.39", "min_version": "1.0",
                                "links": [{"rel": "self", "href": ""}]}]},
}
SERVICE_TYPES = {"compute": "compute", "volume": "volumev3", "network": "network", "placement": "placement"}


class FakeCloud:
    def __init__(self):
        self.behaviour: dict[str, str] = {}
        self.missing: set[str] = set()
        self.hang_seconds = 3.0
        self.requests: list[str] = []
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                cloud._serve(self, "GET")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                cloud._serve(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a client that timed out closed its end
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def env(self) -> dict[str, str]:
        return {"OS_AUTH_URL": self.base + "/v3", "OS_USERNAME": "admin", "OS_PASSWORD": "secret",
                "OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
                "OS_IDENTITY_API_VERSION": "3", "OS_REGION_NAME": "RegionOne", "OS_INTERFACE": "public"}

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------------------------------------ --
    def _send(self, h, status: int, body: bytes, ctype="application/json", headers=()):
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _json(self, h, status: int, doc, headers=()):
        self._send(h, status, json.dumps(doc).replace("{base}", self.base).encode(), headers=headers)

    def _catalog(self):
        out = [{"type": "identity", "name": "keystone", "id": "s-identity", "endpoints": [
            {"id": "e-identity", "interface": "public", "region": "RegionOne", "region_id": "RegionOne",
             "url": self.base + "/v3"}]}]
        for svc, stype in SERVICE_TYPES.items():
            if svc in self.missing:
                continue
            url = f"{self.base}/{svc}" + {"compute": "/v2.1", "volume": f"/v3/{PROJECT}"}.get(svc, "")
            out.append({"type": stype, "name": svc, "id": f"s-{svc}", "endpoints": [
                {"id": f"e-{svc}", "interface": "public", "region": "RegionOne", "region_id": "RegionOne",
                 "url": url}]})
        return out

    def _serve(self, h, method: str):
        path = h.path.split("?", 1)[0]
        self.requests.append(f"{method} {h.path}")
        if path.startswith("/v3"):
            return self._keystone(h, method, path)
        svc, _, rest = path.lstrip("/").partition("/")
        rest = "/" + rest
        mode = self.behaviour.get(svc, "ok")
        if mode == "hang":
            time.sleep(self.hang_seconds)
        if mode == "500":
            return self._send(h, 500, b'{"error": "boom"}')
        if mode == "garbage":
            return self._send(h, 200, b"<html>this is not json")
        if svc == "compute":
            rest = rest.removeprefix("/v2.1")
        elif svc == "volume":
            rest = rest.removeprefix("/v3").removeprefix("/" + PROJECT)
        if rest in ("", "/"):
            return self._json(h, 200, VERSIONS.get(svc, {}))
        if mode == "shape":
            return self._json(h, 200, {"unexpected": True})
        body = OK_BODIES.get(svc, {}).get(rest.rstrip("/"))
        if body is None:
            return self._json(h, 404, {"error": f"no {rest}"})
        return self._json(h, 200, body)

    def _keystone(self, h, method: str, path: str):
        mode = self.behaviour.get("keystone", "ok")
        if mode == "hang":
            time.sleep(self.hang_seconds)
        if mode == "500":
            return self._send(h, 500, b"internal error")
        if method == "GET" and path.rstrip("/") == "/v3":
            return self._json(h, 200, {"version": {"id": "v3.14", "status": "stable", "links": [
                {"rel": "self", "href": self.base + "/v3/"}], "media-types": []}})
        if method == "POST" and path == "/v3/auth/tokens":
            if mode == "401":
                return self._json(h, 401, {"error": {"code": 401, "title": "Unauthorized",
                                                     "message": "The request you have made requires authentication."}})
            token = {"token": {"methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z",
                               "issued_at": "2026-01-01T00:00:00.000000Z",
                               "user": {"id": "u1", "name": "admin", "domain": {"id": "default", "name": "Default"}},
                               "project": {"id": PROJECT, "name": "admin",
                                           "domain": {"id": "default", "name": "Default"}},
                               "roles": [{"id": "r1", "name": "admin"}], "catalog": self._catalog()}}
            return self._json(h, 201, token, headers=[("X-Subject-Token", "tok-123")])
        return self._json(h, 404, {"error": "not found"})
