"""The image probe (glance v2): create an image, upload a few MB, wait until active, download it and verify its
checksum, delete it."""

from __future__ import annotations

import hashlib
import os

from stackwatch.checks.probes import core
from stackwatch.checks.probes.runner import Deadline, Probe, Run, StepFailed
from stackwatch.openstack.api import ApiError, request_id_of


class ImageProbe(Probe):
    kind = "image"

    def run(self, run: Run) -> None:
        data = os.urandom(self.config.image_size_mb * 1024 * 1024)
        digest = hashlib.sha512(data).hexdigest()

        def create(d: Deadline) -> str:
            body = {"name": run.name, "disk_format": "raw", "container_format": "bare", "visibility": "private",
                    "tags": ["stackwatch-probe"], core.RUN_KEY: run.id}
            doc = self.api.decode("image", "POST /images", self.api.request(
                "image", "POST", "/images", json=body, timeout=d.timeout(self.api.timeout)))
            run.created("image", doc["id"])
            return doc["id"]

        image_id = run.step("create", create)
        run.step("upload", lambda d: self.api.request(
            "image", "PUT", f"/images/{image_id}/file", data=data, timeout=d.timeout(self.api.timeout),
            headers={"Content-Type": "application/octet-stream"}))

        def active() -> bool:
            doc = self.api.get_json("image", f"/images/{image_id}", timeout=self.api.timeout)
            if doc.get("status") in ("killed", "deleted", "deactivated"):
                raise StepFailed(f"image went {doc['status']}")
            return doc.get("status") == "active"

        run.step("wait-active", lambda d: d.wait_for("status active", active))

        def download(d: Deadline) -> None:
            resp = self.api.request("image", "GET", f"/images/{image_id}/file", timeout=d.timeout(self.api.timeout))
            got = hashlib.sha512(resp.content).hexdigest()
            if got != digest:
                raise StepFailed(f"downloaded {len(resp.content)} bytes whose sha512 differs from the upload's",
                                 request_id_of(resp.headers))

        run.step("download-verify", download)
        run.step("delete", lambda d: self._delete(image_id, d.timeout(self.api.timeout)))
        run.gone("image")

    def _delete(self, image_id: str, timeout: float) -> None:
        self.api.request("image", "DELETE", f"/images/{image_id}", timeout=timeout)

    def cleanup(self, run: Run) -> list[str]:
        errors = []
        if "image" in run.resources:
            try:
                self._delete(run.resources["image"], self.api.timeout)
            except ApiError as exc:
                if exc.status != 404:
                    errors.append(exc.line())
        return errors

    def list_resources(self) -> list[tuple[str, str]]:
        return [(i["id"], i.get("name") or "") for i in self.api.paginate("image", "/images", "images",
                                                                            {"tag": "stackwatch-probe"})]

    def delete(self, leftover: core.Leftover) -> None:
        self._delete(leftover.id, self.api.timeout)


PROBE = ImageProbe
