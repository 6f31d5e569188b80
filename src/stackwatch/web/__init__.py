"""The web adapter: a Flask app (factory + blueprints) showing what the store holds — the NOC overview,
host pages, trend charts, alerts — and a JSON API under /api/v1, plus /metrics for Prometheus.

Views only read through the store's public API (no SQL here); config, store and clock are handed to
`create_app` by the caller (the CLI), never loaded at import time.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from stackwatch.config import Config
from stackwatch.web import alerts, api, formatting, hosts, logs, overview, trends
from stackwatch.web import events as notification_pages
from stackwatch.web import quotas as quota_pages
from stackwatch.web import probes as probe_pages
from stackwatch.web import reports as report_pages
from stackwatch.web import deliveries as delivery_pages
from stackwatch.web import coverage as coverage_pages
from stackwatch.web import auth
from stackwatch.web.deps import EXTENSION, WebDeps

# Nothing from elsewhere: HTML, one stylesheet, inline SVG, and our own script for the live log tail.
_SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                "script-src 'self'; connect-src 'self'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(config: Config, store: Any, registry: Any = None,
               clock: Callable[[], float] = time.time, events: Any = None) -> Flask:
    """The web app over `store`; with a prometheus_client `registry`, also serves it at /metrics."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.urandom(32)
    app.json.sort_keys = False
    app.extensions[EXTENSION] = WebDeps(config, store, clock, events)
    auth.init_app(app, config)  # login, session key from env or the data directory, CSRF tokens
    for bp in (overview.bp, hosts.bp, trends.bp, alerts.bp, logs.bp, logs.api_bp, notification_pages.bp,
               notification_pages.api_bp, api.bp, quota_pages.bp, probe_pages.bp, report_pages.bp, delivery_pages.bp, coverage_pages.bp):
        app.register_blueprint(bp)
    app.jinja_env.filters.update(
        age=formatting.format_age, ts=formatting.format_ts, clock=formatting.format_clock,
        state_class=formatting.state_class, state_short=formatting.state_short,
        severity_class=formatting.severity_class,
        num=formatting.format_number, perf=formatting.format_perfdatum, labels=formatting.format_labels,
    )
    # also answers unhandled exceptions, as a 500, after Flask has logged them
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_security_headers)
    if registry is not None:
        from prometheus_client import make_wsgi_app

        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/metrics": make_wsgi_app(registry)})
    return app


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _http_error(exc: HTTPException):
    code = exc.code or 500
    if _wants_json():
        return jsonify(error=exc.name, message=exc.description, status=code), code
    return render_template("error.html", code=code, name=exc.name, message=exc.description), code


def _security_headers(response):
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
