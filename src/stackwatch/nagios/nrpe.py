"""The NRPE include file for one inventory host: one fixed `command[sw_...]` line per service the plan
gives the host (and, on the host that runs them, per cloud-wide check of `checks.cloud`: cloud.py),
`dont_blame_nrpe=0` and the Nagios server(s) as `allowed_hosts`. Only references to secrets are written
(a password file or variable, a clouds.yaml name): plan.arguments refuses the rest.

Rendered with Jinja2 from templates/nrpe.cfg.j2 (not HTML: no autoescape; the plan refuses names and
options holding line breaks, and every argument is shell-quoted, as NRPE runs commands through /bin/sh).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import jinja2

from stackwatch.inventory import Host
from stackwatch.nagios.cloud import check_clashes, cloud_hosts, runner_services
from stackwatch.nagios.plan import PlanError, ServiceCheck, host_services

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("stackwatch.nagios", "templates"), autoescape=False,
                          trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                          undefined=jinja2.StrictUndefined)


def default_check_program() -> str:
    """The stackwatch-check beside the running Python (its venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("stackwatch-check")
    if beside.exists() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("stackwatch-check")
    return os.path.abspath(found) if found else "stackwatch-check"


def render(config, host: Host, program: str | None = None) -> str:
    """nrpe.cfg lines for `host` (config.nagios must be set: it names the allowed hosts)."""
    nagios = config.nagios
    program = program or nagios.nrpe.check_program or default_check_program()
    if any(ord(ch) < 32 for ch in program):
        raise PlanError(f"the check program {program!r} holds a line break or control character")
    services: tuple[ServiceCheck, ...] = host_services(config, host)
    cloud: tuple[ServiceCheck, ...] = runner_services(config, host)
    if cloud:
        check_clashes({host.name: services}, cloud_hosts(config), host, set())
    return _ENV.get_template("nrpe.cfg.j2").render(host=host, source=config.path, allowed_hosts=nagios.allowed_hosts,
                                                   services=services, cloud=cloud, program=program)
