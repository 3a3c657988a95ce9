"""Structured logs: JSON lines on stderr, request ids echoed and attached, no secrets or message text."""

import json
import logging
import re
from datetime import datetime, timedelta

import pytest

from integrations.generic.adapter import signed_headers
from plugin import tokens
from plugin.app import create_app
from plugin.logs import JsonFormatter
from plugin.services import services

SECRET = "whsec-log-test-7f3a9c"
SENTENCE = "My parrot Archibald ate the refund cheque on Tuesday."


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "var"), "generic_webhook_secret": SECRET})

    @app.get("/_log")
    def log_something():
        logging.getLogger("trustdesk.test").info("inside a request", extra={"ticket_count": 3})
        return {"ok": True}

    return app


def json_lines(text: str) -> list[dict]:
    """Every stderr line as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_lines_are_json_with_the_request_id_and_extra_fields(app, capsys):
    capsys.readouterr()
    response = app.test_client().get("/_log?secret=abc", headers={"X-Request-Id": "req-1.A_b"})
    assert response.headers["X-Request-Id"] == "req-1.A_b"
    lines = json_lines(capsys.readouterr().err)
    inside = next(line for line in lines if line["logger"] == "trustdesk.test")
    assert inside["message"] == "inside a request" and inside["level"] == "INFO"
    assert inside["ticket_count"] == 3 and inside["request_id"] == "req-1.A_b"
    stamp = datetime.fromisoformat(inside["timestamp"])
    assert stamp.utcoffset() == timedelta(0)
    access = [line for line in lines if line["logger"] == "trustdesk.access"]
    assert len(access) == 1
    assert {k: access[0][k] for k in ("method", "path", "status", "request_id")} == \
        {"method": "GET", "path": "/_log", "status": 200, "request_id": "req-1.A_b"}
    assert isinstance(access[0]["duration_ms"], float) and "secret" not in json.dumps(access[0])


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 65, "a/b", "<script>", "id\u00e9"])
def test_a_missing_or_unsafe_request_id_is_replaced(app, capsys, given):
    headers = {} if given is None else {"X-Request-Id": given.encode("utf-8").decode("latin-1")}
    response = app.test_client().get("/healthz", headers=headers)
    generated = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    access = [line for line in json_lines(capsys.readouterr().err) if line["logger"] == "trustdesk.access"]
    assert access[-1]["request_id"] == generated


def test_error_responses_carry_the_request_id_too(app):
    response = app.test_client().get("/nowhere", headers={"X-Request-Id": "abc"})
    assert response.status_code == 404 and response.headers["X-Request-Id"] == "abc"


def test_logs_hold_no_secret_token_or_message_text(tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "var"), "generic_webhook_secret": SECRET,
                      "log_level": "DEBUG"})
    with app.app_context(), services().sessions.begin() as session:
        token = tokens.create(session, "log test", "agent", None)
    client = app.test_client()
    ticket = {"id": "7", "messages": [{"author_role": "customer", "body": SENTENCE}]}
    body = json.dumps({"event_id": "e-logs", "ticket": ticket}).encode()
    headers = signed_headers(SECRET, body)
    hooked = client.post("/webhooks/generic", data=body, headers={**headers, "X-Request-Id": "req-hook"})
    assert hooked.status_code == 200
    assert client.post("/webhooks/generic", data=body, headers=signed_headers("wrong", body)).status_code == 401
    assert client.post("/api/v1/analyze", json=ticket,
                       headers={"Authorization": f"Bearer {token}", "X-Request-Id": "req-api"}).status_code == 200
    assert client.post("/api/v1/analyze", json=ticket, headers={"Authorization": "Bearer td_not_a_real_token"}) \
        .status_code == 401

    logged = capsys.readouterr().err + "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert '"request_id": "req-hook"' in logged and '"request_id": "req-api"' in logged
    signatures = [value for name, value in headers.items() if "signature" in name.lower()]
    assert signatures
    for secret in (SENTENCE, "Archibald", SECRET, token, "td_not_a_real_token", *signatures):
        assert secret not in logged
