"""Which OpenStack service a log record belongs to, from its program (syslog tag or file name),
its logger name, its log directory, or a facility the deployer assigned to a service.

Pure: stdlib only.
"""

from __future__ import annotations

import re
from typing import Mapping

#: OpenStack services (and their log directories / binary prefixes).
SERVICES = frozenset((
    "nova", "glance", "cinder", "keystone", "neutron", "swift", "placement", "heat", "horizon", "ironic",
    "octavia", "designate", "manila", "barbican", "aodh", "ceilometer", "gnocchi", "panko", "magnum",
    "trove", "sahara", "zaqar", "senlin", "watcher", "masakari", "cyborg", "blazar", "mistral", "murano",
    "tacker", "vitrage", "zun", "kuryr", "cloudkitty", "freezer", "monasca", "skyline", "venus", "adjutant",
))
_WORD = re.compile(r"[A-Za-z]+")
_CACHE_MAX = 4096
_service_cache: dict[tuple[str, str | None, str], str] = {}
_program_cache: dict[str, tuple[str, str]] = {}


def _first_word(name: str) -> str:
    m = _WORD.match(name)
    return m.group(0).lower() if m else ""


def service_for(program: str, logger: str | None, directory_service: str = "", facility: int | None = None,
                facility_services: Mapping[int, str] | None = None) -> str:
    """'nova-compute' / 'nova.compute.manager' / '/var/log/nova' / local3 -> 'nova'; '' when unknown."""
    key = (program, logger, directory_service)
    hit = _service_cache.get(key)
    if hit is None:
        hit = ""
        for name in (program, logger or "", directory_service):
            word = _first_word(name)
            if word in SERVICES:
                hit = word
                break
        if len(_service_cache) >= _CACHE_MAX:
            _service_cache.clear()
        _service_cache[key] = hit
    if not hit and facility is not None and facility_services:
        return facility_services.get(facility, "")
    return hit


def program_from_path(path: str) -> tuple[str, str]:
    """A log file's path -> (program, service of its directory).

    '/var/log/nova/nova-compute.log.1' -> ('nova-compute', 'nova'); '/var/log/neutron/server.log' ->
    ('neutron-server', 'neutron'), which is the binary's name.
    """
    hit = _program_cache.get(path)
    if hit is not None:
        return hit
    parts = path.replace("\\", "/").rstrip("/").split("/")
    name = parts[-1]
    cut = name.find(".log")
    program = name[:cut] if cut > 0 else name
    directory = parts[-2].lower() if len(parts) > 1 else ""
    dir_service = directory if directory in SERVICES else ""
    if dir_service and program and not program.lower().startswith(dir_service):
        program = f"{dir_service}-{program}"
    if len(_program_cache) >= _CACHE_MAX:
        _program_cache.clear()
    _program_cache[path] = (program, dir_service)
    return program, dir_service
