"""Probes from config: the probe connection (scoped to the dedicated project), one run of a kind, the reaper
over every kind, and the series both write. Used by `stackwatch probe`, `stackwatch-check probe-<kind>` and
serve's scheduled jobs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from stackwatch.checks.probes import core, probe_class
from stackwatch.checks.probes.runner import execute, reap
from stackwatch.openstack.api import Api, ApiError
from stackwatch.openstack.config import PROBE_KINDS, OpenStackConfig
from stackwatch.openstack.connection import ConnectionProblem, one_line


def connect_probe_api(config: OpenStackConfig) -> Api:
    """An Api authenticated now, scoped to the probe project when one is configured."""
    from stackwatch.openstack.connection import connect

    conn = connect(config.cloud, region=config.region, timeout=config.timeout, authenticate=True)
    project = config.probes.project
    if project and project not in (conn.current_project_id, getattr(conn.current_project, "name", None)):
        import keystoneauth1.exceptions
        import openstack.exceptions

        try:
            conn = conn.connect_as_project(project)
            conn.authorize()
        except (openstack.exceptions.SDKException, keystoneauth1.exceptions.ClientException) as exc:
            raise ConnectionProblem(f"cannot work in probe project {project!r}: {type(exc).__name__}: "
                                    f"{one_line(str(exc))}") from None
    return Api(conn, config.timeout)


def run_probe(kind: str, config: OpenStackConfig, lock_dir: Path, budget: float | None = None,
              api_factory: Callable[[OpenStackConfig], Api] = connect_probe_api) -> core.ProbeResult:
    """One run of the `kind` probe. Connecting (authentication) is its first step (a failure there is CRITICAL too); only a
    missing configuration or a busy lock is UNKNOWN."""
    cls = probe_class(kind)
    started = time.monotonic()
    try:
        api = api_factory(config)
    except ConnectionProblem as exc:
        if str(exc).startswith("no cloud configured"):
            return core.ProbeResult(kind, "", (), unknown=str(exc))
        return core.ProbeResult(kind, "", (core.Step("connect", time.monotonic() - started, str(exc)),))
    except ApiError as exc:
        return core.ProbeResult(kind, "", (core.Step("connect", time.monotonic() - started, exc.line(),
                                                     exc.request_id),))
    auth = core.Step("connect", time.monotonic() - started)
    if budget is not None:
        budget -= auth.seconds
    result = execute(cls(api, config.probes), lock_dir, config.probes.step_timeout, budget)
    if result.unknown:
        return result
    return result._replace(steps=(auth,) + result.steps)


def reap_all(config: OpenStackConfig, lock_dir: Path, now: float, max_age: float | None = None,
             kinds: tuple[str, ...] = PROBE_KINDS,
             api_factory: Callable[[OpenStackConfig], Api] = connect_probe_api) -> dict[str, tuple[int, list[str]]]:
    """{kind: (leftovers found, errors)} after deleting every probe leftover older than `max_age` (default: the
    configured reaper_max_age). A kind whose service is missing or down reports its error and keeps going."""
    api = api_factory(config)
    age = config.probes.reaper_max_age if max_age is None else max_age
    out = {}
    for kind in kinds:
        try:
            out[kind] = reap(probe_class(kind)(api, config.probes), lock_dir, now, age)
        except ApiError as exc:
            out[kind] = (0, [exc.line()])
    return out


def leaked_samples(found: dict[str, tuple[int, list[str]]], now: float) -> list:
    from stackwatch.model import Kind, Sample, SeriesKey

    return [Sample(SeriesKey.of("stackwatch_probe_leaked_resources", {"kind": kind}), now, float(n), Kind.GAUGE,
                   "Probe resources the reaper found left over (older than the reaper's age limit)")
            for kind, (n, _errors) in sorted(found.items())]
