"""The centralized-logs commands: `logs parse|ingest|search|receive`, `trace ID` and
`rsyslog-config client|server`. Registered on the `stackwatch` click group by `cli.py`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from stackwatch.cli import cli, config_options, fail


def _open_events(config):
    """The configured event store (and the SQLite store behind the rest), or one clear error."""
    from stackwatch.store.events_backend import open_event_store
    from stackwatch.store.sqlite import StoreError, open_store

    try:
        store = open_store(config.database_path, config.metrics)
        return store, open_event_store(config, store)
    except StoreError as exc:
        fail(str(exc))


def _since(text: str | None, now: float) -> float | None:
    """'15m' (ago), an ISO date/time, or epoch seconds."""
    if text is None:
        return None
    from datetime import datetime, timezone

    from stackwatch.timespec import parse_duration

    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r}: use a duration (15m, 2h), an ISO time or epoch seconds") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


@cli.group()
def logs() -> None:
    """Centralized logs: parse, ingest, receive and search."""


@logs.command("parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--syslog", is_flag=True, help="Lines are syslog messages (as rsyslog writes files).")
@click.option("--host", default="", help="The host the files were read on (oslo.log files do not say).")
@click.option("--timezone", "tz", default="UTC", show_default=True, help="Zone of times written without one.")
def logs_parse(files: tuple[Path, ...], syslog: bool, host: str, tz: str) -> None:
    """Print the parsed records of FILES as JSON lines, storing nothing."""
    from zoneinfo import ZoneInfo

    from stackwatch.rsyslog.parse import parse_lines, to_json

    out = sys.stdout
    for path in files:
        with path.open("rb") as fh:
            for record in parse_lines(fh, syslog=syslog, source=str(path), tz=ZoneInfo(tz), host=host,
                                      now=path.stat().st_mtime):
                out.write(json.dumps(to_json(record), ensure_ascii=False) + "\n")


@logs.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_options
@click.option("--syslog", is_flag=True, help="Lines are syslog messages (as rsyslog writes files).")
@click.option("--host", default=None, help="The host the files were read on (default: this one).")
def logs_ingest(config, files: tuple[Path, ...], syslog: bool, host: str | None) -> None:
    """Parse FILES and store their records (a past incident's logs, a colleague's tarball)."""
    from stackwatch.rsyslog.ingest import LogIngest
    from stackwatch.rsyslog.parse import parse_lines

    store, events = _open_events(config)
    ingest = LogIngest(events, host or config.hostname, config.logs.facility_services(), config.logs.timezone,
                       metric_store=store.metrics)
    total = 0
    for path in files:
        batch = []
        with path.open("rb") as fh:
            for record in parse_lines(fh, syslog=syslog, source=str(path), tz=ingest.tz,
                                      host=host or config.hostname, now=path.stat().st_mtime,
                                      facility_services=ingest.facility_services):
                batch.append(record)
                if len(batch) >= 5000:
                    total += ingest.store_records(batch, time.time())
                    batch = []
        total += ingest.store_records(batch, time.time())
    ingest.flush_metrics(time.time())
    store.close()
    click.echo(f"stored {total} record(s) from {len(files)} file(s)", err=True)


@logs.command("search")
@click.argument("text", nargs=-1)
@config_options
@click.option("--since", default=None, help="Start: a duration ago (15m, 2h), an ISO time or epoch seconds.")
@click.option("--until", default=None, help="End, same forms.")
@click.option("--host", default=None)
@click.option("--service", default=None)
@click.option("--level", default=None, help="INFO, WARNING, ERROR, CRITICAL...")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines.")
def logs_search(config, text: tuple[str, ...], since, until, host, service, level, limit: int, as_json: bool) -> None:
    """Records matching every word of TEXT and the filters, newest first."""
    from stackwatch.rsyslog.trace import event_json, format_line

    now = time.time()
    filters = {k: v for k, v in (("host", host), ("service", service),
                                 ("severity", level.upper() if level else None)) if v}
    store, events = _open_events(config)
    found = events.search(" ".join(text) or None, _since(since, now), _since(until, now), filters, limit)
    for e in found:
        click.echo(json.dumps(event_json(e), ensure_ascii=False) if as_json else format_line(e))
    store.close()
    if not found and not as_json:
        click.echo("no matching records", err=True)


@cli.command()
@click.argument("ident")
@config_options
@click.option("--since", default=None, help="Only records after this (duration ago, ISO time, epoch).")
@click.option("--until", default=None)
@click.option("--json", "as_json", is_flag=True)
def trace(config, ident: str, since, until, as_json: bool) -> None:
    """Every record naming IDENT (an instance UUID or a request id), across hosts and services, in order."""
    from stackwatch.rsyslog.trace import build_trace, format_text, trace_json

    now = time.time()
    store, events = _open_events(config)
    t = build_trace(ident, events.trace(ident, _since(since, now), _since(until, now)))
    store.close()
    click.echo(json.dumps(trace_json(t), ensure_ascii=False, indent=2) if as_json else format_text(t))
    if not t.events:
        sys.exit(1)


@logs.command("receive")
@config_options
@click.option("-v", "--verbose", count=True)
def logs_receive(config, verbose: int) -> None:
    """Run only the log inputs (syslog receivers, file tailers) into the store, until SIGTERM."""
    import signal
    import threading

    from stackwatch import logsetup
    from stackwatch.logs_runtime import LogRuntime, LogInputError

    logsetup.configure(verbose)
    store, events = _open_events(config)
    try:
        lr = LogRuntime.build(config, events, store.metrics)
        lr.start()
    except LogInputError as exc:
        store.close()
        fail(str(exc))
    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())
    click.echo(f"receiving logs: {lr.describe()}", err=True)
    while not stop.wait(60):
        lr.flush_metrics(time.time())
    lr.stop()
    store.close()
    click.echo("stopped", err=True)


@cli.group("rsyslog-config")
def rsyslog_config() -> None:
    """Generate rsyslog configuration from the inventory."""


def _write_files(files: dict[str, str], output: Path | None) -> None:
    for name, content in files.items():
        if output is None:
            click.echo(f"# ==> {name} <==")
            click.echo(content.rstrip("\n"))
            click.echo("")
        else:
            target = output / name.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            click.echo(f"wrote {target}", err=True)


@rsyslog_config.command("client")
@config_options
@click.option("--host", "host_name", default=None, help="Inventory host (default: this machine's).")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the files under this directory instead of printing them.")
def rsyslog_client(config, host_name: str | None, output: Path | None) -> None:
    """The OpenStack services' syslog settings and /etc/rsyslog.d forwarding for one host."""
    from stackwatch.logs_runtime import client_files

    try:
        files = client_files(config, host_name)
    except (KeyError, ValueError) as exc:
        fail(str(exc.args[0] if exc.args else exc))
    _write_files(files, output)


@rsyslog_config.command("server")
@config_options
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None)
def rsyslog_server(config, output: Path | None) -> None:
    """The central rsyslog receiver: a file per host, one for all hosts, and forwarding into stackwatch."""
    from stackwatch.logs_runtime import server_files

    try:
        files = server_files(config)
    except (KeyError, ValueError) as exc:
        fail(str(exc.args[0] if exc.args else exc))
    _write_files(files, output)
