"""config.yaml, the single source of truth: loaded once, validated into frozen objects.

`load_config` reads YAML, builds every section with a `Reader`, and raises one `ConfigError` listing all
problems with their dotted paths. Later issues add sections here (logs, notifications, receivers): each
section is a frozen dataclass and a `_build_*` function, and `_TOP_KEYS` names it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from stackwatch.alerting.config import ALERTING_KEYS, AlertingConfig, RuleSpec, build_alerting  # noqa: F401 (re-exported)
from stackwatch.config_reader import Reader
from stackwatch.coverage.config import CoverageConfig, build_coverage
from stackwatch.inventory import DEFAULT_ROLE_PROCESSES, Host, Inventory, Role


class ConfigError(Exception):
    def __init__(self, path: Path | str, problems: list[str]):
        self.path, self.problems = path, problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s):\n{lines}")


@dataclass(frozen=True, slots=True)
class WebConfig:
    listen_host: str = "127.0.0.1"
    listen_port: int = 9844
    refresh: float = 30.0
    users: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (name, password) from secrets


@dataclass(frozen=True, slots=True)
class Tier:
    """A rollup resolution: buckets of `step` seconds kept for `retention` seconds (None: forever)."""

    step: float
    retention: float | None


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    raw_retention: float = 2 * 86400
    rollups: tuple[Tier, ...] = (Tier(300, 90 * 86400), Tier(3600, 730 * 86400), Tier(86400, None))
    max_points: int = 2500
    flush_interval: float = 60.0


@dataclass(frozen=True, slots=True)
class StorageConfig:
    backend: str = "sqlite"
    sqlite_path: Path = Path("stackwatch.db")
    check_history_retention: float = 30 * 86400
    alert_history_retention: float = 365 * 86400


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One scheduled check: plugin `type`, its validated options, and where it runs."""

    name: str
    type: str
    options: Any
    interval: float
    jitter: float
    hosts: tuple[str, ...] = ()  # the local hosts it runs for


@dataclass(frozen=True, slots=True)
class CollectorSpec:
    name: str
    type: str
    interval: float
    jitter: float


DEFAULT_FACILITIES = {"nova": "local0", "glance": "local1", "cinder": "local2", "keystone": "local3",
                      "neutron": "local4", "swift": "local5"}
FACILITY_CODES = {f"local{i}": 16 + i for i in range(8)}


@dataclass(frozen=True, slots=True)
class TlsConfig:
    cert_file: str | None = None
    key_file: str | None = None
    ca_file: str | None = None


@dataclass(frozen=True, slots=True)
class ElasticsearchConfig:
    hosts: tuple[str, ...]
    index_prefix: str = "stackwatch-events"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None


@dataclass(frozen=True, slots=True)
class LogsConfig:
    """Centralized logs: where they are received and stored, and the rsyslog layout generated for hosts."""

    backend: str = "sqlite"
    elasticsearch: ElasticsearchConfig | None = None
    retention: float = 30 * 86400
    timezone: str = "UTC"
    facilities: tuple[tuple[str, str], ...] = tuple(DEFAULT_FACILITIES.items())
    tcp: tuple[str, int] | None = None
    udp: tuple[str, int] | None = None
    relp: tuple[str, int] | None = None
    tls_listen: tuple[str, int] | None = None
    relp_tls_listen: tuple[str, int] | None = None    # RELP over TLS (omrelp tls="on"), with `tls`'s certificate
    tls: TlsConfig | None = None
    files: tuple[str, ...] = ()
    start_at: str = "end"
    forward_target: tuple[str, int] | None = None
    forward_protocol: str = "tcp"
    forward_tls: TlsConfig | None = None
    forward_queue_dir: str = "/var/spool/rsyslog"
    central_port: int = 514
    central_dir: str = "/var/log/rsyslog"

    def facility_services(self) -> dict[int, str]:
        """Facility code -> service, for records whose program does not name one."""
        return {FACILITY_CODES[f]: svc for svc, f in self.facilities}


@dataclass(frozen=True, slots=True)
class Deployment:
    """One region or cell whose RabbitMQ carries its notifications (StackTach's deployment)."""

    name: str
    urls: tuple[str, ...] = field(repr=False)           # passwords filled in from `password`
    bindings: tuple[tuple[str, str], ...]               # (exchange, routing key)
    queue: str
    prefetch: int = 1000
    max_length: int | None = None
    ttl: float | None = None
    consumers: int = 1
    management_url: str | None = None                   # RabbitMQ management API, for queue hygiene
    management_auth: tuple[str, str] | None = field(default=None, repr=False)


