"""When things were last heard from, for absence rules: the newest notification per deployment."""

from __future__ import annotations

from stackwatch.store.sqlite.database import Database


def last_notification_by_deployment(db: Database) -> dict[str, float]:
    return {d: ts for d, ts in db.read().execute(
        "SELECT deployment, max(ts) FROM notifications GROUP BY deployment")}
