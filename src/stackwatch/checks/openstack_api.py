"""Adapter: the OpenStack APIs as the checks need them, through openstacksdk (`stackwatch.openstack.connection`).

`CloudOptions` are the options every OpenStack check shares (`--cloud`, `--region`, `--api-timeout`);
`CloudSession` holds one Connection per check instance (a check scheduled in-process keeps its token and
version discovery between runs; `stackwatch-check` makes one per run) and turns every failure of the SDK,
keystoneauth or the HTTP layer into a one-line `ProbeError`: unreachable, timeout, HTTP status, malformed
JSON, refused credentials, missing catalog endpoint. The fetch functions return plain records (stdlib
namedtuples of the pure check modules), so the checks judge without touching the SDK.

openstack and keystoneauth1 are imported only inside calls: `stackwatch-check disk` never loads them.
"""

from __future__ import annotations

from collections import namedtuple

from stackwatch.checks.options import Options, option
from stackwatch.checks.probe import ProbeError, one_line


def _positive(value) -> None:
    if not float(value) > 0:
        raise ValueError(f"must be a positive number of seconds, got {value!r}")


class CloudOptions(Options):
    """Where the cloud is and how long to wait for it."""

    cloud: str | None = option(
        None, flags=("--cloud",), metavar="NAME",
        help="a clouds.yaml entry; without it the OS_* environment (an openrc) is used")
    region: str | None = option(None, flags=("--region",), metavar="REGION", help="the region to ask")
    api_timeout: float = option(8.0, flags=("--api-timeout",), metavar="SECONDS", parse=_positive,
                                help="UNKNOWN when one API request takes longer")


