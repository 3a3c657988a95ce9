"""The OpenAPI document of API v1 (/openapi.json) and browsable docs (/docs) from vendored Swagger UI.

The document is built from the views' `endpoint(...)` declarations and their
marshmallow schemas (apispec), once per process. The docs page loads only
files this service serves (plugin/static/vendor/swagger-ui, see VENDORED.md);
its Content-Security-Policy forbids anything else.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, Flask, current_app, jsonify, render_template_string, url_for

from .schemas import ErrorSchema

bp = Blueprint("docs", __name__)
ROLES_NOTE = "Roles are ordered: admin may do what lead may, lead what agent may."
_ERRORS = {400: "Not JSON", 401: "Missing or invalid bearer token", 403: "The token lacks the role", 404: "Not found",
           409: "Conflict with the current state", 413: "Body over 1 MiB", 422: "Invalid fields, each named"}
_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Trustdesk API v1</title>
  <link rel="stylesheet" href="{{ url_for('static', filename='vendor/swagger-ui/swagger-ui.css') }}">
</head>
<body>
  <div id="swagger-ui" data-spec="{{ url_for('docs.openapi') }}"></div>
  <script src="{{ url_for('static', filename='vendor/swagger-ui/swagger-ui-bundle.js') }}"></script>
  <script src="{{ url_for('static', filename='docs-init.js') }}"></script>
</body>
</html>
"""
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'")


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3 document for every API view declared with `endpoint(...)`."""
    from importlib.metadata import version

    spec = APISpec(title="Trustdesk API", version=version("trustdesk"), openapi_version="3.0.3",
                   plugins=[FlaskPlugin(), MarshmallowPlugin()],
                   info={"description": "Blame, deflection and escalation risk in helpdesk tickets. " + ROLES_NOTE})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "description": "A token from `trustdesk tokens create --role ROLE`."})
    spec.components.schema("Error", schema=ErrorSchema)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        op = getattr(view, "openapi", None)
        if op is None:
            continue
        method = next(m for m in rule.methods if m not in ("HEAD", "OPTIONS")).lower()
        spec.path(view=view, app=app, operations={method: _operation(op, rule)})
    return spec.to_dict()


def _operation(op: Any, rule: Any) -> dict[str, Any]:
    """One operation: role, parameters, body and answers."""
    responses: dict[Any, Any] = {str(op.status): {"description": "OK", "content": {"application/json": {"schema": op.response}}}
                                 if op.response else {"description": "OK"}}
    for code in sorted({401, 403, *op.errors, *((400, 413, 422) if op.body else ())}):
        responses[str(code)] = {"description": _ERRORS[code], "content": {"application/json": {"schema": "Error"}}}
    operation: dict[str, Any] = {
        "summary": op.summary, "description": f"Role: **{op.role}** (or higher). {ROLES_NOTE}",
        "tags": ["admin" if "/admin/" in rule.rule else "tickets"], "security": [{"bearer": []}],
        "x-role": op.role, "responses": responses,
        "parameters": [{"in": "path", "name": name, "required": True,
                        "schema": {"type": "integer" if type(rule._converters.get(name)).__name__ == "IntegerConverter"
                                   else "string"}} for name in sorted(rule.arguments)],
    }
    if op.query:
        operation["parameters"].append({"in": "query", "schema": op.query})
    if op.body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
    return operation


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of API v1."""
    spec = current_app.extensions.get("trustdesk_openapi")
    if spec is None:
        spec = current_app.extensions["trustdesk_openapi"] = build_spec(current_app)
    return jsonify(spec)


@bp.get("/docs")
def docs():
    """Browsable API docs (Swagger UI, served from this service only)."""
    html = render_template_string(_PAGE, url_for=url_for)
    return html, 200, {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP}
