"""Alert pages: /alerts (active with their mute marks and acks, recently resolved, silences and maintenance
windows in force) and /alerts/<fingerprint> (labels, history with acks and mute marks, the pages sent).
Acknowledging, silencing and planning maintenance are POST forms that need a login and a CSRF token.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from stackwatch.alerting.matchers import MatcherError
from stackwatch.alerting.model import AlertState
from stackwatch.alerting.silence import mute_reason
from stackwatch.alerting.timeinput import parse_span, parse_when
from stackwatch.store.sqlite.acks import SqliteAckStore
from stackwatch.store.sqlite.nflog import SqliteNflog
from stackwatch.store.sqlite.silences import SqliteSilenceStore
from stackwatch.web.auth import current_user, login_required
from stackwatch.web.deps import deps

bp = Blueprint("alerts", __name__)

RECENT = 50


def _acked(acks, a, now) -> str:
    ack = acks.get(a.fingerprint)
    return ack.author if ack is not None and ack.active(now, a.fired_at, a.state is AlertState.FIRING) else ""


def _index(error: str = "", status: int = 200, form: dict | None = None):
    d = deps()
    now = d.clock()
    resolved = [a for a in d.store.alerts.recent(RECENT) if a.state is AlertState.RESOLVED]
    acks = SqliteAckStore(d.store.db).latest()
    mutes = SqliteSilenceStore(d.store.db)
    silences, windows = mutes.silences(now), mutes.maintenance(now)
    roles_of = {h.name: h.roles for h in d.config.inventory.hosts}
    # marks as of now (a window just planned shows before the pager's next pass); inhibition as the pager saw it
    active = [a.evolve(muted=mute_reason(dict(a.labels), now, silences, windows, roles_of)
                       or (a.muted if a.muted.startswith("inhibited:") else ""))
              for a in d.store.alerts.active()]
    return render_template("alerts.html", active=active, resolved=resolved, now=now,
                           acked={a.fingerprint: _acked(acks, a, now) for a in active},
                           silences=silences, windows=windows,
                           hosts=[h.name for h in d.config.inventory.hosts], roles=sorted(d.config.inventory.roles),
                           error=error, form=form or {}), status


@bp.get("/alerts")
def index():
    return _index()


@bp.get("/alerts/<fp>")
def alert(fp: str, error: str = "", status: int = 200):
    d = deps()
    found = d.store.alerts.get(fp)
    if found is None:
        abort(404, f"No alert with fingerprint {fp!r}.")
    now = d.clock()
    ack = SqliteAckStore(d.store.db).latest().get(fp)
    return render_template("alert.html", alert=found, history=d.store.alerts.history_notes(fp), now=now,
                           acked_by=_acked({fp: ack} if ack else {}, found, now), ack=ack,
                           pages=SqliteNflog(d.store.db).sent(50, fingerprint=fp), error=error), status


@bp.post("/alerts/<fp>/ack")
@login_required
def ack(fp: str):
    d = deps()
    found = d.store.alerts.get(fp)
    if found is None:
        abort(404, f"No alert with fingerprint {fp!r}.")
    now, user = d.clock(), current_user()
    comment = request.form.get("comment", "").strip()[:500]
    try:
        expires = request.form.get("expires", "").strip()
        until = parse_when(expires, now) if expires else None
        SqliteAckStore(d.store.db).add(fp, user, comment, now, until)
    except ValueError as exc:
        return alert(fp, error=str(exc), status=400)
    d.store.alerts.note(fp, now, f"acknowledged by {user}: {comment}")
    return redirect(url_for("alerts.alert", fp=fp))


@bp.post("/alerts/<fp>/unack")
@login_required
def unack(fp: str):
    d = deps()
    now = d.clock()
    if SqliteAckStore(d.store.db).remove(fp, now):
        d.store.alerts.note(fp, now, f"acknowledgement withdrawn by {current_user()}")
    return redirect(url_for("alerts.alert", fp=fp))


@bp.post("/alerts/silences")
@login_required
def silence():
    d = deps()
    now = d.clock()
    matchers = [line.strip() for line in request.form.get("matchers", "").splitlines() if line.strip()]
    try:
        starts, ends = parse_span(request.form.get("start") or None, request.form.get("end") or None,
                                  request.form.get("duration") or None, now)
        SqliteSilenceStore(d.store.db).add_silence(matchers, starts, ends, current_user(),
                                                   request.form.get("comment", "").strip()[:500], now)
    except MatcherError as exc:
        return _index(f"Silence refused, bad matcher: {exc}", 400, request.form)
    except ValueError as exc:
        return _index(f"Silence refused: {exc}", 400, request.form)
    return redirect(url_for("alerts.index"))


@bp.post("/alerts/silences/<sid>/expire")
@login_required
def unsilence(sid: str):
    d = deps()
    if not SqliteSilenceStore(d.store.db).expire_silence(sid, d.clock()):
        abort(404, f"No silence {sid!r} in force.")
    return redirect(url_for("alerts.index"))


@bp.post("/alerts/maintenance")
@login_required
def maintenance():
    d = deps()
    now = d.clock()
    hosts = [h for h in request.form.getlist("hosts") if h]
    roles = [r for r in request.form.getlist("roles") if r]
    known_hosts, known_roles = {h.name for h in d.config.inventory.hosts}, set(d.config.inventory.roles)
    unknown = [h for h in hosts if h not in known_hosts] + [r for r in roles if r not in known_roles]
    try:
        if unknown:
            raise ValueError(f"not in the inventory: {', '.join(unknown)}")
        starts, ends = parse_span(request.form.get("start") or None, request.form.get("end") or None,
                                  request.form.get("duration") or None, now)
        SqliteSilenceStore(d.store.db).add_maintenance(hosts, roles, starts, ends, current_user(),
                                                       request.form.get("comment", "").strip()[:500], now)
    except ValueError as exc:
        return _index(f"Maintenance window refused: {exc}", 400, request.form)
    return redirect(url_for("alerts.index"))


@bp.post("/alerts/maintenance/<wid>/end")
@login_required
def end_maintenance(wid: str):
    d = deps()
    if not SqliteSilenceStore(d.store.db).end_maintenance(wid, d.clock()):
        abort(404, f"No maintenance window {wid!r} in force.")
    return redirect(url_for("alerts.index"))
