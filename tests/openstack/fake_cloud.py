"""A local HTTP server answering as keystone, nova, placement, glance, cinder, neutron and swift do, replaying the
lab's real answers (tests/fixtures/openstack/lab-zed-answers.json, recorded from the Zed lab) scaled to N
servers on H hypervisors; for the bad-input tests it answers 500, garbage or nothing (hangs) on chosen paths,
refuses credentials (expired) or leaves a service out of the catalog.

Loopback only, a free port, one thread per request. `FakeCloud.env()` gives the OS_* variables pointing at it.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ANSWERS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "openstack" / "lab-zed-answers.json")
                     .read_text())
PROJECT = "b86fb250656943afa35ac8faf652d5bb"
TOKEN = "fake-token"
SERVICES = {"identity": "/identity/v3", "compute": "/compute/v2.1", "placement": "/placement",
            "image": "/image", "network": "/network", "volumev3": f"/volume/v3/{PROJECT}",
            "object-store": f"/swift/v1/AUTH_{PROJECT}"}


class FakeCloud:
    def __init__(self, servers: int = 10, hypervisors: int = 2, projects: int = 3, images: int = 5,
                 volumes: int = 10):
        self.faults: dict[str, str] = {}     # path regex -> "500" | "garbage" | "hang" | "401"
        self.expired = False                # keystone refuses the password (expired credentials)
        self.catalog_without: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self.created_images: dict[str, dict] = {}  # what the image probe created and did not delete
        self.image_data: dict[str, bytes] = {}
        self.created_servers: dict[str, dict] = {}  # what the instance probe booted and did not delete
        self.boot_status = "ACTIVE"                 # the status a booted server shows
        self.hang_seconds = 30.0
        self.hypervisor_names = [f"compute-{i:03d}" for i in range(hypervisors)]
        self.projects = [{"id": PROJECT if i == 0 else uuid.UUID(int=i).hex, "name": f"project-{i}",
                          "domain_id": "default", "enabled": True} for i in range(projects)]
        flavors = [("m1.tiny", 1, 512, 1), ("m1.small", 1, 2048, 20)]
        self.servers = []
        template = ANSWERS["server"]
        for i in range(servers):
            s = copy.deepcopy(template)
            name, vcpus, ram, disk = flavors[i % len(flavors)]
            s.update({"id": str(uuid.UUID(int=10**6 + i)), "name": f"vm-{i}", "status": "ERROR" if i % 50 == 49 else "ACTIVE",
                      "OS-EXT-STS:vm_state": "active", "tenant_id": self.projects[i % projects]["id"],
                      "OS-EXT-SRV-ATTR:host": self.hypervisor_names[i % hypervisors],
                      "OS-EXT-SRV-ATTR:hypervisor_hostname": self.hypervisor_names[i % hypervisors],
                      "updated": "2026-11-25T10:00:00Z"})
            s["flavor"].update({"original_name": name, "vcpus": vcpus, "ram": ram, "disk": disk})
            self.servers.append(s)
        self.images = []
        for i in range(images):
            img = copy.deepcopy(ANSWERS["images"]["images"][0])
            img.update({"id": str(uuid.UUID(int=2 * 10**6 + i)), "name": f"img-{i}", "size": 1000 * (i + 1)})
            if i % 3 == 2:
                img["image_type"] = "snapshot"
            self.images.append(img)
        self.volumes = [{"id": str(uuid.UUID(int=3 * 10**6 + i)), "name": f"vol-{i}", "size": 1 + i % 3,
                         "status": "available" if i % 2 else "in-use",
                         "os-vol-tenant-attr:tenant_id": self.projects[i % projects]["id"]} for i in range(volumes)]
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeCloud":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def env(self) -> dict[str, str]:
        return {"OS_AUTH_URL": self.url + "/identity/v3", "OS_USERNAME": "admin", "OS_PASSWORD": "pw",
                "OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
                "OS_IDENTITY_API_VERSION": "3", "OS_REGION_NAME": "RegionOne", "OS_INTERFACE": "public"}

    # ------------------------------------------------------------------------------------ answers --
    def catalog(self) -> list[dict]:
        return [{"type": t, "name": t, "id": t, "endpoints": [
            {"interface": i, "region": "RegionOne", "region_id": "RegionOne", "url": self.url + p, "id": f"{t}-{i}"}
            for i in ("public", "internal", "admin")]} for t, p in SERVICES.items() if t not in self.catalog_without]

    def token(self) -> dict:
        return {"token": {"methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z",
                          "issued_at": "2026-11-25T00:00:00.000000Z", "catalog": self.catalog(),
                          "project": {"id": PROJECT, "name": "admin", "domain": {"id": "default", "name": "Default"}},
                          "user": {"id": "u1", "name": "admin", "domain": {"id": "default", "name": "Default"}},
                          "roles": [{"id": "r1", "name": "admin"}]}}

    def route(self, method: str, path: str, q: dict, body: dict | None = None, raw: bytes = b"") -> tuple[int, object]:
        """(status, JSON body) of one call; paths as the fake catalog lays them out."""
        body = body or {}
        version = self.version_document(path.rstrip("/"))
        if version is not None:
            return 200, version
        if path.startswith("/identity/v3"):
            sub = path[len("/identity/v3"):]
            if sub == "/auth/tokens" and method == "POST":
                return (401, {"error": {"code": 401, "message": "The password is expired and needs to be changed "
                                        "for user: u1.", "title": "Unauthorized"}}) if self.expired else (201, self.token())
            if sub == "/projects":
                return 200, {"projects": self.projects}
            if sub in ("", "/"):
                return 200, {"version": {"id": "v3.14", "status": "stable"}}
        if path.startswith("/compute/v2.1"):
            sub = path[len("/compute/v2.1"):]
            if sub == "/os-services":
                return 200, {"services": [dict(ANSWERS["services"]["services"][2], host=h, id=i)
                                          for i, h in enumerate(self.hypervisor_names)]}
            if sub == "/os-hypervisors/detail":
                base = ANSWERS["hypervisors"]["hypervisors"][0]
                return 200, {"hypervisors": [dict(base, id=i, hypervisor_hostname=h)
                                             for i, h in enumerate(self.hypervisor_names)]}
            if sub == "/servers/detail":
                items = self.servers
                since = q.get("changes-since")
                if since:
                    items = [s for s in items if s["updated"] >= since]
                return 200, {"servers": _page(items, q)}
            if sub == "/flavors":
                return 200, {"flavors": [{"id": "1", "name": "m1.tiny"}, {"id": "2", "name": "m1.small"}]}
            if sub == "/servers" and method == "GET":
                pattern = re.compile(q.get("name", ""))
                return 200, {"servers": _page([{"id": v["id"], "name": v["name"]} for v in self.created_servers.values()
                                               if pattern.search(v["name"])], q)}
            if sub == "/servers" and method == "POST":
                server = {"id": str(uuid.uuid4()), "name": body["server"]["name"], "status": self.boot_status,
                          "metadata": body["server"].get("metadata", {})}
                if self.boot_status == "ERROR":
                    server["fault"] = {"code": 500, "message": "No valid host was found. There are not enough "
                                                                "hosts available."}
                self.created_servers[server["id"]] = server
                return 202, {"server": {"id": server["id"]}}
            m = re.fullmatch(r"/servers/([\w-]+)", sub)
            if m:
                server = self.created_servers.get(m.group(1))
                if server is None:
                    return 404, {"itemNotFound": {"code": 404, "message": f"Instance {m.group(1)} could not be found."}}
                if method == "DELETE":
                    del self.created_servers[m.group(1)]
                    return 204, None
                return 200, {"server": server}
            m = re.fullmatch(r"/os-quota-sets/(\w+)/detail", sub)
            if m:
                return 200, ANSWERS["compute_quota"]
        if path.startswith("/placement"):
            sub = path[len("/placement"):]
            if sub == "/resource_providers":
                return 200, {"resource_providers": [{"uuid": str(uuid.UUID(int=i + 1)), "name": h}
                                                    for i, h in enumerate(self.hypervisor_names)]}
            if re.fullmatch(r"/resource_providers/[\w-]+/inventories", sub):
                return 200, ANSWERS["inventories"]
        if path.startswith("/image"):
            sub = path[len("/image"):].removeprefix("/v2")
            if sub == "/images" and method == "POST":
                image = {"id": str(uuid.uuid4()), "name": body.get("name"), "status": "queued",
                         "tags": body.get("tags", []), "visibility": "private"}
                self.created_images[image["id"]] = image
                return 201, image
            if sub == "/images":
                items = self.images + list(self.created_images.values())
                if q.get("name"):
                    items = [i for i in items if i.get("name") == q["name"]]
                if q.get("tag"):
                    items = [i for i in items if q["tag"] in i.get("tags", [])]
                return 200, {"images": _page(items, q)}
            m = re.fullmatch(r"/images/([\w-]+)(/file)?", sub)
            if m and m.group(1) in self.created_images:
                image = self.created_images[m.group(1)]
                if method == "DELETE":
                    del self.created_images[m.group(1)]
                    return 204, None
                if method == "PUT" and m.group(2):
                    image["status"] = "active"
                    self.image_data[image["id"]] = raw
                    return 204, None
                if m.group(2):
                    return 200, self.image_data.get(image["id"], b"")
                return 200, image
        if path.startswith("/volume"):
            if path.endswith("/volumes/detail"):
                return 200, {"volumes": _page(self.volumes, q)}
            if "/os-quota-sets/" in path:
                return 200, ANSWERS["volume_quota"]
        if path.startswith("/network"):
            sub = path[len("/network"):].removeprefix("/v2.0")
            if sub == "/agents":
                return 200, ANSWERS["agents"]
            if sub == "/floatingips":
                return 200, {"floatingips": [{"id": "f1", "floating_network_id": "n1", "port_id": "p1"},
                                             {"id": "f2", "floating_network_id": "n1", "port_id": None}]}
            if sub == "/networks":
                return 200, {"networks": [{"id": "n1", "name": "public"}]}
            if re.fullmatch(r"/quotas/\w+/details", sub):
                return 200, ANSWERS["network_quota"]
        return 404, {"itemNotFound": {"code": 404, "message": f"no {path} here"}}

    def version_document(self, path: str):
        """The version discovery answers keystoneauth asks for before the first call to a service."""
        u = self.url
        docs = {
            "/identity/v3": {"version": {"id": "v3.14", "status": "stable", "links": [
                {"rel": "self", "href": u + "/identity/v3/"}], "media-types": []}},
            "/compute/v2.1": {"version": {"id": "v2.1", "status": "CURRENT", "version": "2.93", "min_version": "2.1",
                                          "links": [{"rel": "self", "href": u + "/compute/v2.1/"}]}},
            "/compute": {"versions": [{"id": "v2.1", "status": "CURRENT", "version": "2.93", "min_version": "2.1",
                                       "links": [{"rel": "self", "href": u + "/compute/v2.1/"}]}]},
            "/image": {"versions": [{"id": "v2.16", "status": "CURRENT", "links": [
                {"rel": "self", "href": u + "/image/v2/"}]}]},
            "/network": {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [
                {"rel": "self", "href": u + "/network/v2.0/"}]}]},
            "/volume": {"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.70", "min_version": "3.0",
                                      "links": [{"rel": "self", "href": u + "/volume/v3/"}]}]},
            "/placement": {"versions": [{"id": "v1.0", "status": "CURRENT", "max_version": "1.39",
                                         "min_version": "1.0", "links": [{"rel": "self", "href": ""}]}]},
        }
        return docs.get(path)

    def _handler(self):
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw and self.headers.get("Content-Type", "").endswith("json") else {}
                except ValueError:
                    body = {}
                cloud.requests.append((method, parts.path))
                q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                fault = next((f for pat, f in cloud.faults.items() if re.search(pat, f"{method} {parts.path}")), None)
                if fault == "hang":
                    time.sleep(cloud.hang_seconds)
                    return
                if fault == "garbage":
                    return self._send(200, b"<html>\x00\xffnot json", "text/html")
                if fault == "500":
                    return self._send(500, json.dumps({"computeFault": {"code": 500, "message":
                                      "Unexpected API Error."}}).encode())
                if fault == "404":
                    return self._send(404, json.dumps({"NeutronError": {"type": "HTTPNotFound", "message":
                                      "The resource could not be found."}}).encode())
                if fault == "401":
                    return self._send(401, json.dumps({"error": {"code": 401, "message":
                                      "The request you have made requires authentication."}}).encode())
                status, answer = cloud.route(method, parts.path, q, body, raw)
                headers = {"X-Subject-Token": TOKEN} if status == 201 and parts.path.endswith("/auth/tokens") else {}
                if isinstance(answer, bytes):
                    return self._send(status, answer, "application/octet-stream")
                self._send(status, b"" if answer is None else json.dumps(answer).encode(), "application/json", headers)

            def _send(self, status: int, body: bytes, ctype: str = "application/json", headers=None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Openstack-Request-Id", f"req-{uuid.uuid4()}")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def do_PUT(self):
                self._serve("PUT")

            def do_DELETE(self):
                self._serve("DELETE")

        return Handler


def _page(items: list[dict], q: dict) -> list[dict]:
    limit = int(q.get("limit", 1000))
    start = 0
    if q.get("marker"):
        ids = [i["id"] for i in items]
        start = ids.index(q["marker"]) + 1 if q["marker"] in ids else len(items)
    return items[start:start + limit]
