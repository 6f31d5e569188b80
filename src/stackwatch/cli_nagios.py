"""The Nagios commands: `nrpe-config --host H` (one host's NRPE commands) and `nagios-config` (the Nagios
object files for the whole inventory, `--passive` for services stackwatch feeds through the command file).
Registered on the `stackwatch` click group by `cli.py`.
"""

from __future__ import annotations

from pathlib import Path

import click

from stackwatch.cli import cli, config_options, fail

_NO_SECTION = ("config.yaml has no nagios: section; add at least `nagios: {server: ADDRESS}` "
               "(the Nagios server NRPE answers)")


@cli.command("nrpe-config")
@config_options
@click.option("--host", "host_name", default=None, help="Inventory host (default: this machine's).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the file (e.g. /etc/nagios/nrpe.d/stackwatch.cfg) instead of printing it.")
@click.option("--check-program", default=None, metavar="PATH",
              help="stackwatch-check on that host (default: nagios.nrpe.check_program, else this one's).")
def nrpe_config(config, host_name: str | None, output: Path | None, check_program: str | None) -> None:
    """NRPE command definitions for one host's checks: fixed commands, no client arguments. The host that
    runs the cloud-wide checks (nagios.cloud_checks_host, else a monitoring host, else the first controller)
    also gets those of checks.cloud."""
    from stackwatch.nagios import nrpe
    from stackwatch.nagios.plan import PlanError

    if config.nagios is None:
        fail(_NO_SECTION)
    host = _host(config, host_name)
    try:
        text = nrpe.render(config, host, check_program)
    except PlanError as exc:
        fail(str(exc))
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)
    click.echo(f"wrote {output}", err=True)


@cli.command("nagios-config")
@config_options
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the object files into this directory (cfg_dir it from nagios.cfg) instead of printing.")
@click.option("--passive", is_flag=True,
              help="Services take stackwatch's passive results (active checks off, freshness on).")
def nagios_config(config, output: Path | None, passive: bool) -> None:
    """Nagios objects: hosts, host groups per role, services, contacts, time periods, dependencies; the
    cloud-wide checks of checks.cloud on virtual host `openstack` (or their host:), group openstack-cloud."""
    from stackwatch.nagios import objects
    from stackwatch.nagios.plan import PlanError

    if config.nagios is None:
        fail(_NO_SECTION)
    try:
        files = objects.render(config, passive=passive)
    except PlanError as exc:
        fail(str(exc))
    if output is None:
        for name, text in files.items():
            click.echo(f"# ==> {name} <==")
            click.echo(text.rstrip("\n"))
            click.echo("")
        return
    for path in objects.write(files, output):
        click.echo(f"wrote {path}", err=True)


def _host(config, name: str | None):
    if name is None:
        name = config.hostname
        if not any(h.name == name for h in config.inventory.hosts):
            fail(f"this machine ({name}) is not an inventory host: give --host "
                 f"({', '.join(h.name for h in config.inventory.hosts)})")
    try:
        return config.inventory.host(name)
    except KeyError as exc:
        fail(exc.args[0])
