"""The user probe (keystone): create a user with a random password, authenticate as it (an unscoped token,
without the probe's own credentials), delete it."""

from __future__ import annotations

import secrets

from stackwatch.checks.probes import core
from stackwatch.checks.probes.runner import Deadline, Probe, Run, StepFailed
from stackwatch.openstack.api import ApiError, request_id_of


class UserProbe(Probe):
    kind = "user"

    def run(self, run: Run) -> None:
        password = secrets.token_urlsafe(24)

        def create(d: Deadline) -> str:
            body = {"user": {"name": run.name, "domain_id": self.config.user_domain, "password": password,
                             "description": f"{core.RUN_KEY}={run.id}", "enabled": True}}
            resp = self.api.request("identity", "POST", "/users", json=body, timeout=d.timeout(self.api.timeout))
            uid = self.api.decode("identity", "POST /users", resp)["user"]["id"]
            run.created("user", uid)
            return uid

        uid = run.step("create", create)

        def authenticate(d: Deadline) -> None:
            body = {"auth": {"identity": {"methods": ["password"],
                                          "password": {"user": {"id": uid, "password": password}}}}}
            resp = self.api.request("identity", "POST", "/auth/tokens", json=body, authenticated=False,
                                    timeout=d.timeout(self.api.timeout))
            if not resp.headers.get("X-Subject-Token"):
                raise StepFailed("keystone issued no token", request_id_of(resp.headers))

        run.step("authenticate", authenticate)
        run.step("delete", lambda d: self._delete(uid, d.timeout(self.api.timeout)))
        run.gone("user")

    def _delete(self, uid: str, timeout: float) -> None:
        self.api.request("identity", "DELETE", f"/users/{uid}", timeout=timeout)

    def cleanup(self, run: Run) -> list[str]:
        if "user" not in run.resources:
            return []
        try:
            self._delete(run.resources["user"], self.api.timeout)
        except ApiError as exc:
            return [] if exc.status == 404 else [exc.line()]
        return []

    def list_resources(self) -> list[tuple[str, str]]:
        users = self.api.get_json("identity", "/users", params={"name__startswith": core.PREFIX + self.kind,
                                                                 "domain_id": self.config.user_domain})
        return [(u["id"], u.get("name") or "") for u in users.get("users", [])]

    def delete(self, leftover: core.Leftover) -> None:
        self._delete(leftover.id, self.api.timeout)


PROBE = UserProbe
