"""The alert commands: `stackwatch alerts list|show|ack|silence|unsilence|maint|deliveries|retry`. Registered on the
`stackwatch` click group by `cli.py`; they read and write the same database `serve` uses, and the running
pager picks up acks, silences and maintenance windows on its next pass.
"""

from __future__ import annotations

import getpass
import json
import time
from datetime import datetime, timezone

import click

from stackwatch.cli import cli, config_options, existing_store, fail


def _store(config):
    return existing_store(config)


def _iso(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers): the author must then be given
        return ""


def _one(store, fp: str):
    found = store.alerts.find(fp)
    exact = [a for a in found if a.fingerprint == fp]
    if exact:
        return exact[0]
    if not found:
        fail(f"no alert with fingerprint {fp!r} (see `stackwatch alerts list`)")
    if len(found) > 1:
        fail(f"{fp!r} is ambiguous: {', '.join(a.fingerprint for a in found)}")
    return found[0]


def _labels(a) -> str:
    return ",".join(f"{k}={v}" for k, v in a.labels if k not in ("alertname", "severity"))


@cli.group()
def alerts() -> None:
    """Alerts: list and inspect them, acknowledge, silence, and plan maintenance windows."""


@alerts.command("list")
@config_options
@click.option("--all", "show_all", is_flag=True, help="Also the recently resolved ones.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def alerts_list(config, show_all: bool, as_json: bool) -> None:
    """Active alerts, most severe first: state, severity, rule, labels, mute mark and acknowledgement."""
    store = _store(config)
    now = time.time()
    rows = store.alerts.recent(500) if show_all else store.alerts.active()
    from stackwatch.alerting.silence import mute_reason
    from stackwatch.store.sqlite.acks import SqliteAckStore
    from stackwatch.store.sqlite.silences import SqliteSilenceStore

    acks = SqliteAckStore(store.db).latest()
    mutes = SqliteSilenceStore(store.db)
    silences, windows = mutes.silences(now), mutes.maintenance(now)
    roles_of = {h.name: h.roles for h in config.inventory.hosts}
    for a in rows:
        ack = acks.get(a.fingerprint)
        acked = ack.author if ack and ack.active(now, a.fired_at, a.state.value == "firing") else ""
        if a.state.value in ("firing", "pending"):  # as of now, even between the pager's passes
            a = a.evolve(muted=mute_reason(dict(a.labels), now, silences, windows, roles_of)
                         or (a.muted if a.muted.startswith("inhibited:") else ""))
        if as_json:
            click.echo(json.dumps({"fingerprint": a.fingerprint, "rule": a.rule, "state": a.state.value,
                                   "severity": a.severity, "labels": dict(a.labels), "summary": a.summary,
                                   "since": a.active_since, "muted": a.muted, "acknowledged_by": acked}))
        else:
            mark = " ".join(x for x in (f"[{a.muted}]" if a.muted else "", f"[ack: {acked}]" if acked else "") if x)
            click.echo(f"{a.fingerprint}  {a.state.value:<8} {a.severity:<8} {a.rule:<24} {_labels(a)}"
                       + (f"  {mark}" if mark else ""))
    if not rows and not as_json:
        click.echo("no active alerts")
    store.close()


@alerts.command("show")
@config_options
@click.argument("fingerprint")
def alerts_show(config, fingerprint: str) -> None:
    """One alert: labels, annotations, state, history (transitions, acks, mute marks) and the pages sent."""
    from stackwatch.store.sqlite.nflog import SqliteNflog

    store = _store(config)
    a = _one(store, fingerprint)
    click.echo(f"{a.rule} [{a.severity}] {a.state.value}  ({a.fingerprint})")
    for k, v in a.labels:
        click.echo(f"  label {k}={v}")
    for k, v in a.annotations:
        click.echo(f"  {k}: {v}")
    click.echo(f"  active since {_iso(a.active_since)}, fired {_iso(a.fired_at)}, resolved {_iso(a.resolved_at)}")
    if a.muted:
        click.echo(f"  muted: {a.muted}")
    click.echo("history:")
    for ts, old, new, value, note in store.alerts.history_notes(a.fingerprint):
        click.echo(f"  {_iso(ts)}  " + (note if note and old == new else f"{old} -> {new}"))
    click.echo("pages:")
    for s in SqliteNflog(store.db).sent(fingerprint=a.fingerprint):
        click.echo(f"  {_iso(s['sent_at'])}  {s['event']:<11} to {s['receiver']}  {s['group_key']}")
    store.close()


@alerts.command("ack")
@config_options
@click.argument("fingerprint")
@click.option("--author", default=_user, show_default="your login name")
@click.option("-c", "--comment", default="", help="Why, or what is being done.")
@click.option("--expires", default=None, help="Re-page after this long if still firing, e.g. 4h.")
@click.option("--remove", is_flag=True, help="Withdraw the acknowledgement.")
def alerts_ack(config, fingerprint: str, author: str, comment: str, expires: str | None, remove: bool) -> None:
    """Acknowledge an alert: no re-paging until it resolves or the ack expires (PagerDuty is told)."""
    from stackwatch.alerting.timeinput import parse_when
    from stackwatch.store.sqlite.acks import SqliteAckStore

    store = _store(config)
    a = _one(store, fingerprint)
    now = time.time()
    acks = SqliteAckStore(store.db)
    if remove:
        n = acks.remove(a.fingerprint, now)
        store.alerts.note(a.fingerprint, now, f"acknowledgement withdrawn by {author}")
        click.echo(f"withdrew {n} acknowledgement(s) of {a.fingerprint}")
        store.close()
        return
    try:
        until = parse_when(expires, now) if expires else None
        acks.add(a.fingerprint, author, comment, now, until)
    except ValueError as exc:
        fail(str(exc))
    store.alerts.note(a.fingerprint, now, f"acknowledged by {author}: {comment}"
                      + (f" (until {_iso(until)})" if until else ""))
    click.echo(f"acknowledged {a.fingerprint} ({a.rule} {_labels(a)})")
    store.close()


@alerts.command("silence")
@config_options
@click.argument("matchers", nargs=-1)
@click.option("--start", default=None, help="When it starts (default now): a time or a duration from now.")
@click.option("--end", default=None, help="When it ends: a time or a duration from now.")
@click.option("--duration", "-d", default=None, help="How long it lasts, e.g. 2h.")
@click.option("--author", default=_user, show_default="your login name")
@click.option("-c", "--comment", default="")
def alerts_silence(config, matchers: tuple[str, ...], start, end, duration, author: str, comment: str) -> None:
    """Silence alerts matching MATCHERS (Alertmanager syntax: host="compute-1" severity=~"warning|info");
    without MATCHERS, list the silences in force."""
    from stackwatch.alerting.matchers import MatcherError
    from stackwatch.alerting.timeinput import parse_span
    from stackwatch.store.sqlite.silences import SqliteSilenceStore

    now = time.time()
    store = _store(config)
    silences = SqliteSilenceStore(store.db)
    if not matchers:
        for s in silences.silences(now):
            click.echo(f"{s.id}  {_iso(s.starts_at)} .. {_iso(s.ends_at)}  {' '.join(map(str, s.matchers))}  "
                       f"by {s.author}: {s.comment}")
        store.close()
        return
    try:
        starts, ends = parse_span(start, end, duration, now)
        s = silences.add_silence(list(matchers), starts, ends, author, comment, now)
    except MatcherError as exc:
        fail(f"bad matcher: {exc}")
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"silence {s.id}: {' '.join(map(str, s.matchers))} from {_iso(starts)} until {_iso(ends)}")
    store.close()


