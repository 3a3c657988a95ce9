"""The review and admin console: pages for team leads and admins, served by the plugin.

`init_app` registers every console blueprint (each named console*, so CSRF
protection and the security headers apply to it), sets the session cookie's
flags and turns on flask-wtf's CSRF check for console requests only (webhooks
and the API authenticate otherwise).
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta

from flask import Flask, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
SESSION_HOURS = 12
# Scripts and styles come from this service only (vendored packages, no CDN).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def blueprints() -> list:
    """Every console blueprint, in registration order (explicit: no discovery)."""
    from . import auth, pages

    found = [auth.bp, pages.bp]
    # The admin person's pages: plugin/console/admin.py exposes BLUEPRINTS (a list) once it exists.
    if importlib.util.find_spec(f"{__name__}.admin") is not None:
        from . import admin

        found += list(admin.BLUEPRINTS)
    return found


def init_app(app: Flask) -> None:
    """Register the console: blueprints, cookie flags, CSRF for console forms and fetches, security headers."""
    settings = app.config["TRUSTDESK_SETTINGS"]
    https = (settings.public_url or "").lower().startswith("https://")
    app.config.update(SESSION_COOKIE_SECURE=https, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
                      WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None, WTF_CSRF_SSL_STRICT=https)
    csrf.init_app(app)
    from .auth import current_user

    app.context_processor(lambda: {"console_user": current_user})
    for blueprint in blueprints():
        app.register_blueprint(blueprint)

    @app.before_request
    def _console_csrf() -> None:
        if _is_console():
            csrf.protect()

    @app.after_request
    def _console_headers(response):
        if _is_console():
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _is_console() -> bool:
    return (request.blueprint or "").startswith("console")
