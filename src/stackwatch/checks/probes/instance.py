"""The instance probe (nova): boot a server from the probe flavor and image (with `networks: "none"` by default,
compute API microversion >= 2.37), wait until ACTIVE, delete it, wait until it is gone. A server that ends in
ERROR fails the wait with nova's fault message (the scheduler's "No valid host was found")."""

from __future__ import annotations

from stackwatch.checks.probes import core
from stackwatch.checks.probes.runner import Deadline, Probe, Run, StepFailed
from stackwatch.openstack.api import ApiError


class InstanceProbe(Probe):
    kind = "instance"

    def _mv(self) -> str:
        return self.config.microversion

    def _resolve(self, d: Deadline) -> tuple[str, str]:
        want, t = self.config.flavor, d.timeout(self.api.timeout)
        flavors = self.api.get_json("compute", "/flavors", timeout=t).get("flavors", [])
        flavor = next((f["id"] for f in flavors if want in (f.get("id"), f.get("name"))), None)
        if flavor is None:
            raise StepFailed(f"no flavor {want!r}")
        img = self.config.image
        images = self.api.get_json("image", "/images", params={"name": img}, timeout=t).get("images", [])
        if not images:
            try:
                images = [self.api.get_json("image", f"/images/{img}", timeout=t)]
            except ApiError as exc:
                if exc.status not in (400, 404):
                    raise
                raise StepFailed(f"no image {img!r}") from None
        return flavor, images[0]["id"]

    def _networks(self):
        net = self.config.network
        return net if net in ("none", "auto") else [{"uuid": net}]

    def run(self, run: Run) -> None:
        flavor, image = run.step("lookup", self._resolve)

        def boot(d: Deadline) -> str:
            body = {"server": {"name": run.name, "flavorRef": flavor, "imageRef": image,
                               "networks": self._networks(), "metadata": {core.RUN_KEY: run.id}}}
            resp = self.api.request("compute", "POST", "/servers", json=body, microversion=self._mv(),
                                    timeout=d.timeout(self.api.timeout))
            sid = self.api.decode("compute", "POST /servers", resp)["server"]["id"]
            run.created("server", sid)
            return sid

        sid = run.step("boot", boot)

        def active() -> bool:
            server = self.api.get_json("compute", f"/servers/{sid}", microversion=self._mv())["server"]
            if server.get("status") == "ERROR":
                fault = server.get("fault") or {}
                raise StepFailed(f"server went ERROR: {fault.get('message') or 'no fault recorded'}")
            return server.get("status") == "ACTIVE"

        run.step("wait-active", lambda d: d.wait_for("status ACTIVE", active, 1.0))
        run.step("delete", lambda d: self._delete(sid, d.timeout(self.api.timeout)))
        run.step("wait-deleted", lambda d: d.wait_for("the server to be gone", lambda: self._gone(sid), 1.0))
        run.gone("server")

    def _delete(self, sid: str, timeout: float) -> None:
        self.api.request("compute", "DELETE", f"/servers/{sid}", timeout=timeout)

    def _gone(self, sid: str) -> bool:
        try:
            server = self.api.get_json("compute", f"/servers/{sid}", microversion=self._mv())["server"]
        except ApiError as exc:
            if exc.status == 404:
                return True
            raise
        return server.get("status") == "DELETED"

    def cleanup(self, run: Run) -> list[str]:
        sid = run.resources.get("server")
        if not sid:
            return []
        try:
            self._delete(sid, self.api.timeout)
            Deadline(min(self.config.step_timeout, 60)).wait_for("the server to be gone", lambda: self._gone(sid), 1.0)
        except ApiError as exc:
            return [] if exc.status == 404 else [exc.line()]
        except StepFailed as exc:
            return [f"server {sid}: {exc}"]
        return []

    def list_resources(self) -> list[tuple[str, str]]:
        servers = self.api.paginate("compute", "/servers", "servers", {"name": "^" + core.PREFIX + self.kind})
        return [(s["id"], s.get("name") or "") for s in servers]

    def delete(self, leftover: core.Leftover) -> None:
        self._delete(leftover.id, self.api.timeout)


PROBE = InstanceProbe
