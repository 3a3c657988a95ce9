"""API v1 for sidebar apps and scripts: bearer tokens with roles; JSON in, JSON out.

Missing or invalid token: 401; a valid token without the role: 403. A body
that is not JSON is 400, one over 1 MiB 413; schema errors are 422 naming each
bad field. Every view is declared with `endpoint(...)`, which does the checks
and records what /openapi.json says about the operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, g, jsonify, request
from marshmallow import Schema, ValidationError

from .. import tokens
from ..services import services

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class ApiError(Exception):
    """A 4xx answer raised from anywhere in a view."""

    def __init__(self, status: int, error: str, detail: str, fields: dict | None = None):
        super().__init__(detail)
        self.status, self.error, self.detail, self.fields = status, error, detail, fields


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    body: dict[str, Any] = {"error": exc.error, "detail": exc.detail}
    if exc.fields is not None:
        body["fields"] = exc.fields
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    return jsonify(body), exc.status, headers


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one view."""

    role: str
    summary: str
    body: type[Schema] | None
    query: type[Schema] | None
    response: type[Schema] | None
    status: int
    errors: tuple[int, ...]


def _caller() -> tokens.Caller:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    with services().sessions() as session:
        caller = tokens.authenticate(session, token)
    if caller is None:
        raise ApiError(401, "unauthorized", "a valid bearer token is required")
    return caller


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    """marshmallow's nested messages as 'field: message' lines."""
    if isinstance(messages, dict):
        return [line for key, value in messages.items()
                for line in _flatten(value, f"{prefix}.{key}" if prefix else str(key))]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {m}" for m in messages]
    return [f"{prefix}: {messages}"]


_instances: dict[type[Schema], Schema] = {}


def instance(schema: type[Schema]) -> Schema:
    """One instance per schema class (building one per request costs more than the dump)."""
    found = _instances.get(schema)
    if found is None:
        found = _instances[schema] = schema()
    return found


def validated(schema: type[Schema], data: Any, what: str = "request") -> dict:
    """Data loaded through a schema, or a 422 naming each bad field."""
    try:
        return instance(schema).load(data)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise ApiError(422, f"invalid {what}", "; ".join(_flatten(messages)), messages) from None


def json_body() -> Any:
    """The request's JSON body, or a 400."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser goes is not JSON we accept
        data = None
    if data is None:
        raise ApiError(400, "invalid JSON", "the body must be a JSON object")
    return data


def endpoint(role: str, *, body: type[Schema] | None = None, query: type[Schema] | None = None,
             response: type[Schema] | None = None, status: int = 200, errors: tuple[int, ...] = ()) -> Callable:
    """Only callers with at least `role`; the body and query loaded through their schemas; a dict result dumped."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            caller = _caller()
            if not caller.may(role):
                raise ApiError(403, "forbidden", f"this needs the {role} role")
            g.caller = caller
            if body is not None:
                kwargs["data"] = validated(body, json_body())
            if query is not None:
                kwargs["params"] = validated(query, request.args.to_dict(), "query")
            result = view(*args, **kwargs)
            if isinstance(result, dict) and response is not None:
                return jsonify(instance(response).dump(result)), status
            return result

        wrapper.openapi = Operation(role, (view.__doc__ or "").strip().splitlines()[0] if view.__doc__ else "",
                                    body, query, response, status, errors)
        return wrapper

    return decorate


def actor() -> str:
    """Who the audit log and feedback name: the calling token's name."""
    return g.caller.name


from . import admin, tickets  # noqa: E402,F401 - the routes register themselves on bp
