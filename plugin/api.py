"""API v1 for sidebar apps and scripts: bearer tokens with roles; JSON in, JSON out.

Missing or invalid token: 401; a valid token without the role: 403. Request
bodies are validated and errors name each bad field (422); a body that is not
JSON is 400.
"""

from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import Blueprint, g, jsonify, request

from guidance.engine import guide
from models.ticket import TicketError, load_ticket

from . import ledger, tokens
from .services import services

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def require(role: str) -> Callable:
    """Only callers whose token has at least `role`."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header[:7].lower() == "bearer " else None
            with services().sessions() as session:
                caller = tokens.authenticate(session, token)
            if caller is None:
                return jsonify({"error": "unauthorized", "detail": "a valid bearer token is required"}), 401, \
                    {"WWW-Authenticate": "Bearer"}
            if not caller.may(role):
                return jsonify({"error": "forbidden", "detail": f"this needs the {role} role"}), 403
            g.caller = caller
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _json_body():
    data = request.get_json(silent=True)
    if data is None:
        return None, (jsonify({"error": "invalid JSON", "detail": "the body must be a JSON object"}), 400)
    return data, None


@bp.post("/analyze")
@require("agent")
def analyze():
    """Analysis and guidance for a normalized ticket (nothing is stored)."""
    data, error = _json_body()
    if error:
        return error
    try:
        ticket = load_ticket(data)
    except TicketError as exc:
        return jsonify({"error": "invalid ticket", "detail": str(exc)}), 422
    s = services()
    analysis = s.analyzer.analyze(ticket)
    return jsonify({"analysis": analysis, "guidance": guide(ticket, analysis, s.guidance)})


@bp.get("/customers/at-risk")
@require("lead")
def customers_at_risk():
    """Customers by trust (worst first) or by value at risk: ?sort=risk|value&limit=N."""
    sort = request.args.get("sort", "risk")
    if sort not in ("risk", "value"):
        return jsonify({"error": "invalid query", "detail": "sort: must be risk or value"}), 422
    try:
        limit = int(request.args.get("limit", "50"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 500:
        return jsonify({"error": "invalid query", "detail": "limit: must be a whole number from 1 to 500"}), 422
    s = services()
    default_value = float(s.settings.extra.get("TRUSTDESK_AVERAGE_CUSTOMER_VALUE", "0") or 0)
    with s.sessions() as session:
        rows = ledger.at_risk(session, default_value, sort, limit)
    return jsonify({"customers": [row.__dict__ for row in rows]})
