"""The Flask application factory: settings, services, blueprints, JSON errors.

Nothing happens at import time; `create_app` reads the settings, migrates the
database and loads the model once per process. Every error leaves as JSON with
a 4xx status where the client can fix it; an unexpected fault is logged and
answered with a generic 500 body that leaks nothing.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask, jsonify, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from .config import load_settings
from .json_responses import OrjsonProvider
from .services import init_app

log = logging.getLogger("trustdesk")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the service; `test_config` holds settings overrides (and Flask's TESTING)."""
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    test_config = dict(test_config or {})
    testing = test_config.pop("TESTING", False)
    settings = load_settings(overrides=test_config)
    # Imported here, not at the top: metrics must load after `serve` sets PROMETHEUS_MULTIPROC_DIR.
    from . import logs, metrics

    logs.init_logging(settings)
    app.config.update(settings.as_flask_config(), TESTING=testing)
    if settings.proxy_hops:
        # Behind a reverse proxy, the client's address (login throttling, logs) and scheme come
        # from X-Forwarded-*; only as many hops as configured are trusted, so clients cannot spoof them.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    logs.init_app(app)  # first, so the request id exists before anything logs
    metrics.init_app(app)
    init_app(app, settings)

    from . import runtime
    from .api import bp as api
    from .docs import bp as docs
    from .health import bp as health
    from .webhooks import bp as webhooks

    app.register_blueprint(api)
    app.register_blueprint(health)
    app.register_blueprint(docs)
    runtime.init_app(app)
    if settings.cors_origins:
        # Sidebar apps run in the helpdesk's origin; only the API is opened to them, never webhooks.
        CORS(app, resources={r"/api/*": {"origins": list(settings.cors_origins)}},
             allow_headers=["Authorization", "Content-Type"], methods=["GET", "POST", "PUT", "DELETE"])
    app.register_blueprint(webhooks)
    from . import console

    console.init_app(app)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    log.info("trustdesk ready: data dir %s", settings.data_dir)
    return app


def _http_error(exc: HTTPException):
    """Flask's own errors (404, 405, 413...) as JSON; under /console/ (unknown pages too) as a console page."""
    if request.path.startswith("/console/") or request.path == "/console":
        from .console.auth import html_error

        return html_error(exc)
    return jsonify({"error": exc.name.lower(), "detail": exc.description}), exc.code


def _unexpected(exc: Exception):
    """A fault we did not foresee: logged with its traceback, answered without details."""
    log.exception("unhandled error")
    return jsonify({"error": "internal error"}), 500
