"""Centralized logs at run time: the ingest pipeline with its inputs (syslog receivers, file tailers) built
from config.logs, and the rsyslog files generated from the inventory. `stackwatch serve` and
`stackwatch logs receive` both run a LogRuntime.
"""

from __future__ import annotations

import logging
import os
import ssl
from dataclasses import dataclass, field

from stackwatch.alerting.logwatch import LogWatch
from stackwatch.config import Config
from stackwatch.rsyslog.ingest import LogIngest
from stackwatch.rsyslog.services import SERVICES

log = logging.getLogger(__name__)


class LogInputError(Exception):
    """A log input cannot start (port taken, certificate unreadable, positions file corrupt)."""


@dataclass
class LogRuntime:
    config: Config
    ingest: LogIngest
    receiver: object | None = None
    tailer: object | None = None
    started: list = field(default_factory=list)

    @classmethod
    def build(cls, config: Config, events, metric_store=None, logwatch: LogWatch | None = None) -> "LogRuntime":
        lc = config.logs
        # two helper processes where there are two cores: with the embedded store each parses and stores a
        # whole batch (the store's log writers), else they parse chunks for this process to store
        ingest = LogIngest(events, config.hostname, lc.facility_services(), lc.timezone,
                           logwatch=logwatch, metric_store=metric_store, helpers=min(2, os.cpu_count() or 1))
        rt = cls(config, ingest)
        if lc.tcp or lc.udp or lc.relp or lc.tls_listen or lc.relp_tls_listen:
            from stackwatch.rsyslog.receiver import SyslogReceiver

            tls = relp_tls = None
            if lc.tls_listen or lc.relp_tls_listen:
                try:
                    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                    ctx.load_cert_chain(lc.tls.cert_file, lc.tls.key_file)
                    if lc.tls.ca_file:
                        ctx.load_verify_locations(lc.tls.ca_file)
                        ctx.verify_mode = ssl.CERT_REQUIRED
                except (OSError, ssl.SSLError) as exc:
                    raise LogInputError(f"logs.receive.tls: cannot load certificate: {exc}") from None
                tls = (*lc.tls_listen, ctx) if lc.tls_listen else None
                relp_tls = (*lc.relp_tls_listen, ctx) if lc.relp_tls_listen else None
            # big batches: one transaction and one helper-process round trip per up to 4,000 messages; two
            # batches in the sink at once, so one is parsed while the other is written
            rt.receiver = SyslogReceiver(ingest.sink, tcp=lc.tcp, udp=lc.udp, tls=tls, relp=lc.relp, relp_tls=relp_tls,
                                         batch_max=4000, overlap=2)
        if lc.files:
            from stackwatch.rsyslog.tail import FileTailer

            rt.tailer = FileTailer(list(lc.files), config.data_dir / "log-positions.json", ingest.sink,
                                   start_at=lc.start_at)
        return rt

    def start(self) -> None:
        for part in (self.receiver, self.tailer):
            if part is None:
                continue
            try:
                part.start()
            except OSError as exc:
                self.stop()
                raise LogInputError(f"cannot start log input: {exc.strerror or exc}") from None
            except Exception as exc:  # PositionsError and the like: one clear line
                self.stop()
                raise LogInputError(f"cannot start log input: {exc}") from None
            self.started.append(part)

    def stop(self) -> None:
        for part in reversed(self.started):
            try:
                part.stop()
            except Exception as exc:
                log.error("stopping %s failed: %s", type(part).__name__, exc)
        self.started.clear()

    def flush_metrics(self, now: float) -> None:
        self.ingest.flush_metrics(now)

    def describe(self) -> str:
        parts = []
        if self.receiver is not None:
            parts.append("syslog " + ", ".join(f"{k} {v}" for k, v in getattr(self.receiver, "bound_ports", {}).items()))
        if self.tailer is not None:
            parts.append("files " + ", ".join(self.config.logs.files))
        return "; ".join(parts) or "no inputs configured (logs.receive, logs.files)"


def host_services(config: Config, host_name: str) -> list[str]:
    """The OpenStack services whose processes the host's roles name (nova-api -> nova)."""
    host = config.inventory.host(host_name)
    found: dict[str, None] = {}
    for proc in config.inventory.processes_for(host):
        word = proc.split("-")[0].lower()
        if word in SERVICES:
            found.setdefault(word, None)
    return list(found)


def client_files(config: Config, host_name: str | None = None) -> dict[str, str]:
    from stackwatch.rsyslog.rsyslogconf import client_config

    lc = config.logs
    if host_name is None:
        local = config.local_hosts()
        if not local:
            raise ValueError(f"this machine ({config.hostname}) is not in the inventory: give --host")
        host_name = local[0].name
    if lc.forward_target is None:
        raise ValueError("logs.forward.target is not set: where should this host send its logs?")
    facilities = dict(lc.facilities)
    services = [s for s in host_services(config, host_name) if s in facilities]
    tls = None
    if lc.forward_tls is not None:
        tls = {k: v for k, v in (("ca_file", lc.forward_tls.ca_file), ("cert_file", lc.forward_tls.cert_file),
                                 ("key_file", lc.forward_tls.key_file)) if v}
    host, port = lc.forward_target
    return client_config(host_name, services, facilities, host, port, lc.forward_protocol, tls,
                         queue_dir=lc.forward_queue_dir)


def server_files(config: Config) -> dict[str, str]:
    from stackwatch.rsyslog.rsyslogconf import server_config

    import ipaddress

    lc = config.logs
    if lc.relp:
        host, port, protocol = (*lc.relp, "relp")
    elif lc.tcp:
        host, port, protocol = (*lc.tcp, "tcp")
    else:
        raise ValueError("logs.receive has neither relp nor tcp: the central rsyslog has nowhere to forward to")
    if host in ("0.0.0.0", "::", ""):  # stackwatch listens everywhere: the central rsyslog is on this machine
        host = "127.0.0.1"
    target = (host, port, protocol)
    senders = []
    for h in config.inventory.hosts:  # rsyslog resolves names once at start and drops failures: IPs only
        try:
            if not ipaddress.ip_address(h.address).is_loopback:
                senders.append(h.address)
        except ValueError:
            log.warning("inventory host %s: address %r is not an IP; the central rsyslog accepts any sender "
                        "unless every host has an IP address", h.name, h.address)
            senders = []
            break
    return server_config(senders, lc.central_port, forward_to_stackwatch=target, per_host_dir=lc.central_dir,
                         facilities=dict(lc.facilities))
