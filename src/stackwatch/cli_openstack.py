"""The OpenStack commands: `quota-report` (the guide's Resource | Used | Limit | % per project), `probe KIND`
(one probe now, its steps with timings) and `probe-reaper` (delete probe leftovers). Registered on the
`stackwatch` click group by `cli.py`.

The cloud is config.yaml's `openstack:` section, or the OS_* environment when the section is absent.
"""

from __future__ import annotations

import json
import sys
import time

import click

from stackwatch.cli import cli, config_options, fail


def openstack_config(config):
    from stackwatch.openstack.config import OpenStackConfig

    oc = getattr(config, "openstack", None)
    return oc if oc is not None and oc.enabled else OpenStackConfig(enabled=True)


@cli.command("quota-report")
@config_options
@click.option("--project", default=None, help="Only this project (name or id).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def quota_report(config, project: str | None, fmt: str) -> None:
    """Quotas per project: Resource | Used | Limit | % (rows over 80% marked '!')."""
    from stackwatch.openstack import quotas
    from stackwatch.openstack.api import ApiError
    from stackwatch.openstack.connection import ConnectionProblem
    from stackwatch.openstack.source import InventorySource

    source = InventorySource(openstack_config(config))
    try:
        rows = source.quota_rows(project)
    except (ApiError, ConnectionProblem, LookupError) as exc:
        fail(str(exc))
    finally:
        source.close()
    click.echo({"table": quotas.table, "csv": quotas.to_csv, "json": quotas.to_json}[fmt](rows), nl=fmt != "csv")


@cli.command("probe")
@config_options
@click.argument("kind", type=click.Choice(["image", "instance", "user", "object", "volume"]))
@click.option("--json", "as_json", is_flag=True, help="The run as JSON.")
def probe(config, kind: str, as_json: bool) -> None:
    """Run one probe now and print its steps with timings (exit code: the Nagios state)."""
    from stackwatch.checks.probes import core
    from stackwatch.checks.probes.service import run_probe

    oc = openstack_config(config)
    if kind == "instance" and not oc.probes.image:
        fail("the instance probe needs openstack.probes.image in config.yaml")
    result = run_probe(kind, oc, config.data_dir)
    outcome = core.evaluate(result, oc.probes.slow)
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "state": outcome.state.name, "summary": outcome.summary},
                              indent=2))
    else:
        click.echo(f"{kind.upper()} PROBE {outcome.state.name} - {outcome.summary}")
        for step in result.steps:
            mark = "ok" if step.ok else "FAILED"
            line = f"  {step.name:<16} {step.seconds:8.2f}s  {mark}"
            if not step.ok:
                line += f"  {step.error}"
                if step.request_id:
                    line += f"  (trace: {core.trace_path(step.request_id)})"
            click.echo(line)
        for error in result.cleanup_errors:
            click.echo(f"  cleanup: {error}")
    sys.exit(int(outcome.state))


@cli.command("probe-reaper")
@config_options
@click.option("--max-age", default=None, help="Delete leftovers older than this (default: probes.reaper_max_age).")
def probe_reaper(config, max_age: str | None) -> None:
    """Delete probe leftovers (resources named stackwatch-probe-*) older than the age limit."""
    from stackwatch.checks.probes.service import reap_all
    from stackwatch.openstack.api import ApiError
    from stackwatch.openstack.connection import ConnectionProblem
    from stackwatch.timespec import parse_duration

    try:
        age = None if max_age is None else parse_duration(max_age)
    except ValueError as exc:
        fail(f"--max-age: {exc}")
    try:
        found = reap_all(openstack_config(config), config.data_dir, time.time(), age)
    except (ApiError, ConnectionProblem) as exc:
        fail(str(exc))
    status = 0
    for kind, (n, errors) in found.items():
        click.echo(f"{kind:<9} {n} leftover(s)" + (f"; {len(errors)} not deleted: {errors[0]}" if errors else ""))
        status = status or (1 if errors else 0)
    sys.exit(status)
