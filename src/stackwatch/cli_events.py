"""The notification commands (StackTach's stacky, done again): `events parse|show|request|timings|errors|
audit|consume`. Registered on the `stackwatch` click group by `cli.py`.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import click

from stackwatch.cli import cli, config_options, fail
from stackwatch.stacktach.ingest import notifications_of


def _store(config):
    """The embedded store, its `notifications` the archive config.yaml names (SQLite's or Elasticsearch)."""
    from stackwatch.notifications_runtime import open_notification_store
    from stackwatch.store.sqlite import StoreError, open_store

    try:
        store = open_store(config.database_path, config.metrics)
    except StoreError as exc:
        fail(str(exc))
    try:
        store.notifications = open_notification_store(config, store)
    except Exception as exc:                  # StoreUnavailable, a bad URL...
        store.close()
        fail(f"notification archive: {exc}")
    return store


def _when(text: str | None, now: float) -> float | None:
    from stackwatch.cli_logs import _since

    return _since(text, now)


def _iso(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


@cli.group()
def events() -> None:
    """Notifications from nova, glance, cinder, neutron and keystone: parse, consume, inspect, audit."""


@events.command("parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def events_parse(files: tuple[Path, ...]) -> None:
    """Print FILES' notifications normalized, as JSON lines (a JSON file, or one body per line)."""
    from stackwatch.stacktach.notification import MalformedNotification, decode

    bad = 0
    for path in files:
        data = path.read_bytes()
        stripped = data.strip()
        bodies = [stripped] if stripped.startswith(b"{") and b"\n{" not in stripped else data.splitlines()
        for body in bodies:
            if not body.strip():
                continue
            try:
                n = decode(body)
            except MalformedNotification as exc:
                bad += 1
                click.echo(json.dumps({"error": exc.reason, "detail": exc.detail, "file": str(path)}))
                continue
            doc = asdict(n)
            doc.pop("raw")
            click.echo(json.dumps(doc, default=str, ensure_ascii=False))
    if bad:
        click.echo(f"{bad} bod(ies) could not be decoded", err=True)


@events.command("show")
@click.argument("uuid")
@config_options
@click.option("--json", "as_json", is_flag=True)
def events_show(config, uuid: str, as_json: bool) -> None:
    """An instance's lifecycle: its state history and its operations with their durations."""
    from stackwatch.stacktach.lifecycle import build_lifecycle

    store = _store(config)
    notes = notifications_of(store.notifications.query(instance=uuid, limit=100000))
    store.close()
    if not notes:
        click.echo(f"no notifications for instance {uuid}", err=True)
        sys.exit(1)
    lc = build_lifecycle(notes, time.time(), config.notifications.stuck_after)
    if as_json:
        click.echo(json.dumps(asdict(lc), default=str, indent=2))
        return
    click.echo(f"instance {uuid}  tenant {lc.tenant_id}  flavor {lc.flavor}  host {lc.host}  "
               f"launched {_iso(lc.launched_at)}  deleted {_iso(lc.deleted_at)}")
    click.echo("operations:")
    for op in lc.operations:
        took = "-" if op.duration is None else f"{op.duration:.3f}s"
        click.echo(f"  {op.operation:<16} {op.outcome:<9} {took:>10}  from {_iso(op.start)} on {op.host or '-'}"
                   + (f"  error: {op.error}" if op.error else ""))
    click.echo("states:")
    for s in lc.states:
        click.echo(f"  {_iso(s.timestamp)} {s.name:<32} {s.old_state or '-'} -> {s.state or '-'}"
                   f" task {s.task_state or '-'}")
    click.echo(f"log trace: stackwatch trace {uuid}")


@events.command("request")
@click.argument("request_id")
@config_options
def events_request(config, request_id: str) -> None:
    """Every notification of one request id (or global request id), in order."""
    store = _store(config)
    rows = store.notifications.query(request_id=request_id, limit=100000)
    store.close()
    for r in rows:
        click.echo(f"{_iso(r.ts)} {r.service:<8} {r.host:<16} {r.name:<36} {r.instance_uuid or '-'}")
    if not rows:
        click.echo(f"no notifications for request {request_id}", err=True)
        sys.exit(1)


@events.command("errors")
@config_options
@click.option("--since", default="1d", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def events_errors(config, since: str, as_json: bool) -> None:
    """Error notifications (.error events, faults, wrap_exception), newest first."""
    from stackwatch.stacktach.errors import error_events

    store = _store(config)
    rows = store.notifications.query(errors_only=True, start=_when(since, time.time()), limit=10000,
                                     newest_first=True)
    store.close()
    for e in error_events(notifications_of(rows)):
        if as_json:
            click.echo(json.dumps(asdict(e), default=str))
        else:
            click.echo(f"{_iso(e.time)} {e.service:<8} {e.host or '-':<16} {e.name:<32} {e.instance_uuid or '-'} "
                       f"{e.exception or ''}: {e.message or ''}")


@events.command("timings")
@config_options
@click.option("--operation", default=None, help="create (boot), delete, resize, rebuild, snapshot...")
@click.option("--by", "dimension", default="flavor", show_default=True,
              type=click.Choice(["flavor", "image", "host", "cell"]))
@click.option("--since", default="90d", show_default=True)
def events_timings(config, operation: str | None, dimension: str, since: str) -> None:
    """Operation durations: p50 / p95 / p99 per flavor, image, host or cell."""
    from stackwatch.stacktach.lifecycle import timing_stats, timings

    now = time.time()
    store = _store(config)
    notes = notifications_of(store.notifications.query(start=_when(since, now), limit=10_000_000))
    store.close()
    ops = [o for o in timings(notes, now, config.notifications.stuck_after)
           if operation is None or o.operation == operation]
    click.echo(f"{'operation':<14} {dimension:<20} {'n':>6} {'failed':>6} {'stuck':>6} {'p50':>9} {'p95':>9} {'p99':>9}")
    for row in sorted(timing_stats(ops, (dimension,)), key=lambda r: (r.operation, str(r.key))):
        fmt = lambda v: "-" if v is None else f"{v:.2f}s"  # noqa: E731
        click.echo(f"{row.operation:<14} {str(row.key):<20} {row.count:>6} {row.failed:>6} {row.stuck:>6} "
                   f"{fmt(row.p50):>9} {fmt(row.p95):>9} {fmt(row.p99):>9}")


@events.command("audit")
@config_options
@click.option("--start", required=True, help="ISO date/time or epoch seconds (UTC)")
@click.option("--end", required=True)
@click.option("--json", "as_json", is_flag=True)
def events_audit(config, start: str, end: str, as_json: bool) -> None:
    """Check compute.instance.exists against the lifecycles for a period; usage per tenant and flavor."""
    from stackwatch.stacktach.audit import audit
    from stackwatch.stacktach.lifecycle import lifecycles

    now = time.time()
    s, e = _when(start, now), _when(end, now)
    store = _store(config)
    # exists notifications for a period are emitted after it ends: read past the end; the audit
    # itself matches them by their audit_period_beginning/ending
    notes = notifications_of(store.notifications.query(limit=10_000_000))
    store.close()
    report = audit(lifecycles(notes, now, config.notifications.stuck_after), notes, s, e)
    if as_json:
        click.echo(json.dumps(asdict(report), default=str, indent=2))
        return
    counts = {k: len(report.with_status(k)) for k in ("verified", "failed", "missing")}
    click.echo(f"audit {_iso(s)} .. {_iso(e)}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    for a in report.instances:
        if a.status != "verified":
            click.echo(f"  {a.status:<8} {a.instance_uuid} tenant {a.tenant_id}: {'; '.join(a.reasons)}")
    click.echo(f"{'tenant':<34} {'flavor':<12} {'instances':>9} {'inst-hours':>11} {'vcpu-hours':>11} {'ram-GB-h':>10}")
    for u in report.usage:
        click.echo(f"{str(u.tenant_id):<34} {str(u.flavor):<12} {u.instances:>9} {u.instance_hours:>11.2f} "
                   f"{u.vcpu_hours:>11.2f} {u.ram_gb_hours:>10.2f}")


@events.command("consume")
@config_options
@click.option("-v", "--verbose", count=True)
def events_consume(config, verbose: int) -> None:
    """Run only the notification consumers (every configured deployment) into the archive, until SIGTERM."""
    import signal
    import threading

    from stackwatch import logsetup
    from stackwatch.notifications_runtime import NotificationRuntime

    logsetup.configure(verbose)
    if not config.notifications.deployments:
        fail("no notifications.deployments in the config: nothing to consume")
    store = _store(config)
    rt = NotificationRuntime.build(config, store.notifications)
    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())
    rt.start()
    click.echo(f"consuming notifications: {rt.describe()}", err=True)
    while not stop.wait(10):
        for c in rt.consumers:
            if c.error is not None:
                rt.stop()
                store.close()
                fail(f"consumer {c.deployment}: {c.error}")
    rt.stop()
    store.close()
    click.echo(f"stopped: {rt.ingest.stored} stored, {rt.ingest.duplicates} duplicate(s), "
               f"{sum(rt.ingest.dead.values())} dead letter(s)", err=True)


@events.command("watch")
@config_options
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks at the archive.")
@click.option("--errors", "errors_only", is_flag=True, help="Only error notifications.")
def events_watch(config, interval: float, errors_only: bool) -> None:
    """Print notifications as they are stored (by serve or `events consume`), until Ctrl-C."""
    store = _store(config)
    # what is already there (ids grow with insertion in either archive) is not printed
    seen = max((r.id for r in store.notifications.query(start=time.time() - 3600, limit=100000)), default=0)
    try:
        while True:
            rows = [r for r in store.notifications.query(start=time.time() - 3600, errors_only=errors_only,
                                                         limit=100000) if r.id > seen]
            for r in rows:
                seen = max(seen, r.id)
                click.echo(f"{_iso(r.ts)} {r.service:<8} {r.host:<16} {r.name:<36} {r.instance_uuid or '-'} "
                           f"{r.old_state or ''}{' -> ' + r.state if r.state else ''}{'  ERROR' if r.is_error else ''}")
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
