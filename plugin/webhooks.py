"""POST /webhooks/<name>: one route for every integration in the registry."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from integrations.base import Delivery

from .pipeline import handle
from .services import services

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/<name>")
def receive(name: str):
    """Verify, parse and process a delivery for the named integration."""
    adapter = services().adapters.get(name)
    if adapter is None:
        return jsonify({"error": "unknown integration", "detail": f"no integration named {name!r}"}), 404
    outcome = handle(services(), adapter, Delivery(request.get_data(cache=False), dict(request.headers)))
    if outcome.raw is not None:
        return Response(outcome.raw.body, status=outcome.status, content_type=outcome.raw.content_type)
    return jsonify(outcome.body), outcome.status
