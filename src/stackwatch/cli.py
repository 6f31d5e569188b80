"""The `stackwatch` command: a click group whose subcommands load config.yaml once and wire adapters.

Every subcommand that reads config or data takes `--config PATH` and `--data-dir DIR` after its name.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from stackwatch import __version__


def config_options(func):
    """Add --config and --data-dir; the command receives the loaded Config as `config`."""

    @click.option("--config", "config_path", envvar="STACKWATCH_CONFIG", default="config.yaml",
                  show_default=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="The config.yaml to load.")
    @click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="Where the database lives (default: the config's data_dir).")
    @functools.wraps(func)
    def wrapper(config_path: Path, data_dir: Path | None, **kwargs):
        return func(config=load(config_path, data_dir), **kwargs)

    return wrapper


def load(config_path: Path, data_dir: Path | None = None):
    from stackwatch.config import ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if data_dir is not None:
        config = config.with_data_dir(data_dir.resolve())
    return config


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def existing_store(config, notifications: bool = False):
    """The embedded store `serve` has written (exit 1 with why when there is none or it cannot be opened); with
    notifications=True its `notifications` is the archive config.yaml names (SQLite's or Elasticsearch)."""
    from stackwatch.store.sqlite import StoreError, open_store

    if not config.database_path.exists():
        fail(f"no database at {config.database_path}: has `stackwatch serve` run with this data directory?")
    try:
        store = open_store(config.database_path, config.metrics)
    except StoreError as exc:
        fail(str(exc))
    if notifications:
        from stackwatch.notifications_runtime import open_notification_store

        try:
            store.notifications = open_notification_store(config, store)
        except Exception as exc:                  # StoreUnavailable, a bad URL...
            store.close()
            fail(f"notification archive: {exc}")
    return store


@click.group()
@click.version_option(__version__, prog_name="stackwatch")
def cli() -> None:
    """Monitoring, logging and alerting for OpenStack clouds."""


@cli.command()
@config_options
@click.option("--listen", default=None, metavar="HOST:PORT", help="Override web.listen.")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def serve(config, listen: str | None, verbose: int) -> None:
    """Run the whole platform: checks, collectors, alerting and the web UI."""
    from stackwatch import logsetup
    from stackwatch.config import parse_listen
    from stackwatch.serve import ServeError, serve as run
    from stackwatch.store.sqlite import StoreError

    logsetup.configure(verbose)
    host, port = config.web.listen_host, config.web.listen_port
    if listen:
        try:
            host, port = parse_listen(listen)
        except ValueError as exc:
            fail(str(exc))
    try:
        run(config, host, port)
    except (ServeError, StoreError) as exc:
        fail(str(exc))


@cli.group("config")
def config_group() -> None:
    """Inspect config.yaml."""


@config_group.command("check")
@config_options
def config_check(config) -> None:
    """Validate config.yaml: exit 0, or 1 with every problem and its dotted path."""
    checks = sum(len(c.hosts) for c in config.checks)
    cloud = len(getattr(config, "cloud_checks", ()))
    click.echo(f"{config.path}: OK ({len(config.inventory.hosts)} host(s), {checks} scheduled check(s), "
               f"{cloud} cloud check(s), "
               f"{len(config.collectors)} collector(s), {len(config.alerting.rules)} alert rule(s); "
               f"database {config.database_path})")


@cli.command()
@config_options
@click.option("--host", default=None, help="Only this host.")
def status(config, host: str | None) -> None:
    """Print the current state of every check, worst first (exit code: the worst state, as Nagios)."""
    import time

    from stackwatch.model import worst

    store = existing_store(config)
    now = time.time()
    rows = sorted(store.checks.current(host), key=lambda c: (-c.state.severity, c.host, c.check))
    for c in rows:
        click.echo(f"{c.state.name:<9} {c.host:<20} {c.check:<28} {int(now - c.timestamp):>5}s ago  {c.summary}")
    store.close()
    sys.exit(int(worst(c.state for c in rows)) if rows else 3)


from stackwatch import cli_events, cli_logs  # noqa: E402,F401  (register the events, logs, trace, rsyslog-config commands)
from stackwatch import cli_reports  # noqa: E402,F401  (register `report`)
from stackwatch import cli_nagios  # noqa: E402,F401  (register the nrpe-config and nagios-config commands)
from stackwatch import cli_openstack  # noqa: E402,F401  (register quota-report, probe, probe-reaper)
from stackwatch import cli_alerts  # noqa: E402,F401  (register alerts list|show|ack|silence|unsilence|maint)
from stackwatch import cli_coverage  # noqa: E402,F401  (register `coverage`)
