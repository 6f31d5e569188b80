"""The reports page (/reports): past reports in the reports directory (scheduled or written with
`stackwatch report ... --output` into it), newest first, each viewable as it was written.

A report file is served as is, with a Content-Security-Policy of its own: it is a self-contained page with inline
CSS and SVG and no script, so scripts stay forbidden; only names matching the report naming pattern inside the
reports directory are served (no path from the URL reaches the file system otherwise).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_file

from stackwatch.reports.archive import find, list_reports, reports_dir
from stackwatch.web.deps import deps

bp = Blueprint("reports", __name__)

_REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'none'")


@bp.get("/reports")
def index():
    d = deps()
    directory = reports_dir(d.config)
    reports = list_reports(directory)
    schedule = d.config.reports.schedule if d.config.reports is not None else ()
    return render_template("reports.html", reports=reports, directory=directory, schedule=schedule,
                           now=d.clock(), here="reports")


@bp.get("/reports/<name>")
def show(name: str):
    path = find(reports_dir(deps().config), name)
    if path is None:
        abort(404, description=f"no report called {name}")
    response = send_file(path, mimetype="text/html" if name.endswith(".html") else "application/json",
                         max_age=0)
    response.headers["Content-Security-Policy"] = _REPORT_CSP
    return response
