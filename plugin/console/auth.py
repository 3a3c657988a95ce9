"""Console sign-in: session cookies for people, roles on every view; API bearer tokens open nothing here.

`role_required("lead")` lets leads and admins in, `role_required("admin")` only
admins. A request without a signed-in user is sent to the sign-in page (a
non-GET gets 401); one carrying an API token instead gets 401 and is told that
tokens are for the API.
"""

from __future__ import annotations

from functools import wraps
from typing import Callable
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from ..services import services
from . import users
from .users import User

bp = Blueprint("console_auth", __name__, url_prefix="/console")


def html_error(exc: HTTPException):
    """Console errors as a page that says what went wrong, with the right status."""
    return render_template("console/error.html", code=exc.code, name=exc.name, detail=exc.description), exc.code


def error_pages(blueprint: Blueprint) -> None:
    """Render a blueprint's 4xx errors as console pages (call it where the blueprint is defined)."""
    blueprint.register_error_handler(HTTPException, html_error)


error_pages(bp)


def current_user() -> User | None:
    """The signed-in console user (looked up once per request; a disabled user is signed out)."""
    if "console_user" not in g:
        user_id = session.get("uid")
        user = None
        if user_id is not None:
            with services().sessions() as db:
                user = users.active_user(db, user_id)
            if user is None:
                session.clear()
        g.console_user = user
    return g.console_user


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path on this site, never another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/console") and "\\" not in target:
            return target
    return url_for("console.queue")


def role_required(role: str) -> Callable:
    """Only signed-in users whose role includes `role` ("lead" or "admin"); others are sent to sign in or get 403."""
    if role not in users.ROLES:
        raise ValueError(f"unknown console role {role!r}")

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                if request.headers.get("Authorization"):
                    abort(401, "API tokens do not open console pages: sign in at /console/login.")
                if request.method != "GET":
                    abort(401, "Your session has ended: sign in again.")
                return redirect(url_for("console_auth.login", next=request.full_path.rstrip("?")))
            if not user.may(role):
                abort(403, f"This page needs the {role} role; you are signed in as a {user.role}.")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def client_ip() -> str:
    """The caller's address as the WSGI server saw it (a proxy in front should set ProxyFix)."""
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; five failures for one name from one address within 15 minutes lock that pair out."""
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(target)
        return render_template("console/login.html", next=target)
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    if not username or not password:
        return render_template("console/login.html", next=target, username=username,
                               error="Enter your username and password."), 400
    with services().sessions.begin() as db:
        wait = users.retry_after(db, username, client_ip())
        if wait is not None:
            minutes = max(1, round(wait.total_seconds() / 60))
            return render_template("console/login.html", next=target, username=username,
                                   error=f"Too many failed sign-ins. Try again in {minutes} minute(s)."), 429, \
                {"Retry-After": str(int(wait.total_seconds()))}
        user = users.sign_in(db, username, password, client_ip())
    if user is None:
        return render_template("console/login.html", next=target, username=username,
                               error="Wrong username or password."), 401
    session.clear()  # a fresh session on sign-in: no fixation
    session.permanent = True
    session["uid"] = user.id
    flash(f"Signed in as {user.username} ({user.role}).", "info")
    return redirect(target)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (POST only, so a link on another site cannot sign anyone out)."""
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("console_auth.login"))