class CloudSession:
    """One openstacksdk Connection, made on first use and dropped after a failure."""

    def __init__(self, options: CloudOptions):
        self.options = options
        self._conn = None

    def connection(self):
        if self._conn is None:
            from stackwatch.openstack.connection import ConnectionProblem, connect

            try:
                self._conn = connect(self.options.cloud, region=self.options.region,
                                     timeout=self.options.api_timeout)
            except ConnectionProblem as exc:
                raise ProbeError(str(exc)) from None
            except Exception as exc:
                raise ProbeError(describe(exc)) from None
        return self._conn

    def call(self, what: str, fn):
        """fn(connection), its failures as ProbeError("WHAT: reason")."""
        conn = self.connection()
        try:
            return fn(conn)
        except ProbeError:
            raise
        except Exception as exc:
            self.reset()
            raise ProbeError(f"{what}: {describe(exc)}") from None

    def reset(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass


def describe(exc: BaseException) -> str:
    """One line saying what went wrong in an SDK/keystoneauth/HTTP call, in an operator's words."""
    from keystoneauth1 import exceptions as ka
    from openstack import exceptions as sdk

    text = one_line(exc)
    if isinstance(exc, ka.ConnectTimeout):
        return f"timed out: {text}"
    if isinstance(exc, (ka.ConnectFailure, ka.ConnectionError)):
        return f"unreachable: {text}"
    if isinstance(exc, ka.EndpointNotFound):
        return f"no such endpoint in the catalog: {text}"
    if isinstance(exc, ka.EmptyCatalog):
        return f"the token has an empty catalog: {text}"
    if isinstance(exc, ka.Unauthorized) or (isinstance(exc, sdk.HttpException) and exc.status_code == 401):
        return f"credentials refused (wrong or expired): {text}"
    if isinstance(exc, ka.HttpError):
        return f"HTTP {exc.http_status}: {text}"
    if isinstance(exc, sdk.HttpException):
        return f"HTTP {exc.status_code}: {text}"
    if isinstance(exc, (ka.DiscoveryFailure, sdk.NotSupported)):
        return f"API version discovery failed: {text}"
    if isinstance(exc, (KeyError, TypeError, AttributeError)):  # JSON of another shape than the API's
        return f"malformed answer: {type(exc).__name__}: {text}"
    if isinstance(exc, ValueError):  # json.JSONDecodeError and requests' JSONDecodeError are ValueErrors
        return f"malformed answer: {type(exc).__name__}: {text}"
    return f"{type(exc).__name__}: {text}"


def _json(response, what: str):
    """The JSON body of a keystoneauth/requests response; ProbeError on a status >= 400 or a body that is not JSON."""
    if response.status_code >= 400:
        raise ProbeError(f"{what}: HTTP {response.status_code}: {one_line(response.text, 200)}")
    try:
        return response.json()
    except ValueError as exc:
        raise ProbeError(f"{what}: malformed JSON: {one_line(exc, 120)}") from None


def _require(doc, key: str, kind: type, what: str):
    value = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(value, kind):
        raise ProbeError(f"{what}: malformed answer: no {key!r} {kind.__name__} in it")
    return value


# ------------------------------------------------------------------------------------------ services --
ServiceRow = namedtuple("ServiceRow", "binary host up enabled forced_down reason updated_at")


def compute_services(session: CloudSession) -> list[ServiceRow]:
    """nova's services (`openstack compute service list`)."""
    def fetch(conn):
        doc = _json(conn.compute.get("/os-services"), "compute services")
        return [ServiceRow(s["binary"], s["host"], s["state"] == "up", s["status"] == "enabled",
                           bool(s.get("forced_down")), s.get("disabled_reason"), s.get("updated_at"))
                for s in _require(doc, "services", list, "compute services")]
    return session.call("compute services", fetch)


def volume_services(session: CloudSession) -> list[ServiceRow]:
    """cinder's services (`openstack volume service list`)."""
    def fetch(conn):
        doc = _json(conn.block_storage.get("/os-services"), "volume services")
        return [ServiceRow(s["binary"], s["host"], s["state"] == "up", s["status"] == "enabled",
                           bool(s.get("frozen")), s.get("disabled_reason"), s.get("updated_at"))
                for s in _require(doc, "services", list, "volume services")]
    return session.call("volume services", fetch)


def network_agents(session: CloudSession) -> list[ServiceRow]:
    """neutron's agents (`openstack network agent list`); `enabled` is the agent's admin state."""
    def fetch(conn):
        doc = _json(conn.network.get("/agents"), "network agents")
        return [ServiceRow(a["binary"], a["host"], bool(a["alive"]), bool(a.get("admin_state_up", True)),
                           False, a.get("agent_type"), a.get("heartbeat_timestamp"))
                for a in _require(doc, "agents", list, "network agents")]
    return session.call("network agents", fetch)


# --------------------------------------------------------------------------------------- endpoints --
EndpointAnswer = namedtuple("EndpointAnswer", "service type interface region url status seconds error")


def catalog_answers(session: CloudSession, interface: str, region: str | None, timeout: float):
    """(token issue seconds, [EndpointAnswer]): a fresh token is issued (and timed), then every endpoint of
    `interface` in its catalog gets one authenticated GET (status and latency; `error` when it did not answer)."""
    import time

    def fetch(conn):
        auth = conn.session.auth
        auth.invalidate()
        started = time.perf_counter()
        access = auth.get_access(conn.session)
        token_seconds = time.perf_counter() - started
        catalog = access.service_catalog.catalog or []
        targets = []
        for service in catalog:
            for ep in service.get("endpoints", []):
                if ep.get("interface") == interface and (region is None or ep.get("region_id", ep.get("region")) == region):
                    targets.append((service.get("name") or service.get("type"), service.get("type"), ep))
        return token_seconds, targets

    token_seconds, targets = session.call("keystone token", fetch)
    conn = session.connection()
    answers = []
    for name, stype, ep in targets:
        answers.append(_ask(conn, name, stype, ep, interface, timeout))
    return token_seconds, answers


def _ask(conn, name, stype, ep, interface, timeout) -> EndpointAnswer:
    import time

    url = ep.get("url", "")
    region = ep.get("region_id", ep.get("region"))
    started = time.perf_counter()
    try:
        resp = conn.session.get(url, authenticated=True, raise_exc=False, timeout=timeout,
                                allow_redirects=False, log=False)
    except Exception as exc:
        return EndpointAnswer(name, stype, interface, region, url, None, time.perf_counter() - started, describe(exc))
    return EndpointAnswer(name, stype, interface, region, url, resp.status_code, time.perf_counter() - started, None)


# ---------------------------------------------------------------------------------------- placement --
ProviderRow = namedtuple("ProviderRow", "name inventories usages")   # inventories: {class: {total, reserved, allocation_ratio}}


def resource_providers(session: CloudSession) -> list[ProviderRow]:
    """Every resource provider with its inventories and usages (placement API)."""
    def fetch(conn):
        doc = _json(conn.placement.get("/resource_providers"), "placement resource providers")
        rows = []
        for rp in _require(doc, "resource_providers", list, "placement resource providers"):
            base = f"/resource_providers/{rp['uuid']}"
            inv = _require(_json(conn.placement.get(base + "/inventories"), f"inventories of {rp['name']}"),
                           "inventories", dict, f"inventories of {rp['name']}")
            use = _require(_json(conn.placement.get(base + "/usages"), f"usages of {rp['name']}"),
                           "usages", dict, f"usages of {rp['name']}")
            rows.append(ProviderRow(rp["name"], inv, use))
        return rows
    return session.call("placement", fetch)


# ----------------------------------------------------------------------------------------- servers --
ServerRow = namedtuple("ServerRow", "id name status task_state host created updated fault")


def servers(session: CloudSession, **filters) -> list[ServerRow]:
    """Servers of all projects matching nova's list filters (status=ERROR, task_state=deleting...)."""
    def fetch(conn):
        query = {"all_tenants": 1, **filters}
        out, marker = [], None
        while True:
            params = dict(query, limit=1000, **({"marker": marker} if marker else {}))
            doc = _json(conn.compute.get("/servers/detail", params=params), "servers")
            page = _require(doc, "servers", list, "servers")
            for s in page:
                fault = (s.get("fault") or {}).get("message")
                out.append(ServerRow(s["id"], s.get("name", ""), s.get("status", ""),
                                     s.get("OS-EXT-STS:task_state"), s.get("OS-EXT-SRV-ATTR:host"),
                                     s.get("created"), s.get("updated"), fault))
            if len(page) < 1000:
                return out
            marker = page[-1]["id"]
    return session.call("servers", fetch)