@alerts.command("unsilence")
@config_options
@click.argument("silence_id")
def alerts_unsilence(config, silence_id: str) -> None:
    """Expire a silence now."""
    from stackwatch.store.sqlite.silences import SqliteSilenceStore

    store = _store(config)
    if not SqliteSilenceStore(store.db).expire_silence(silence_id, time.time()):
        fail(f"no silence {silence_id!r} in force (see `stackwatch alerts silence`)")
    click.echo(f"silence {silence_id} expired")
    store.close()


@alerts.command("maint")
@config_options
@click.option("--host", "hosts", multiple=True, help="A host under maintenance (repeatable).")
@click.option("--role", "roles", multiple=True, help="Every host of this role (repeatable).")
@click.option("--start", default=None, help="When it starts (default now).")
@click.option("--end", default=None)
@click.option("--duration", "-d", default=None, help="How long, e.g. 4h.")
@click.option("--author", default=_user, show_default="your login name")
@click.option("-c", "--comment", default="")
@click.option("--stop", "stop_id", default=None, metavar="ID", help="End window ID now.")
def alerts_maint(config, hosts, roles, start, end, duration, author: str, comment: str, stop_id: str | None) -> None:
    """Plan a maintenance window for hosts or roles: their alerts are muted and marked as in maintenance
    instead of paging. Without --host/--role, list the windows; --stop ID ends one."""
    from stackwatch.alerting.timeinput import parse_span
    from stackwatch.store.sqlite.silences import SqliteSilenceStore

    now = time.time()
    store = _store(config)
    windows = SqliteSilenceStore(store.db)
    if stop_id:
        if not windows.end_maintenance(stop_id, now):
            fail(f"no maintenance window {stop_id!r} in force")
        click.echo(f"maintenance window {stop_id} ended")
    elif not hosts and not roles:
        for w in windows.maintenance(now):
            what = " ".join([f"host={h}" for h in w.hosts] + [f"role={r}" for r in w.roles])
            click.echo(f"{w.id}  {_iso(w.starts_at)} .. {_iso(w.ends_at)}  {what}  by {w.author}: {w.comment}")
    else:
        known = {h.name for h in config.inventory.hosts}
        unknown = [h for h in hosts if h not in known]
        if unknown:
            fail(f"unknown host(s) {', '.join(unknown)}; inventory: {', '.join(sorted(known))}")
        bad_roles = [r for r in roles if r not in config.inventory.roles]
        if bad_roles:
            fail(f"unknown role(s) {', '.join(bad_roles)}; known: {', '.join(sorted(config.inventory.roles))}")
        try:
            starts, ends = parse_span(start, end, duration, now)
            w = windows.add_maintenance(list(hosts), list(roles), starts, ends, author, comment, now)
        except ValueError as exc:
            fail(str(exc))
        click.echo(f"maintenance window {w.id} from {_iso(starts)} until {_iso(ends)}")
    store.close()


