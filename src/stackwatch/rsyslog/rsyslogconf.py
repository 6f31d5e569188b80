"""rsyslog configuration generated for the cloud's hosts and for the central log host, from values the
caller passes (no config.yaml here), rendered from the jinja2 templates in `templates/`.

- `client_config()`: per OpenStack service the syslog settings for its config file (the operations
  guide's "Logging and Monitoring" chapter: `use_syslog`/`syslog_log_facility`, one local facility per
  service; swift's own `log_facility`), and `/etc/rsyslog.d/60-stackwatch-forward.conf` forwarding
  *every* message (not only the OpenStack facilities: the host's kernel, libvirt or OVS messages
  matter when tracing a failure) over TCP (RFC 6587 octet-counted, RFC 5424 format) or RELP, with a
  disk-assisted queue so nothing is lost while the central side is down; optional TLS.
- `server_config()`: the central receiver as the guide shows it (a file per host, one for all hosts,
  per service), written in RainerScript, plus forwarding into stackwatch through a disk-assisted queue.

Both return `{path: content}`. Paths under `/etc/rsyslog.d/` are whole files to write. The OpenStack
service entries (`/etc/nova/nova.conf`, ...) are INI *snippets to merge* into that existing file's
`[DEFAULT]` section (their first line says so): never write them over the file.

Pure functions: the only import beyond the stdlib is jinja2, for the templates.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Iterable, Mapping

import jinja2

FORWARD_FILE = "/etc/rsyslog.d/60-stackwatch-forward.conf"
SERVER_FILE = "/etc/rsyslog.d/60-stackwatch-server.conf"

#: The guide's assignment (nova local0, glance local1, cinder local2, keystone local3); the guide
#: leaves swift on its default (LOG_LOCAL0, nova's) and does not place neutron: local4 and local5.
DEFAULT_FACILITIES = {"nova": "local0", "glance": "local1", "cinder": "local2", "keystone": "local3",
                      "neutron": "local4", "swift": "local5"}

#: Which file carries a service's logging options. The guide also names glance-registry.conf, a
#: service removed in Ussuri; other oslo.log services use /etc/<service>/<service>.conf.
SERVICE_FILES = {
    "nova": ("/etc/nova/nova.conf",),
    "glance": ("/etc/glance/glance-api.conf",),
    "cinder": ("/etc/cinder/cinder.conf",),
    "keystone": ("/etc/keystone/keystone.conf",),
    "neutron": ("/etc/neutron/neutron.conf",),
    "placement": ("/etc/placement/placement.conf",),
    "swift": tuple(f"/etc/swift/{s}-server.conf" for s in ("proxy", "account", "container", "object")),
}

_FACILITIES = {f"local{i}" for i in range(8)} | {"user", "daemon", "syslog"}
_AUTH_MODES = {"anon", "name", "certvalid", "fingerprint"}
_HOST = re.compile(r"[A-Za-z0-9_.:*/-]+\Z")        # names, IPv4/IPv6, AllowedSender wildcards and /nn
_PATH = re.compile(r"/[A-Za-z0-9_.+@=,/-]*\Z")     # nothing rsyslog would read as quote, escape or %property%
_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")
_SIZE = re.compile(r"\d+[kmgKMG]?\Z")

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("stackwatch.rsyslog", "templates"),
    undefined=jinja2.StrictUndefined, autoescape=False,
    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
)
_ENV.filters["rs"] = lambda v: '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(pattern: re.Pattern[str], value: Any, what: str) -> str:
    text = str(value)
    if not pattern.match(text):
        raise ValueError(f"{what}: {text!r} is not allowed here")
    return text


def _port(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ValueError(f"{what}: {value!r} is not a port number")
    return value


def _facility(value: str, service: str) -> str:
    name = str(value).lower().removeprefix("log_")
    if name not in _FACILITIES:
        raise ValueError(f"facility of {service}: {value!r} is not one of local0 ... local7, user, daemon, syslog")
    return name


def _tls(tls: Mapping[str, Any] | Any | None, default_peers: Iterable[str], need_cert: bool) -> dict | None:
    """TLS settings as a dict or an object with the same attributes (config.TlsConfig) -> checked dict."""
    if tls is None:
        return None
    get = tls.get if isinstance(tls, Mapping) else (lambda k, d=None: getattr(tls, k, d))
    ca, cert, key = get("ca_file"), get("cert_file"), get("key_file")
    if not ca:
        raise ValueError("tls: ca_file is required")
    if need_cert and not (cert and key):
        raise ValueError("tls: cert_file and key_file are required on the receiving side")
    if bool(cert) != bool(key):
        raise ValueError("tls: give both cert_file and key_file, or neither")
    peers = get("permitted_peer")
    peers = [peers] if isinstance(peers, str) else list(peers or default_peers)
    mode = str(get("auth_mode") or ("name" if peers else "certvalid")).removeprefix("x509/")
    if mode not in _AUTH_MODES:
        raise ValueError(f"tls: auth_mode {mode!r} is not one of {', '.join(sorted(_AUTH_MODES))}")
    return {
        "ca_file": _check(_PATH, ca, "tls.ca_file"),
        "cert_file": _check(_PATH, cert, "tls.cert_file") if cert else None,
        "key_file": _check(_PATH, key, "tls.key_file") if key else None,
        "mode": mode,
        "permitted_peer": [_check(_HOST, p, "tls.permitted_peer") for p in peers] if mode == "name" else [],
    }


def _auth(tls: dict | None, relp: bool) -> dict | None:
    """The generic auth mode spelled as omfwd/imtcp (`x509/name`) or omrelp/imrelp (`name`) want it."""
    if tls is None:
        return None
    mode = tls["mode"]
    return {**tls, "auth_mode": mode if relp or mode == "anon" else f"x509/{mode}"}


def _sender(value: Any) -> str:
    """An `$AllowedSender` entry: an address, a network, or a `*.domain` wildcard (matched by reverse DNS).

    A plain host name is refused: rsyslog resolves it once at startup and leaves it out of the ACL when
    that fails, which would lock the host out.
    """
    text = _check(_HOST, value, "hosts")
    if "*" in text:
        return text
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"hosts: {text!r} is a name; give the sender's address (or network, or *.domain)") from None
    if net.version == 6:                     # rsyslog wants [addr]/bits for IPv6
        addr = text.partition("/")[0]
        return f"[{addr}]/{net.prefixlen}"
    return text


def _protocol(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what}: {value!r} is not one of {', '.join(allowed)}")
    return value


def service_files(services: Iterable[str], facilities: Mapping[str, str] | None = None) -> dict[str, str]:
    """Per service, the INI snippet to merge into each of its config files (path -> snippet)."""
    facilities = DEFAULT_FACILITIES if facilities is None else facilities
    out: dict[str, str] = {}
    for service in services:
        service = _check(_NAME, service, "service")
        if service not in facilities:
            raise ValueError(f"service {service!r} has no syslog facility; give one in facilities")
        facility = _facility(facilities[service], service)
        template = _ENV.get_template("swift-syslog.ini.j2" if service == "swift" else "oslo-syslog.ini.j2")
        for path in SERVICE_FILES.get(service, (f"/etc/{service}/{service}.conf",)):
            out[path] = template.render(path=path, service=service, facility=facility,
                                        option_value=f"LOG_{facility.upper()}")
    return out


def queue_file_size(max_disk: str) -> str:
    """queue.maxFileSize for a disk-assisted queue of `max_disk` (queue.maxDiskSpace): 64m, at most an eighth
    of the disk space. rsyslog's default, 1m, spills a burst into hundreds of files: in bench/bench_ingest.py
    (1M lines at once, through the disk) rsyslogd took 11.5-11.8 s of CPU with 1m files, 9.0-9.7 s with 64m."""
    max_disk = _check(_SIZE, max_disk, "queue_max_disk")
    scale = {"k": 1000, "m": 1000 ** 2, "g": 1000 ** 3}.get(max_disk[-1].lower(), 1)
    total = int(max_disk.rstrip("kmgKMG")) * scale
    return "64m" if total >= 8 * 64 * 1000 ** 2 else str(max(1000 ** 2, total // 8))


def client_config(host_name: str, services: Iterable[str], facilities: Mapping[str, str] | None,
                  target_host: str, target_port: int, protocol: str = "tcp",
                  tls: Mapping[str, Any] | Any | None = None, queue_dir: str = "/var/spool/rsyslog",
                  queue_max_disk: str = "1g", resume_interval: int = 10,
                  resume_interval_max: int = 60) -> dict[str, str]:
    """The files for one cloud host: its services' syslog settings and the rsyslog forwarding."""
    services = list(services)
    facilities = DEFAULT_FACILITIES if facilities is None else facilities
    files = service_files(services, facilities)
    relp = _protocol(protocol, ("tcp", "relp"), "protocol") == "relp"
    host = _check(_HOST, target_host, "target_host")
    tls_d = _auth(_tls(tls, [host], need_cert=False), relp)
    summary = ", ".join(f"{s} {_facility(facilities[s], s)}" for s in services) or "their own facilities"
    files[FORWARD_FILE] = _ENV.get_template("client-forward.conf.j2").render(
        host_name=_check(_HOST, host_name, "host_name"), facility_summary=summary,
        target_host=host, target_port=_port(target_port, "target_port"), protocol=protocol, tls=tls_d,
        queue_name="stackwatch-forward", queue_dir=_check(_PATH, queue_dir, "queue_dir"),
        queue_max_disk=_check(_SIZE, queue_max_disk, "queue_max_disk"), queue_file_size=queue_file_size(queue_max_disk),
        resume_interval=_port(resume_interval, "resume_interval"),
        resume_interval_max=_port(resume_interval_max, "resume_interval_max"),
    )
    return files