DEFAULT_BINDINGS = (
    ("nova", "notifications.info"), ("nova", "notifications.error"),
    ("nova", "versioned_notifications.info"), ("nova", "versioned_notifications.error"),
    ("glance", "notifications.info"), ("glance", "notifications.error"),
    ("neutron", "notifications.info"), ("neutron", "notifications.error"),
    ("keystone", "notifications.info"), ("openstack", "notifications.info"), ("openstack", "notifications.error"),
)


@dataclass(frozen=True, slots=True)
class NotificationsConfig:
    deployments: tuple[Deployment, ...] = ()
    retention: float = 90 * 86400
    stuck_after: float = 3600.0
    backend: str = "sqlite"                                 # where the archive lives: sqlite | elasticsearch
    elasticsearch: ElasticsearchConfig | None = None        # its own, else the logs' cluster (stacktach.settings)


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    data_dir: Path
    hostname: str
    web: WebConfig
    storage: StorageConfig
    metrics: MetricsConfig
    inventory: Inventory
    checks: tuple[CheckSpec, ...]
    collectors: tuple[CollectorSpec, ...]
    alerting: AlertingConfig
    logs: LogsConfig = LogsConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    openstack: "OpenStackConfig" = None  # type: ignore[assignment]  # stackwatch.openstack.config; None: off
    nagios: "NagiosConfig | None" = None  # stackwatch.nagios.settings; None: no nagios: section
    coverage: CoverageConfig = CoverageConfig()  # stackwatch.coverage.config
    reports: "ReportsConfig | None" = None  # stackwatch.reports.settings; None: defaults
    cloud_checks: tuple[CheckSpec, ...] = ()  # checks.cloud (stackwatch.checks.cloud_scope): run once each

    @property
    def database_path(self) -> Path:
        p = self.storage.sqlite_path
        return p if p.is_absolute() else self.data_dir / p

    def with_data_dir(self, data_dir: Path) -> "Config":
        from dataclasses import replace

        return replace(self, data_dir=data_dir)

    def local_hosts(self) -> tuple[Host, ...]:
        return self.inventory.local_hosts(self.hostname)


_TOP_KEYS = ("data_dir", "hostname", "web", "storage", "metrics", "inventory", "checks", "collectors",
             "alerting", "logs", "notifications", "openstack", "nagios", "coverage", "reports")


