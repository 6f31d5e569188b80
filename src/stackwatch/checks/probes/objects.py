"""The object probe (swift): create a container, put an object, get it back and verify it, delete both."""

from __future__ import annotations

import hashlib
import os

from stackwatch.checks.probes import core
from stackwatch.checks.probes.runner import Deadline, Probe, Run, StepFailed
from stackwatch.openstack.api import ApiError, request_id_of

OBJECT = "probe.bin"


class ObjectProbe(Probe):
    kind = "object"

    def run(self, run: Run) -> None:
        data = os.urandom(1024 * 1024)
        md5 = hashlib.md5(data).hexdigest()
        container = run.name

        def create(d: Deadline) -> None:
            run.created("container", container)  # its name is known before: a timed-out PUT may still create it
            self.api.request("object-store", "PUT", f"/{container}", timeout=d.timeout(self.api.timeout),
                             headers={"X-Container-Meta-Stackwatch-Probe-Run": run.id})

        run.step("create-container", create)

        def put(d: Deadline) -> None:
            resp = self.api.request("object-store", "PUT", f"/{container}/{OBJECT}", data=data,
                                    headers={"Content-Type": "application/octet-stream", "ETag": md5},
                                    timeout=d.timeout(self.api.timeout))
            run.created("object", OBJECT)
            if resp.headers.get("Etag", "").strip('"') != md5:
                raise StepFailed("swift stored the object with another checksum", request_id_of(resp.headers))

        run.step("put", put)

        def get(d: Deadline) -> None:
            resp = self.api.request("object-store", "GET", f"/{container}/{OBJECT}", timeout=d.timeout(self.api.timeout))
            if hashlib.md5(resp.content).hexdigest() != md5:
                raise StepFailed(f"got {len(resp.content)} bytes that differ from what was put",
                                 request_id_of(resp.headers))

        run.step("get-verify", get)
        run.step("delete", lambda d: self._delete(container, d.timeout(self.api.timeout)))
        run.gone("object")
        run.gone("container")

    def _delete(self, container: str, timeout: float) -> None:
        try:
            self.api.request("object-store", "DELETE", f"/{container}/{OBJECT}", timeout=timeout)
        except ApiError as exc:
            if exc.status != 404:
                raise
        self.api.request("object-store", "DELETE", f"/{container}", timeout=timeout)

    def cleanup(self, run: Run) -> list[str]:
        if "container" not in run.resources:
            return []
        try:
            self._delete(run.resources["container"], self.api.timeout)
        except ApiError as exc:
            return [] if exc.status == 404 else [exc.line()]
        return []

    def list_resources(self) -> list[tuple[str, str]]:
        resp = self.api.request("object-store", "GET", "/", params={"format": "json",
                                                                    "prefix": core.PREFIX + self.kind})
        listing = resp.json() if resp.content else []
        return [(c["name"], c["name"]) for c in listing]

    def delete(self, leftover: core.Leftover) -> None:
        self._delete(leftover.id, self.api.timeout)


PROBE = ObjectProbe
