"""Which Nagios services each inventory host gets, one per stackwatch check, with the names both sides
share: the service description is the stackwatch check name (`disk-root`, `proc-nova-compute`, what
CheckResult.check holds, so passive results land on the generated services), the NRPE command is
`sw_` + that name (`sw_disk_root`), and the command line is `stackwatch-check TYPE` with the check's
options as fixed arguments (`disk -p / -w 20% -c 10%`): nothing comes from the NRPE client.

The host checks of config.yaml's `checks.host` apply to every host; one procs check per process of the
host's roles follows, with `checks.processes`' thresholds, as the in-process scheduler does it.
"""

from __future__ import annotations

import re
import shlex
import urllib.parse
from dataclasses import dataclass

from stackwatch.checks.options import MISSING, fields
from stackwatch.inventory import Host

COMMAND_PREFIX = "sw_"
NRPE_SERVICE = "nrpe"  # the service every NRPE-run service depends on: is the host's NRPE answering?
# an option named as a secret itself (`password`, `api_key`; not `token_warning`, a token's issue time)
_SECRET_OPTION = re.compile(r"(^|_)(pass|password|passwd|passphrase|secret|token|api_?key|credentials?)$", re.I)
_ILLEGAL = set("`~!$%^&*|'\"<>?,()=;#\\") | {"\n", "\r", "\t"}


class PlanError(ValueError):
    """The inventory or checks cannot be expressed as Nagios services (a name Nagios refuses, a clash)."""


@dataclass(frozen=True, slots=True)
class ServiceCheck:
    service: str               # Nagios service_description == stackwatch check name
    command: str               # NRPE command name
    check_type: str            # stackwatch-check NAME
    arguments: tuple[str, ...]  # fixed arguments after NAME
    interval: float            # seconds

    def command_line(self, program: str) -> str:
        return " ".join(shlex.quote(a) for a in (program, self.check_type, *self.arguments))


def command_name(check: str) -> str:
    return COMMAND_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", check)


def arguments(options) -> tuple[str, ...]:
    """A check's options as its command-line flags (first declared flag of each option that is set).
    Only references to secrets reach a command line (`password_env`, `password_file`, a clouds.yaml name):
    an option holding a secret itself, or a URL with a password in it, is refused."""
    out: list[str] = []
    for f in fields(type(options)):
        value = getattr(options, f.name)
        _refuse_secret(f.name, value)
        flag = (f.metadata.get("flags") or ("--" + f.name.replace("_", "-"),))[0]
        if isinstance(value, bool):
            if f.default is not MISSING and value != f.default:
                out.append(flag)
            continue
        if value is None or (value == "" and f.default in (None, "", MISSING)):
            continue
        text = str(value)
        if "\n" in text or "\r" in text or "\0" in text:
            raise PlanError(f"option {f.name} of a check holds a line break: {text!r}")
        out += [flag, text]
    return tuple(out)


def _refuse_secret(name: str, value) -> None:
    """NRPE files are world-readable on many hosts and the command lines show in `ps`: no secret in them."""
    if value is None or isinstance(value, bool):
        return
    if _SECRET_OPTION.search(name) and not name.endswith(("_env", "_file")):
        raise PlanError(f"option {name} holds a secret, which would be written into the NRPE file: "
                        f"give {name}_file or {name}_env (a file or variable the check reads) instead")
    text = str(value)
    if "://" in text:
        try:
            has_password = urllib.parse.urlsplit(text).password is not None
        except ValueError:
            has_password = False
        if has_password:
            raise PlanError(f"option {name} is a URL with a password in it, which would be written into the NRPE "
                            "file: leave the credentials out of the URL (e.g. user + password_file)")


def host_services(config, host: Host) -> tuple[ServiceCheck, ...]:
    """The services of `host`: config.checks' host checks, then a procs check per role process."""
    from stackwatch.checks import get_check
    from stackwatch.checks.options import options_from_mapping

    nagios = config.nagios
    services: list[ServiceCheck] = []
    for spec in config.checks:
        if spec.type == "procs":
            continue  # the per-process checks below (config.checks holds them for this machine only)
        services.append(ServiceCheck(spec.name, command_name(spec.name), spec.type, arguments(spec.options),
                                     spec.interval))
    proc_interval = next((s.interval for s in config.checks if s.type == "procs"), None)
    default_interval = services[0].interval if services else 60.0
    procs = get_check("procs").Options
    for proc in config.inventory.processes_for(host):
        values = {"process": proc, "critical": nagios.process_critical if nagios else "1:",
                  "warning": nagios.process_warning if nagios else ""}
        options, problems = options_from_mapping(procs, values)
        if problems:
            raise PlanError(f"process {proc!r} of host {host.name}: {'; '.join(problems)}")
        name = f"proc-{proc}"
        services.append(ServiceCheck(name, command_name(name), "procs", arguments(options),
                                     proc_interval or default_interval))
    _validate(host, services)
    return tuple(services)


def validate_name(kind: str, name: str) -> None:
    bad = sorted(set(name) & _ILLEGAL)
    if not name or bad or name != name.strip():
        raise PlanError(f"{kind} {name!r} cannot be a Nagios name"
                        + (f" (it holds {''.join(bad)!r})" if bad else "") + ": rename it in config.yaml")


def _validate(host: Host, services: list[ServiceCheck]) -> None:
    validate_name("host", host.name)
    validate_name("address of host " + host.name, host.address)
    seen: dict[str, str] = {}
    for s in services:
        validate_name("check", s.service)
        if s.service == NRPE_SERVICE:
            raise PlanError(f"check name {NRPE_SERVICE!r} is taken by the NRPE service itself: rename the check")
        if s.command in seen:
            raise PlanError(f"checks {seen[s.command]!r} and {s.service!r} both become NRPE command {s.command}")
        seen[s.command] = s.service