def server_config(hosts: Iterable[str], listen_port: int = 514, protocol: str = "tcp", udp: bool = True,
                  forward_to_stackwatch: tuple[str, int, str] = ("127.0.0.1", 6514, "tcp"),
                  per_host_dir: str = "/var/log/rsyslog", facilities: Mapping[str, str] | None = None,
                  address: str | None = None, tls: Mapping[str, Any] | Any | None = None,
                  queue_dir: str = "/var/spool/rsyslog", queue_max_disk: str = "4g",
                  resume_interval: int = 10, resume_interval_max: int = 60) -> dict[str, str]:
    """The central log host: inputs (`protocol` on TCP `listen_port`, and UDP on the same port number
    when `udp`), the guide's per-host and all-hosts files per service, and forwarding into stackwatch.

    `hosts`, the senders' addresses (networks like `10.0.0.0/8` and `*.example.org` work too), become
    `$AllowedSender` for TCP and UDP; empty accepts any sender. TLS applies to the TCP or RELP input (UDP
    stays plain); it checks client certificates against the CA (`certvalid`) unless `permitted_peer`
    names them.
    """
    hosts = [_sender(h) for h in hosts]
    relp = _protocol(protocol, ("tcp", "relp"), "protocol") == "relp"
    fwd_host, fwd_port, fwd_protocol = forward_to_stackwatch
    _protocol(fwd_protocol, ("tcp", "relp"), "forward_to_stackwatch protocol")
    inputs = [protocol] + (["udp"] if udp else [])
    modules = [{"tcp": "imtcp", "relp": "imrelp", "udp": "imudp"}[i] for i in inputs]
    modules += ["omrelp"] if fwd_protocol == "relp" else []
    facilities = DEFAULT_FACILITIES if facilities is None else facilities
    per_service = [{"service": _check(_NAME, s, "service"), "facility": _facility(f, s)}
                   for s, f in facilities.items()]
    content = _ENV.get_template("server.conf.j2").render(
        hosts=hosts, listen_port=_port(listen_port, "listen_port"), inputs=inputs, modules=modules,
        allowed_protocols=[p.upper() for p in inputs if p != "relp"],
        address=_check(_HOST, address, "address") if address else None,
        tls=_auth(_tls(tls, (), need_cert=True), relp), services=per_service,
        per_host_dir=_check(_PATH, per_host_dir.rstrip("/") or "/", "per_host_dir"),
        forward_host=_check(_HOST, fwd_host, "forward_to_stackwatch host"),
        forward_port=_port(fwd_port, "forward_to_stackwatch port"), forward_protocol=fwd_protocol,
        queue_dir=_check(_PATH, queue_dir, "queue_dir"),
        queue_max_disk=_check(_SIZE, queue_max_disk, "queue_max_disk"), queue_file_size=queue_file_size(queue_max_disk),
        resume_interval=_port(resume_interval, "resume_interval"),
        resume_interval_max=_port(resume_interval_max, "resume_interval_max"),
    )
    return {SERVER_FILE: content}
