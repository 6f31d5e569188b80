"""Web login for write actions: users from config (`web.users`, passwords by {env}/{file} reference),
compared in constant time; a Flask session signed with a key from $STACKWATCH_SECRET_KEY or a file made
once per data directory (so logins survive a restart and no key is ever in code); a CSRF token in the
session that every POST form must carry. Pages stay readable without login; acting needs it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from stackwatch.web.deps import deps

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

SECRET_ENV = "STACKWATCH_SECRET_KEY"
SECRET_FILE = "web-secret-key"


def init_app(app, config) -> None:
    """Set the session key and cookie flags, and offer `csrf_token()` and `current_user()` to templates.
    Without configured users nobody can log in, so the app keeps its per-process random key."""
    if config.web.users or os.environ.get(SECRET_ENV):
        app.config["SECRET_KEY"] = _secret_key(config)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.jinja_env.globals.update(csrf_token=csrf_token, current_user=current_user)
    app.register_blueprint(bp)


def _secret_key(config) -> bytes:
    env = os.environ.get(SECRET_ENV)
    if env:
        return env.encode()
    path = Path(config.data_dir) / SECRET_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("cannot read %s (%s): sessions last until restart", path, exc.strerror)
        return secrets.token_bytes(32)
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
    except FileExistsError:
        return path.read_bytes()
    except OSError as exc:
        log.warning("cannot write %s (%s): sessions last until restart", path, exc.strerror)
    return key


def check_password(users, name: str, password: str) -> bool:
    """Constant-time: both sides hashed to equal length, every user compared."""
    given = hashlib.sha256(password.encode()).digest()
    ok = False
    for user, secret in users:
        same_name = hmac.compare_digest(user.encode(), name.encode())
        same_pw = hmac.compare_digest(hashlib.sha256(secret.encode()).digest(), given)
        ok |= same_name and same_pw
    return ok


def current_user() -> str:
    return session.get("user", "")


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    token = session.get("csrf", "")
    if not token or not hmac.compare_digest(sent.encode(), token.encode()):
        abort(400, "The form is stale or was not sent from this site (CSRF token missing or wrong). "
                   "Reload the page and try again.")


def login_required(view):
    """For POST actions: a logged-in user and a valid CSRF token, else the login page (or 400)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user():
            if request.method == "POST":
                abort(401, "Log in to do this.")
            return redirect(url_for("auth.login", next=request.full_path))
        if request.method == "POST":
            check_csrf()
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("alerts.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("alerts.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    users = deps().config.web.users
    error = ""
    if request.method == "POST":
        check_csrf()
        name = request.form.get("username", "")
        if users and check_password(users, name, request.form.get("password", "")):
            session.clear()
            session["user"] = name
            csrf_token()
            log.info("web login: %s", name)
            return redirect(_safe_next(request.form.get("next")))
        log.warning("web login failed for %r from %s", name[:64], request.remote_addr)
        error = "Unknown user or wrong password." if users else "No web users are configured (web.users)."
    return render_template("login.html", error=error, next=request.values.get("next", ""),
                           users_configured=bool(users)), (401 if error else 200)


@bp.post("/logout")
def logout():
    check_csrf()
    session.clear()
    return redirect(url_for("alerts.index"))