@alerts.command("deliveries")
@config_options
@click.option("--state", type=click.Choice(["pending", "delivered", "failed"]), default=None)
@click.option("--receiver", default=None, help="Only pages to this receiver.")
@click.option("--limit", default=50, show_default=True)
@click.option("--attempts", "with_attempts", is_flag=True, help="Also every attempt and its error.")
def alerts_deliveries(config, state: str | None, receiver: str | None, limit: int, with_attempts: bool) -> None:
    """Pages and where their delivery stands: delivered, pending (retried with backoff) or failed, with errors."""
    from stackwatch.store.sqlite.outbox import SqliteOutboxStore

    store = _store(config)
    outbox = SqliteOutboxStore(store.db)
    rows = outbox.deliveries(receiver, state, limit)
    for d in rows:
        click.echo(f"{d.notification_id}  {_iso(d.created_at)}  {d.state:<9} {d.receiver:<16} {d.event:<11} "
                   f"attempts {d.attempts}" + (f"  last error: {d.last_error}" if d.last_error else ""))
        if with_attempts:
            for a in outbox.attempts(d.notification_id):
                click.echo(f"    {_iso(a.ts)}  {a.outcome:<7} {a.duration:.2f}s  {a.error}")
    if not rows:
        click.echo("no pages" + (f" {state}" if state else "") + (f" to {receiver}" if receiver else ""))
    store.close()


@alerts.command("retry")
@config_options
@click.argument("notification_id")
def alerts_retry(config, notification_id: str) -> None:
    """Send a failed page again (after fixing its receiver); serve's delivery worker picks it up."""
    from stackwatch.store.sqlite.outbox import SqliteOutboxStore

    store = _store(config)
    outbox = SqliteOutboxStore(store.db)
    found = outbox.get(notification_id)
    try:
        if found is None:
            fail(f"no page {notification_id!r} in the outbox (see `stackwatch alerts deliveries`)")
        if not outbox.requeue(notification_id, time.time()):
            fail(f"page {notification_id} is {found.state}: only a failed page can be sent again")
        click.echo(f"page {notification_id} to {found.receiver} queued again")
    finally:
        store.close()
