"""The quota page (/quotas): the guide's Resource | Used | Limit | % per project, from the newest
stackwatch_openstack_quota_* series the quota collector wrote (no call to the cloud from the web). Sortable by
any column (server-side: ?sort=percent&order=desc), rows over 80% highlighted; every name is escaped by Jinja."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from stackwatch.openstack.quotas import QuotaRow
from stackwatch.web.deps import deps

bp = Blueprint("quotas", __name__)

COLUMNS = ("project", "service", "resource", "used", "limit", "percent")


def latest_rows(metrics) -> tuple[list[QuotaRow], float | None]:
    """Quota rows from the newest used/limit points of each (project, service, resource), and their time."""
    values: dict[tuple[str, str, str], dict[str, float]] = {}
    newest = None
    for what in ("used", "limit"):
        for info, ts, value in metrics.latest(f"stackwatch_openstack_quota_{what}"):
            key = (info.key.label("project"), info.key.label("service"), info.key.label("resource"))
            values.setdefault(key, {})[what] = value
            newest = ts if newest is None else max(newest, ts)
    rows = [QuotaRow(p, s, r, v["used"], v["limit"]) for (p, s, r), v in values.items() if len(v) == 2]
    return rows, newest


def _sort_key(column: str):
    if column == "percent":
        return lambda q: (-1.0 if q.percent is None else q.percent, q.project, q.service, q.resource)
    return lambda q: (getattr(q, column), q.project, q.service, q.resource)


@bp.get("/quotas")
def index():
    d = deps()
    rows, newest = latest_rows(d.store.metrics)
    sort = request.args.get("sort", "percent")
    if sort not in COLUMNS:
        sort = "percent"
    order = request.args.get("order", "desc" if sort in ("percent", "used", "limit") else "asc")
    if order not in ("asc", "desc"):
        order = "desc"
    project = request.args.get("project") or None
    if project:
        rows = [q for q in rows if q.project == project]
    rows.sort(key=_sort_key(sort), reverse=order == "desc")
    return render_template("quotas.html", rows=rows, sort=sort, order=order, columns=COLUMNS, project=project,
                           newest=newest, now=d.clock())