def load_config(path: Path | str, environ: Mapping[str, str] | None = None) -> Config:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(path, [f"cannot read: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(path, [f"{where}not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    return build_config(raw, path, environ)


def build_config(raw: Any, path: Path, environ: Mapping[str, str] | None = None) -> Config:
    base = path.parent.resolve()
    r = Reader(environ, base)
    top = r.mapping(raw, "", _TOP_KEYS)
    data_dir = Path(os.path.expanduser(r.str(top, "data_dir", "", "data")))
    hostname = r.str(top, "hostname", "", socket.gethostname())
    web = _build_web(r, r.mapping(top.get("web"), "web", ("listen", "refresh", "users")))
    storage = _build_storage(r, r.mapping(top.get("storage"), "storage",
                                          ("backend", "sqlite", "check_history_retention",
                                           "alert_history_retention")))
    metrics = _build_metrics(r, r.mapping(top.get("metrics"), "metrics",
                                          ("raw_retention", "rollups", "max_points", "flush_interval")))
    inventory = _build_inventory(r, r.mapping(top.get("inventory"), "inventory", ("roles", "hosts")))
    cfg_hosts = inventory.local_hosts(hostname)
    checks = _build_checks(r, r.mapping(top.get("checks"), "checks", ("defaults", "host", "processes", "cloud")),
                           inventory, cfg_hosts)
    from stackwatch.checks.cloud_scope import build_cloud_checks
    cloud_checks = build_cloud_checks(r, top.get("checks"), top.get("openstack"))
    collectors = _build_collectors(r, r.list(top.get("collectors"), "collectors"))
    alerting = build_alerting(r, r.mapping(top.get("alerting"), "alerting", ALERTING_KEYS))
    logs = _build_logs(r, r.mapping(top.get("logs"), "logs", _LOGS_KEYS))
    notifications = _build_notifications(r, r.mapping(top.get("notifications"), "notifications",
                                                      ("deployments", "retention", "stuck_after", "backend",
                                                       "elasticsearch")), logs)
    from stackwatch.openstack.config import build_openstack
    openstack = build_openstack(r, top.get("openstack"))
    from stackwatch.nagios.settings import build_nagios
    nagios = build_nagios(r, top.get("nagios"), top.get("checks"))
    coverage = build_coverage(r, top.get("coverage"), inventory)
    from stackwatch.reports.settings import build_reports
    reports = build_reports(r, top.get("reports"))
    if r.problems:
        raise ConfigError(path, r.problems)
    return Config(path=path, data_dir=data_dir if data_dir.is_absolute() else base / data_dir,
                  hostname=hostname, web=web, storage=storage, metrics=metrics, inventory=inventory,
                  checks=checks, collectors=collectors, alerting=alerting, logs=logs, notifications=notifications,
                  openstack=openstack, nagios=nagios, coverage=coverage, reports=reports,
                  cloud_checks=cloud_checks)


def _build_web(r: Reader, m: dict) -> WebConfig:
    listen = r.str(m, "listen", "web", "127.0.0.1:9844")
    host, port = parse_listen(listen, r, "web.listen")
    users = []
    for i, u in enumerate(r.list(m.get("users"), "web.users")):
        um = r.mapping(u, f"web.users[{i}]", ("name", "password"))
        name = r.str(um, "name", f"web.users[{i}]")
        password = r.secret(um, "password", f"web.users[{i}]")
        if password:
            users.append((name, password))
    return WebConfig(host, port, r.duration(m, "refresh", "web", "30s"), tuple(users))


def parse_listen(text: str, r: Reader | None = None, path: str = "listen") -> tuple[str, int]:
    """'HOST:PORT' (or '[v6]:PORT') into its parts; reports to `r` or raises ValueError."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    try:
        if not sep or not host:
            raise ValueError
        number = int(port)
        if not 0 <= number <= 65535:
            raise ValueError
        return host, number
    except ValueError:
        message = f"bad listen address {text!r}"
        if r is None:
            raise ValueError(f"{message}: use HOST:PORT, e.g. 127.0.0.1:9844") from None
        r.problem(path, message, "use HOST:PORT, e.g. 127.0.0.1:9844")
        return "127.0.0.1", 9844


def _build_storage(r: Reader, m: dict) -> StorageConfig:
    backend = r.choice(m, "backend", "storage", ("sqlite",), "sqlite")
    sq = r.mapping(m.get("sqlite"), "storage.sqlite", ("path",))
    return StorageConfig(
        backend=backend,
        sqlite_path=Path(r.str(sq, "path", "storage.sqlite", "stackwatch.db")),
        check_history_retention=r.duration(m, "check_history_retention", "storage", "30d"),
        alert_history_retention=r.duration(m, "alert_history_retention", "storage", "365d"),
    )


def _build_metrics(r: Reader, m: dict) -> MetricsConfig:
    raw_ret = r.duration(m, "raw_retention", "metrics", "2d")
    tiers = []
    raw_tiers = m.get("rollups")
    if raw_tiers is None:
        tiers = list(MetricsConfig().rollups)
    for i, t in enumerate(r.list(raw_tiers, "metrics.rollups")):
        path = f"metrics.rollups[{i}]"
        tm = r.mapping(t, path, ("step", "retention"))
        step = r.duration(tm, "step", path)
        retention = r.duration(tm, "retention", path, None, allow_none=True)
        if step <= 0:
            r.problem(f"{path}.step", "must be positive")
            continue
        if tiers and step <= tiers[-1].step:
            r.problem(f"{path}.step", "rollup steps must grow from one tier to the next")
        elif tiers and step % tiers[-1].step:
            r.problem(f"{path}.step", f"must be a multiple of the previous step ({tiers[-1].step:g}s)")
        if retention is not None and retention < step:
            r.problem(f"{path}.retention", "shorter than its own step")
        tiers.append(Tier(step, retention))
    if tiers and raw_ret < tiers[0].step:
        r.problem("metrics.raw_retention", "shorter than the first rollup step",
                  "raw points rebuild the open rollup bucket after a restart")
    return MetricsConfig(raw_ret, tuple(tiers), int(r.number(m, "max_points", "metrics", 2500, 100)),
                         r.duration(m, "flush_interval", "metrics", "60s"))


def _build_inventory(r: Reader, m: dict) -> Inventory:
    roles = {name: Role(name, procs) for name, procs in DEFAULT_ROLE_PROCESSES.items()}
    rm = r.mapping(m.get("roles"), "inventory.roles")
    for name, spec in rm.items():
        path = f"inventory.roles.{name}"
        sm = r.mapping(spec, path, ("processes",))
        roles[str(name)] = Role(str(name), r.str_list(sm, "processes", path))
    hosts, seen = [], set()
    raw_hosts = r.list(m.get("hosts"), "inventory.hosts")
    if not raw_hosts:
        r.problem("inventory.hosts", "at least one host is required",
                  "e.g. - {name: localhost, address: 127.0.0.1, roles: []}")
    for i, h in enumerate(raw_hosts):
        path = f"inventory.hosts[{i}]"
        hm = r.mapping(h, path, ("name", "address", "roles", "labels"))
        name = r.str(hm, "name", path)
        if name in seen:
            r.problem(f"{path}.name", f"duplicate host {name!r}")
        seen.add(name)
        host_roles = r.str_list(hm, "roles", path)
        for role in host_roles:
            if role not in roles:
                r.problem(f"{path}.roles", f"unknown role {role!r}", f"known: {', '.join(sorted(roles))}")
        labels = r.mapping(hm.get("labels"), f"{path}.labels")
        hosts.append(Host(name, r.str(hm, "address", path, name), host_roles,
                          tuple(sorted((str(k), str(v)) for k, v in labels.items()))))
    return Inventory(tuple(hosts), roles)


def _build_checks(r: Reader, m: dict, inventory: Inventory, local: tuple[Host, ...]) -> tuple[CheckSpec, ...]:
    from stackwatch.checks import get_check
    from stackwatch.checks.options import options_from_mapping

    defaults = r.mapping(m.get("defaults"), "checks.defaults", ("interval", "jitter"))
    interval = r.duration(defaults, "interval", "checks.defaults", "60s")
    jitter = r.duration(defaults, "jitter", "checks.defaults", "5s")
    local_names = tuple(h.name for h in local)
    specs: list[CheckSpec] = []
    for i, c in enumerate(r.list(m.get("host"), "checks.host")):
        path = f"checks.host[{i}]"
        cm = r.mapping(c, path, ("type", "name", "interval", "jitter", "options"))
        ctype = r.str(cm, "type", path)
        try:
            plugin = get_check(ctype) if ctype else None
        except KeyError as exc:
            r.problem(f"{path}.type", str(exc.args[0]))
            continue
        if plugin is None:
            continue
        options, problems = options_from_mapping(plugin.Options, r.mapping(cm.get("options"), f"{path}.options"))
        for p in problems:
            r.problems.append(f"{path}.options.{p}")
        specs.append(CheckSpec(r.str(cm, "name", path, ctype), ctype, options,
                               r.duration(cm, "interval", path, interval),
                               r.duration(cm, "jitter", path, jitter), local_names))
    pm = r.mapping(m.get("processes"), "checks.processes", ("interval", "critical", "warning"))
    proc_interval = r.duration(pm, "interval", "checks.processes", interval)
    critical = r.str(pm, "critical", "checks.processes", "1:")
    warning = r.str(pm, "warning", "checks.processes", "")
    if local:
        procs_plugin = get_check("procs")
        hosts_of: dict[str, list[str]] = {}        # one check per process, run for every local host needing it
        for host in local:
            for proc in inventory.processes_for(host):
                hosts_of.setdefault(proc, []).append(host.name)
        for proc, names_ in hosts_of.items():
            options, problems = options_from_mapping(
                procs_plugin.Options, {"process": proc, "critical": critical, "warning": warning})
            for p in problems:
                r.problems.append(f"checks.processes.{p}")
            specs.append(CheckSpec(f"proc-{proc}", "procs", options, proc_interval, jitter, tuple(names_)))
    names = [s.name for s in specs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        r.problem("checks.host", f"duplicate check name {name!r}", "give each a distinct name:")
    return tuple(specs)


def _build_collectors(r: Reader, items: list) -> tuple[CollectorSpec, ...]:
    from stackwatch.collectors import COLLECTORS, load_builtins

    load_builtins()
    out = []
    for i, c in enumerate(items):
        path = f"collectors[{i}]"
        cm = r.mapping(c, path, ("type", "name", "interval", "jitter"))
        ctype = r.str(cm, "type", path)
        if ctype and ctype not in COLLECTORS:
            r.problem(f"{path}.type", f"unknown collector {ctype!r}", f"known: {', '.join(COLLECTORS.names())}")
            continue
        out.append(CollectorSpec(r.str(cm, "name", path, ctype), ctype, r.duration(cm, "interval", path, "15s"),
                                 r.duration(cm, "jitter", path, "2s")))
    return tuple(out)


_LOGS_KEYS = ("backend", "elasticsearch", "retention", "timezone", "facilities", "receive", "files", "start_at",
              "forward", "central")


def _listen_or_none(r: Reader, m: dict, key: str, path: str) -> tuple[str, int] | None:
    value = m.get(key)
    if value is None:
        return None
    return parse_listen(str(value), r, f"{path}.{key}")


def _build_tls(r: Reader, raw, path: str) -> TlsConfig | None:
    if raw is None:
        return None
    m = r.mapping(raw, path, ("cert_file", "key_file", "ca_file"))
    return TlsConfig(r.str(m, "cert_file", path, None), r.str(m, "key_file", path, None), r.str(m, "ca_file", path, None))


def _build_logs(r: Reader, m: dict) -> LogsConfig:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    backend = r.choice(m, "backend", "logs", ("sqlite", "elasticsearch"), "sqlite")
    es = None
    if backend == "elasticsearch" or m.get("elasticsearch") is not None:
        em = r.mapping(m.get("elasticsearch"), "logs.elasticsearch", ("hosts", "index_prefix", "username",
                                                                       "password", "ca_file"))
        hosts = r.str_list(em, "hosts", "logs.elasticsearch")
        if backend == "elasticsearch" and not hosts:
            r.problem("logs.elasticsearch.hosts", "required with backend: elasticsearch",
                      "e.g. [http://127.0.0.1:9200]")
        es = ElasticsearchConfig(hosts, r.str(em, "index_prefix", "logs.elasticsearch", "stackwatch-events"),
                                 r.str(em, "username", "logs.elasticsearch", None),
                                 r.secret(em, "password", "logs.elasticsearch", required=False),
                                 r.str(em, "ca_file", "logs.elasticsearch", None))
    tz = r.str(m, "timezone", "logs", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        r.problem("logs.timezone", f"unknown time zone {tz!r}", "e.g. UTC or Europe/Paris")
    facilities = dict(DEFAULT_FACILITIES)
    for svc, fac in r.mapping(m.get("facilities"), "logs.facilities").items():
        if fac not in FACILITY_CODES:
            r.problem(f"logs.facilities.{svc}", f"{fac!r} is not a local facility", "use local0 ... local7")
            continue
        facilities[str(svc)] = str(fac)
    rv = r.mapping(m.get("receive"), "logs.receive", ("tcp", "udp", "relp", "tls"))
    tls_listen, relp_tls_listen, tls = None, None, None
    if rv.get("tls") is not None:
        tm = r.mapping(rv.get("tls"), "logs.receive.tls", ("listen", "relp", "cert_file", "key_file", "ca_file"))
        tls_listen = _listen_or_none(r, tm, "listen", "logs.receive.tls")
        relp_tls_listen = _listen_or_none(r, tm, "relp", "logs.receive.tls")
        tls = TlsConfig(r.str(tm, "cert_file", "logs.receive.tls", None), r.str(tm, "key_file", "logs.receive.tls", None),
                        r.str(tm, "ca_file", "logs.receive.tls", None))
        if (tls_listen or relp_tls_listen) and not (tls.cert_file and tls.key_file):
            r.problem("logs.receive.tls", "cert_file and key_file are required to listen with TLS")
    files = []
    for i, f in enumerate(r.list(m.get("files"), "logs.files")):
        fm = r.mapping(f if isinstance(f, dict) else {"path": f}, f"logs.files[{i}]", ("path",))
        files.append(r.str(fm, "path", f"logs.files[{i}]"))
    fw = r.mapping(m.get("forward"), "logs.forward", ("target", "protocol", "tls", "queue_dir"))
    central = r.mapping(m.get("central"), "logs.central", ("port", "directory"))
    return LogsConfig(
        backend=backend, elasticsearch=es, retention=r.duration(m, "retention", "logs", "30d"), timezone=tz,
        facilities=tuple(sorted(facilities.items())),
        tcp=_listen_or_none(r, rv, "tcp", "logs.receive"), udp=_listen_or_none(r, rv, "udp", "logs.receive"),
        relp=_listen_or_none(r, rv, "relp", "logs.receive"), tls_listen=tls_listen, tls=tls,
        relp_tls_listen=relp_tls_listen,
        files=tuple(files), start_at=r.choice(m, "start_at", "logs", ("end", "beginning"), "end"),
        forward_target=_listen_or_none(r, fw, "target", "logs.forward"),
        forward_protocol=r.choice(fw, "protocol", "logs.forward", ("tcp", "relp"), "tcp"),
        forward_tls=_build_tls(r, fw.get("tls"), "logs.forward.tls"),
        forward_queue_dir=r.str(fw, "queue_dir", "logs.forward", "/var/spool/rsyslog"),
        central_port=int(r.number(central, "port", "logs.central", 514, 1)),
        central_dir=r.str(central, "directory", "logs.central", "/var/log/rsyslog"),
    )


def _build_notifications(r: Reader, m: dict, logs: LogsConfig) -> NotificationsConfig:
    from urllib.parse import quote, urlsplit, urlunsplit

    from stackwatch.stacktach.settings import build_archive_backend

    deployments, seen = [], set()
    for i, d in enumerate(r.list(m.get("deployments"), "notifications.deployments")):
        path = f"notifications.deployments[{i}]"
        dm = r.mapping(d, path, ("name", "urls", "password", "bindings", "queue", "prefetch", "max_length", "ttl",
                                 "consumers", "management_url"))
        name = r.str(dm, "name", path)
        if name in seen:
            r.problem(f"{path}.name", f"duplicate deployment {name!r}")
        seen.add(name)
        password = r.secret(dm, "password", path, required=False)
        urls = []
        for j, url in enumerate(r.str_list(dm, "urls", path)):
            parts = urlsplit(url)
            if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
                r.problem(f"{path}.urls[{j}]", f"not an AMQP URL: {url!r}", "amqp://user@host:5672/%2F")
                continue
            if parts.password:
                r.problem(f"{path}.urls[{j}]", "a password is written in the URL",
                          "give password: {env: VARIABLE} and leave it out of the URL")
                continue
            if password:
                netloc = f"{parts.username or ''}:{quote(password, safe='')}@{parts.hostname}"
                netloc += f":{parts.port}" if parts.port else ""
                url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
            urls.append(url)
        if not dm.get("urls"):
            r.problem(f"{path}.urls", "required", "e.g. [amqp://stackwatch@rabbit-1:5672/%2F]")
        bindings = []
        raw_b = dm.get("bindings")
        if raw_b is None:
            bindings = list(DEFAULT_BINDINGS)
        for exchange, keys in r.mapping(raw_b, f"{path}.bindings").items():
            for key in ([keys] if isinstance(keys, str) else r.str_list({"k": keys}, "k", f"{path}.bindings.{exchange}")):
                bindings.append((str(exchange), key))
        ttl = r.duration(dm, "ttl", path, None, allow_none=True)
        mgmt = r.str(dm, "management_url", path, None)
        user = urlsplit(urls[0]).username if urls else None
        deployments.append(Deployment(
            name, tuple(urls), tuple(bindings), r.str(dm, "queue", path, f"stackwatch.notifications.{name}"),
            int(r.number(dm, "prefetch", path, 1000, 1)),
            None if dm.get("max_length") is None else int(r.number(dm, "max_length", path, None, 1)),
            ttl, int(r.number(dm, "consumers", path, 1, 1)), mgmt,
            (user or "", password or "") if mgmt else None))
    return NotificationsConfig(tuple(deployments), r.duration(m, "retention", "notifications", "90d"),
                               r.duration(m, "stuck_after", "notifications", "1h"),
                               *build_archive_backend(r, m, logs))
