"""The Nagios object files for the whole inventory: time periods (24x7, workhours and the config's own),
commands (check_nrpe, check-host-alive, the notification commands), contacts and contact groups, host and
service templates, one host per inventory host with a host group per role, one service per stackwatch
check (through `check_nrpe!sw_...`, or passive with freshness for `--passive`) and the dependencies of
every service on its host's NRPE; the cloud-wide checks of `checks.cloud` on their own (virtual) hosts,
run through the NRPE of the host that runs them and depending on it (cloud.py).

Rendered with Jinja2 from templates/*.cfg.j2 (Nagios syntax, not HTML: no autoescape; every name is
checked for characters Nagios refuses or that would break a line before it reaches a template).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from stackwatch.inventory import Host
from stackwatch.nagios.cloud import HOSTGROUP, check_clashes, cloud_hosts, runner
from stackwatch.nagios.plan import NRPE_SERVICE, PlanError, ServiceCheck, host_services, validate_name
from stackwatch.nagios.settings import BUILTIN_PERIODS

FILES = ("timeperiods.cfg", "commands.cfg", "contacts.cfg", "templates.cfg", "hosts.cfg", "services.cfg")

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("stackwatch.nagios", "templates"), autoescape=False,
                          trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                          undefined=jinja2.StrictUndefined)


@dataclass(frozen=True, slots=True)
class HostPlan:
    host: Host
    services: tuple[ServiceCheck, ...]


def _minutes(seconds: float) -> str:
    """Nagios intervals are in interval_length units (60 s); fractions are allowed."""
    return f"{seconds / 60:g}"


def render(config, passive: bool = False) -> dict[str, str]:
    """File name -> text of every object file (config.nagios must be set)."""
    nagios = config.nagios
    if not nagios.contacts and nagios.define_common:
        raise PlanError("nagios.contacts: Nagios refuses a configuration without contacts; add at least one "
                        "(e.g. - {name: ops, email: ops@example.org})")
    hosts = tuple(HostPlan(h, host_services(config, h)) for h in config.inventory.hosts)
    roles: dict[str, list[str]] = {}
    for h in config.inventory.hosts:
        for role in h.roles:
            validate_name("role", role)
            roles.setdefault(role, []).append(h.name)
    if len(hosts) != len({p.host.name for p in hosts}):
        raise PlanError("two inventory hosts have the same name")
    clouds, run_by = cloud_hosts(config), runner(config)
    check_clashes({p.host.name: p.services for p in hosts}, clouds, run_by, set(roles))
    builtin = {p.name for p in BUILTIN_PERIODS}
    periods = [p for p in nagios.timeperiods if nagios.define_common or p.name not in builtin]
    context = dict(
        source=config.path, passive=passive, periods=periods, define_common=nagios.define_common,
        nrpe=nagios.nrpe, plugins_dir=nagios.plugins_dir, mail_program=nagios.mail_program,
        contacts=nagios.contacts,
        max_check_attempts=nagios.max_check_attempts, check_period=nagios.check_period,
        notification_period=nagios.notification_period,
        notification_interval=_minutes(nagios.notification_interval),
        contact_names=[c.name for c in nagios.contacts], hosts=hosts, hostgroups=sorted(roles.items()),
        nrpe_service=NRPE_SERVICE, minutes=_minutes, clouds=clouds, runner=run_by, cloud_hostgroup=HOSTGROUP,
        freshness_factor=nagios.passive.freshness_factor if nagios.passive else 3.0,
    )
    out = {}
    for name in FILES:
        extra = {"contact_groups": nagios.contact_groups} if name == "contacts.cfg" else \
            {"contact_groups": [g.name for g in nagios.contact_groups]}
        out[name] = _ENV.get_template(name + ".j2").render(**context, **extra)
    return out


def write(files: dict[str, str], directory: Path) -> list[Path]:
    """Write the files into `directory` (created), each replaced atomically; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files.items():
        path = directory / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        paths.append(path)
    return paths
