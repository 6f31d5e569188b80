"""The volume probe (cinder): create a volume, wait until available, delete it, wait until it is gone."""

from __future__ import annotations

from stackwatch.checks.probes import core
from stackwatch.checks.probes.runner import Deadline, Probe, Run, StepFailed
from stackwatch.openstack.api import ApiError


class VolumeProbe(Probe):
    kind = "volume"

    def run(self, run: Run) -> None:
        def create(d: Deadline) -> str:
            body = {"volume": {"size": self.config.volume_size_gb, "name": run.name,
                               "metadata": {core.RUN_KEY: run.id}}}
            resp = self.api.request("volume", "POST", "/volumes", json=body, timeout=d.timeout(self.api.timeout))
            vid = self.api.decode("volume", "POST /volumes", resp)["volume"]["id"]
            run.created("volume", vid)
            return vid

        vid = run.step("create", create)

        def available() -> bool:
            status = self.api.get_json("volume", f"/volumes/{vid}")["volume"].get("status")
            if status in ("error", "error_deleting"):
                raise StepFailed(f"volume went {status}")
            return status == "available"

        run.step("wait-available", lambda d: d.wait_for("status available", available))
        run.step("delete", lambda d: self._delete(vid, d.timeout(self.api.timeout)))
        run.step("wait-deleted", lambda d: d.wait_for("the volume to be gone", lambda: self._gone(vid)))
        run.gone("volume")

    def _delete(self, vid: str, timeout: float) -> None:
        self.api.request("volume", "DELETE", f"/volumes/{vid}", timeout=timeout)

    def _gone(self, vid: str) -> bool:
        try:
            status = self.api.get_json("volume", f"/volumes/{vid}")["volume"].get("status")
        except ApiError as exc:
            if exc.status == 404:
                return True
            raise
        if status == "error_deleting":
            raise StepFailed("volume went error_deleting")
        return False

    def cleanup(self, run: Run) -> list[str]:
        vid = run.resources.get("volume")
        if not vid:
            return []
        try:
            self._delete(vid, self.api.timeout)
            Deadline(min(self.config.step_timeout, 60)).wait_for("the volume to be gone", lambda: self._gone(vid))
        except ApiError as exc:
            return [] if exc.status == 404 else [exc.line()]
        except StepFailed as exc:
            return [f"volume {vid}: {exc}"]
        return []

    def list_resources(self) -> list[tuple[str, str]]:
        vols = self.api.paginate("volume", "/volumes", "volumes")
        return [(v["id"], v.get("name") or "") for v in vols if (v.get("name") or "").startswith(core.PREFIX + self.kind)]

    def delete(self, leftover: core.Leftover) -> None:
        self._delete(leftover.id, self.api.timeout)


PROBE = VolumeProbe
