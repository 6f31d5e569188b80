"""Adapter: reads the OpenStack inventory through `Api` and turns it into rows with the pure `inventory` and
`quotas` modules.

One `InventorySource` per cloud: it connects lazily (and again after a failed authentication), pages through
the lists (`limit`/`marker`, neutron's `fields=` so only the needed fields travel), fans out per-project and
per-provider calls on a bounded ThreadPoolExecutor, and polls servers with changes-since between full lists.
Which calls need admin: compute services, hypervisors, placement, all-projects servers and volumes, network
agents, projects' quotas other than one's own. A reader role sees its own project's servers, images, volumes,
floating IPs and quotas.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from stackwatch.openstack import inventory, quotas
from stackwatch.openstack.api import Api, ApiError
from stackwatch.openstack.config import OpenStackConfig
from stackwatch.openstack.inventory import Row

log = logging.getLogger(__name__)

SERVERS_MICROVERSION = "2.47"  # the flavor embedded in each server: no flavor lookups
RECONNECT_AFTER = 5.0           # seconds a failed connection attempt is remembered


class InventorySource:
    def __init__(self, config: OpenStackConfig, api_factory: Callable[[], Api] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.config = config
        self._api_factory = api_factory or self._connect
        self._api: Api | None = None
        self._lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="openstack-api")
        self.servers = inventory.ServerCache()
        self._last_full = None
        self._clock = clock
        self.unavailable: set[str] = set()  # lists this cloud does not offer (404: extension not deployed)
        self._failure: tuple[float, Exception | None] = (0.0, None)

    def _connect(self) -> Api:
        from stackwatch.openstack.connection import connect

        c = self.config
        return Api(connect(c.cloud, region=c.region, timeout=c.timeout, authenticate=True), c.timeout)

    def api(self) -> Api:
        """The connection, made on first use; a failed attempt is reused for a few seconds, so the parts of one
        cycle do not each knock on a keystone that is down."""
        with self._lock:
            if self._api is None:
                failed_at, problem = self._failure
                if problem is not None and self._clock() - failed_at < RECONNECT_AFTER:
                    raise problem
                try:
                    self._api = self._api_factory()
                except Exception as exc:
                    self._failure = (self._clock(), exc)
                    raise
                self._failure = (0.0, None)
            return self._api

    def forget_connection(self) -> None:
        """Drop the connection (after a 401: the next call authenticates again)."""
        with self._lock:
            self._api, self._failure = None, (0.0, None)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _list(self, service: str, path: str, key: str, params: dict | None = None, **kwargs) -> list[dict]:
        return list(self.api().paginate(service, path, key, params, self.config.page_size, **kwargs))

    def _optional_list(self, name: str, service: str, path: str, key: str, params: dict | None = None) -> list[dict]:
        """A list that some clouds do not offer (neutron's floatingips without an L3 plugin): [] on a 404."""
        try:
            return self._list(service, path, key, params)
        except ApiError as exc:
            if exc.status == 404:
                if name not in self.unavailable:
                    log.info("openstack: %s not offered by this cloud (%s)", name, exc)
                self.unavailable.add(name)
                return []
            raise

    # ------------------------------------------------------------------------ the collectors' reads --
    def compute_services(self) -> list[Row]:
        return inventory.compute_services(self.api().get_json("compute", "/os-services").get("services", []))

    def hypervisors(self) -> list[Row]:
        api = self.api()
        items = self._list("compute", "/os-hypervisors/detail", "hypervisors")
        providers = api.get_json("placement", "/resource_providers").get("resource_providers", [])

        def inventories(rp: dict) -> tuple[str, dict]:
            doc = api.get_json("placement", f"/resource_providers/{rp['uuid']}/inventories")
            return rp.get("name") or rp["uuid"], doc.get("inventories", {})

        return inventory.hypervisors(items, dict(self.pool.map(inventories, providers)))

    def instances(self) -> list[Row]:
        now = self._clock()
        params = {"all_tenants": 1}
        if self._last_full is None or now - self._last_full >= self.config.full_resync or not self.servers.marker:
            self.servers.replace(self._list("compute", "/servers/detail", "servers", params,
                                            microversion=SERVERS_MICROVERSION))
            self._last_full = now
        else:  # only what changed since the newest update seen; deleted servers come back as DELETED
            changed = self._list("compute", "/servers/detail", "servers",
                                 {**params, "changes-since": self.servers.marker}, microversion=SERVERS_MICROVERSION)
            self.servers.update(changed)
        return self.servers.rows()

    def images(self) -> list[Row]:
        return inventory.images(self._list("image", "/images", "images"))

    def volumes(self) -> list[Row]:
        return inventory.volumes(self._list("volume", "/volumes/detail", "volumes", {"all_tenants": 1}))

    def floating_ips(self) -> list[Row]:
        ips = self._optional_list("floating_ips", "network", "/floatingips", "floatingips",
                                  {"fields": ["id", "floating_network_id", "port_id"]})
        if not ips:
            return []
        nets = self._optional_list("external networks", "network", "/networks", "networks",
                                   {"router:external": "true", "fields": ["id", "name"]})
        return inventory.floating_ips(ips, {n["id"]: n.get("name") or n["id"] for n in nets})

    def network_agents(self) -> list[Row]:
        agents = self._optional_list("network_agents", "network", "/agents", "agents",
                                     {"fields": ["id", "host", "agent_type", "alive", "admin_state_up"]})
        return inventory.network_agents(agents)

    def quotas(self) -> list[Row]:
        return quotas.series(self.quota_rows())

    # ------------------------------------------------------------------------------ the quota report --
    def projects(self) -> dict[str, str]:
        """{project id: name} of every project (admin), or of the connection's own project otherwise."""
        api = self.api()
        try:
            return {p["id"]: p.get("name") or p["id"] for p in self._list("identity", "/projects", "projects")}
        except ApiError as exc:
            if exc.status != 403:
                raise
            pid = api.conn.current_project_id
            return {pid: getattr(api.conn, "current_project", None) and api.conn.current_project.name or pid}

    def quota_rows(self, only: str | None = None) -> list[quotas.QuotaRow]:
        """Quota rows of every project (or of `only`, a name or id), three services each, fetched in parallel."""
        projects = self.projects()
        if only is not None:
            projects = {pid: name for pid, name in projects.items() if only in (pid, name)}
            if not projects:
                raise LookupError(f"no project {only!r}")
        api = self.api()
        calls = {"compute": lambda pid: api.get_json("compute", f"/os-quota-sets/{pid}/detail"),
                 "volume": lambda pid: api.get_json("volume", f"/os-quota-sets/{pid}", params={"usage": "true"}),
                 "network": lambda pid: api.get_json("network", f"/quotas/{pid}/details")}

        def one(job: tuple[str, str]) -> list[quotas.QuotaRow]:
            pid, service = job
            try:
                return quotas.parse(projects[pid], service, calls[service](pid))
            except ApiError as exc:
                if exc.missing_endpoint:   # a cloud without cinder or neutron: no rows for that service
                    return []
                raise

        jobs = [(pid, service) for pid in sorted(projects, key=projects.get) for service in calls]
        return [row for rows in self.pool.map(one, jobs) for row in rows]
