"""The `nagios:` section of config.yaml: the Nagios server NRPE answers, how the checks are run there,
contacts, contact groups, time periods, notification settings, passive mode and which inventory host
runs the cloud-wide checks (`cloud_checks_host`; plan.py resolves its default against the inventory).

Pure: stdlib only (it reads with `config_reader.Reader`, which collects every problem with its dotted path).
Email addresses are not secrets and are written plainly; a contact's pager may be a {env}/{file} reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from stackwatch.config_reader import Reader

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Nagios's own illegal_object_name_chars (Debian's nagios.cfg), plus what breaks a config or command line.
ILLEGAL_NAME_CHARS = set("`~!$%^&*|'\"<>?,()=;#\\") | {"\n", "\r", "\t"}
_RANGE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$")
NOTIFY_HOST = ("d", "u", "r", "f", "s", "n")
NOTIFY_SERVICE = ("w", "u", "c", "r", "f", "s", "n")


@dataclass(frozen=True, slots=True)
class TimePeriod:
    name: str
    alias: str
    ranges: tuple[tuple[str, str], ...]  # (day, "09:00-17:00,18:00-20:00")


BUILTIN_PERIODS = (
    TimePeriod("24x7", "24 hours a day, 7 days a week", tuple((d, "00:00-24:00") for d in DAYS)),
    TimePeriod("workhours", "Working hours", tuple((d, "09:00-17:00") for d in DAYS[:5])),
)


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    alias: str
    email: str | None
    pager: str | None = field(default=None, repr=False)
    host_notification_period: str = "24x7"
    service_notification_period: str = "24x7"
    host_notification_options: tuple[str, ...] = ("d", "u", "r")
    service_notification_options: tuple[str, ...] = ("w", "u", "c", "r")


@dataclass(frozen=True, slots=True)
class ContactGroup:
    name: str
    alias: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NrpeSettings:
    port: int = 5666
    timeout: float = 30.0
    check_program: str | None = None  # None: the stackwatch-check next to this Python, else on PATH
    plugin: str = "/usr/lib/nagios/plugins/check_nrpe"


@dataclass(frozen=True, slots=True)
class PassiveSettings:
    command_file: str
    host_results: bool = True        # also PROCESS_HOST_CHECK_RESULT (UP) for hosts stackwatch checks
    host_interval: float = 60.0      # at most one host result per host per interval
    freshness_factor: float = 3.0    # nagios-config --passive: stale after this many check intervals


@dataclass(frozen=True, slots=True)
class NagiosConfig:
    allowed_hosts: tuple[str, ...]               # the Nagios server(s), NRPE's allowed_hosts
    contacts: tuple[Contact, ...] = ()
    contact_groups: tuple[ContactGroup, ...] = ()
    timeperiods: tuple[TimePeriod, ...] = BUILTIN_PERIODS
    check_period: str = "24x7"
    notification_period: str = "24x7"
    notification_interval: float = 3600.0
    max_check_attempts: int = 3
    plugins_dir: str = "/usr/lib/nagios/plugins"
    mail_program: str = "/usr/bin/mail"
    define_common: bool = True   # write check_nrpe, check-host-alive, 24x7, workhours, notify-*-by-email
    nrpe: NrpeSettings = NrpeSettings()
    passive: PassiveSettings | None = None
    process_warning: str = ""    # checks.processes thresholds, for hosts that are not this machine
    process_critical: str = "1:"
    cloud_checks_host: str | None = None  # runs checks.cloud for Nagios (None: a `monitoring` host, else a controller)

    def period(self, name: str) -> TimePeriod:
        return next(p for p in self.timeperiods if p.name == name)


_KEYS = ("server", "nrpe", "plugins_dir", "mail_program", "define_common", "check_period", "notification_period",
         "notification_interval", "max_check_attempts", "timeperiods", "contacts", "contact_groups", "passive",
         "cloud_checks_host")


def build_nagios(r: Reader, raw: Any, raw_checks: Any = None) -> NagiosConfig | None:
    """The `nagios:` section (None when absent). `raw_checks` is the raw `checks:` section, read here only
    for the process thresholds (problems in it are reported by the checks builder, not twice)."""
    if raw is None:
        return None
    m = r.mapping(raw, "nagios", _KEYS)
    server = m.get("server")
    servers = (str(server),) if isinstance(server, (str, int)) and not isinstance(server, bool) else \
        r.str_list(m, "server", "nagios")
    if not servers:
        r.problem("nagios.server", "required: the Nagios server's address (NRPE's allowed_hosts)",
                  "e.g. server: 10.0.0.5, or a list")
    for i, s in enumerate(servers):
        if not re.fullmatch(r"[A-Za-z0-9.:/_-]+", s):
            r.problem(f"nagios.server[{i}]", f"not an address, network or host name: {s!r}")
    periods = _build_periods(r, m.get("timeperiods"))
    period_names = {p.name for p in periods}

    def period(mapping: dict, key: str, path: str, default: str) -> str:
        value = r.str(mapping, key, path, default)
        if value not in period_names:
            r.problem(f"{path}.{key}", f"unknown time period {value!r}", f"known: {', '.join(sorted(period_names))}")
        return value

    contacts = _build_contacts(r, m.get("contacts"), period)
    groups = _build_groups(r, m.get("contact_groups"), {c.name for c in contacts})
    nm = r.mapping(m.get("nrpe"), "nagios.nrpe", ("port", "timeout", "check_program", "plugin"))
    port = int(r.number(nm, "port", "nagios.nrpe", 5666, 1))
    if port > 65535:
        r.problem("nagios.nrpe.port", f"not a port: {port}")
    define_common = r.bool(m, "define_common", "nagios", True)
    if not define_common and port != 5666:
        r.problem("nagios.nrpe.port", "the stock check_nrpe command (define_common: false) has no port option",
                  "use port 5666 or define_common: true")
    passive = None
    if m.get("passive") is not None:
        pm = r.mapping(m.get("passive"), "nagios.passive", ("command_file", "host_results", "host_interval",
                                                            "freshness_factor"))
        passive = PassiveSettings(r.str(pm, "command_file", "nagios.passive"),
                                  r.bool(pm, "host_results", "nagios.passive", True),
                                  r.duration(pm, "host_interval", "nagios.passive", "60s"),
                                  float(r.number(pm, "freshness_factor", "nagios.passive", 3.0, 1.0)))
    procs = Reader({}).mapping((raw_checks or {}).get("processes") if isinstance(raw_checks, dict) else None,
                               "checks.processes")
    return NagiosConfig(
        allowed_hosts=tuple(servers), contacts=contacts, contact_groups=groups, timeperiods=periods,
        check_period=period(m, "check_period", "nagios", "24x7"),
        notification_period=period(m, "notification_period", "nagios", "24x7"),
        notification_interval=r.duration(m, "notification_interval", "nagios", "1h"),
        max_check_attempts=int(r.number(m, "max_check_attempts", "nagios", 3, 1)),
        plugins_dir=_line(r, m, "plugins_dir", "nagios", "/usr/lib/nagios/plugins").rstrip("/"),
        mail_program=_line(r, m, "mail_program", "nagios", "/usr/bin/mail"),
        define_common=define_common,
        nrpe=NrpeSettings(port, r.duration(nm, "timeout", "nagios.nrpe", "30s"),
                          _line(r, nm, "check_program", "nagios.nrpe", None),
                          _line(r, nm, "plugin", "nagios.nrpe", "/usr/lib/nagios/plugins/check_nrpe")),
        passive=passive,
        process_warning=str(procs.get("warning") or ""),
        process_critical=str(procs.get("critical") if procs.get("critical") is not None else "1:"),
        cloud_checks_host=_name(r, m, "cloud_checks_host", "nagios") if m.get("cloud_checks_host") is not None
        else None,
    )


def _line(r: Reader, m: dict, key: str, path: str, default: Any = None) -> Any:
    """A free-text value that ends up on one line of a generated file: no line breaks or control characters."""
    value = r.str(m, key, path, default)
    if isinstance(value, str) and any(ord(ch) < 32 or ch == "\x7f" for ch in value):
        r.problem(f"{path}.{key}", "must be one line without control characters")
        return default if isinstance(default, str) else ""
    return value


def _name(r: Reader, m: dict, key: str, path: str) -> str:
    value = r.str(m, key, path)
    bad = sorted(set(value) & ILLEGAL_NAME_CHARS)
    if bad:
        r.problem(f"{path}.{key}", f"{value!r} holds characters Nagios refuses in names: {''.join(bad)!r}")
    return value


def _build_periods(r: Reader, raw: Any) -> tuple[TimePeriod, ...]:
    periods = {p.name: p for p in BUILTIN_PERIODS}
    for name, spec in r.mapping(raw, "nagios.timeperiods").items():
        path = f"nagios.timeperiods.{name}"
        bad = sorted(set(str(name)) & (ILLEGAL_NAME_CHARS | {" "}))
        if bad:
            r.problem(path, f"characters Nagios refuses in names: {''.join(bad)!r}")
        sm = r.mapping(spec, path, ("alias",) + DAYS)
        ranges = []
        for day in DAYS:
            if sm.get(day) is None:
                continue
            text = r.str(sm, day, path)
            for part in text.split(","):
                if not _RANGE.match(part.strip()):
                    r.problem(f"{path}.{day}", f"bad time range {part.strip()!r}", "use HH:MM-HH:MM[,HH:MM-HH:MM]")
            ranges.append((day, ",".join(p.strip() for p in text.split(","))))
        periods[str(name)] = TimePeriod(str(name), _line(r, sm, "alias", path, str(name)), tuple(ranges))
    return tuple(periods.values())


def _build_contacts(r: Reader, raw: Any, period) -> tuple[Contact, ...]:
    contacts, seen = [], set()
    for i, c in enumerate(r.list(raw, "nagios.contacts")):
        path = f"nagios.contacts[{i}]"
        cm = r.mapping(c, path, ("name", "alias", "email", "pager", "notification_period", "host_notification_period",
                                 "service_notification_period", "host_notification_options",
                                 "service_notification_options"))
        name = _name(r, cm, "name", path)
        if name in seen:
            r.problem(f"{path}.name", f"duplicate contact {name!r}")
        seen.add(name)
        email = r.str(cm, "email", path, None)
        if email is not None and not re.fullmatch(r"[^@\s;]+@[^@\s;]+", email):
            r.problem(f"{path}.email", f"not an email address: {email!r}")
        pager = cm.get("pager")
        pager = r.secret(cm, "pager", path, required=False) if isinstance(pager, dict) else _line(r, cm, "pager", path)
        if pager is not None and any(ord(ch) < 32 for ch in pager):
            r.problem(f"{path}.pager", "must be one line without control characters")
            pager = None
        if email is None and pager is None:
            r.problem(path, "a contact needs an email or a pager")
        default_period = period(cm, "notification_period", path, "24x7")
        contacts.append(Contact(
            name, _line(r, cm, "alias", path, name), email, pager,
            period(cm, "host_notification_period", path, default_period),
            period(cm, "service_notification_period", path, default_period),
            _options(r, cm, "host_notification_options", path, NOTIFY_HOST, ("d", "u", "r")),
            _options(r, cm, "service_notification_options", path, NOTIFY_SERVICE, ("w", "u", "c", "r"))))
    return tuple(contacts)


def _options(r: Reader, m: dict, key: str, path: str, allowed: tuple[str, ...], default: tuple[str, ...]):
    if m.get(key) is None:
        return default
    raw = m[key]
    values = tuple(v.strip() for v in raw.split(",")) if isinstance(raw, str) else r.str_list(m, key, path)
    for v in values:
        if v not in allowed:
            r.problem(f"{path}.{key}", f"unknown notification option {v!r}", f"use {', '.join(allowed)}")
    return values


def _build_groups(r: Reader, raw: Any, contact_names: set[str]) -> tuple[ContactGroup, ...]:
    groups, seen = [], set()
    for i, g in enumerate(r.list(raw, "nagios.contact_groups")):
        path = f"nagios.contact_groups[{i}]"
        gm = r.mapping(g, path, ("name", "alias", "members"))
        name = _name(r, gm, "name", path)
        if name in seen:
            r.problem(f"{path}.name", f"duplicate contact group {name!r}")
        seen.add(name)
        members = r.str_list(gm, "members", path)
        if not members:
            r.problem(f"{path}.members", "a contact group needs at least one member")
        for member in members:
            if member not in contact_names:
                r.problem(f"{path}.members", f"unknown contact {member!r}",
                          f"known: {', '.join(sorted(contact_names)) or 'none (add nagios.contacts)'}")
        groups.append(ContactGroup(name, _line(r, gm, "alias", path, name), members))
    return tuple(groups)
