"""Liveness and readiness: is the process up, and can it do its job."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from .services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process answers."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Database and queue reachable, model loaded, and each integration configured or in dry-run."""
    s = services()
    checks: dict[str, object] = {"model": s.analyzer.version}
    try:
        with s.engine.connect() as connection:
            connection.execute(text("select 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which kind
        checks["database"] = f"unavailable ({type(exc).__name__})"
    try:
        checks["queue"] = {"backend": type(s.queue).__name__, "pending": s.queue.pending_count()}
    except Exception as exc:  # Redis down, SQLite queue file unreadable
        checks["queue"] = f"unavailable ({type(exc).__name__})"
    checks["integrations"] = {
        name: "not configured" if not adapter.secret else ("ready" if adapter.can_write_back else "dry-run")
        for name, adapter in s.adapters.items()
    }
    ready = checks["database"] == "ok" and isinstance(checks["queue"], dict)
    return jsonify({"status": "ready" if ready else "not ready", "checks": checks}), 200 if ready else 503
