"""Light reads for one evaluation tick: the newest notification per deployment (absence rules) and the
current state of every check without its perfdata."""

from __future__ import annotations

from stackwatch.store.sqlite.database import Database


def last_notification_by_deployment(db: Database) -> dict[str, float]:
    return {d: ts for d, ts in db.read().execute(
        "SELECT deployment, max(ts) FROM notifications GROUP BY deployment")}


def current_check_states(db: Database) -> list[tuple]:
    """(host, check, State, summary, attempts, timestamp) per check, without decoding perfdata."""
    from stackwatch.model import State

    return [(h, c, State(s), summ, att, ts) for h, c, s, summ, att, ts in db.read().execute(
        "SELECT host, check_name, state, summary, attempts, ts FROM check_current")]
