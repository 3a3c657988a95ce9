"""API v1: bearer tokens with roles, and ticket analysis for sidebar apps."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from plugin import tokens
from plugin.app import create_app
from plugin.cli import main
from plugin.services import services

TICKET = {"id": "1", "messages": [{"author_role": "agent", "body": "Expedia is a third party, please contact Expedia."}]}


@pytest.fixture
def app(database_url, tmp_path):
    return create_app({"TESTING": True, "data_dir": str(tmp_path / "var"), "database_url": database_url})


def make_token(app, role, expires_days=None):
    with app.app_context(), services().sessions.begin() as session:
        return tokens.create(session, f"test {role}", role, expires_days)


def test_analyze_with_an_agent_token(app):
    token = make_token(app, "agent")
    response = app.test_client().post("/api/v1/analyze", json=TICKET, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "deflection" in response.json["analysis"]["flags"] and response.json["guidance"]["rewrite"]["changes"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer td_nope", "Basic abc", "bearer "])
def test_missing_or_invalid_token_is_401(app, header):
    headers = {"Authorization": header} if header else {}
    response = app.test_client().post("/api/v1/analyze", json=TICKET, headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"


def test_expired_and_revoked_tokens_are_refused(app):
    token = make_token(app, "admin", expires_days=1)
    with app.app_context(), services().sessions() as session:
        later = datetime.now(timezone.utc) + timedelta(days=2)
        assert tokens.authenticate(session, token, now=later) is None
        assert tokens.authenticate(session, token).role == "admin"
    revoked = make_token(app, "agent")
    with app.app_context(), services().sessions.begin() as session:
        tokens.revoke(session, tokens.authenticate(session, revoked).token_id)
    response = app.test_client().post("/api/v1/analyze", json=TICKET, headers={"Authorization": f"Bearer {revoked}"})
    assert response.status_code == 401


def test_roles_are_ordered():
    assert tokens.Caller(1, "a", "admin").may("lead") and not tokens.Caller(1, "a", "agent").may("lead")


@pytest.mark.parametrize("body, status", [(b"nope", 400), (json.dumps({"id": "1"}).encode(), 422)])
def test_bad_bodies(app, body, status):
    token = make_token(app, "agent")
    response = app.test_client().post("/api/v1/analyze", data=body, content_type="application/json",
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status and response.json["error"]


def test_token_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(tmp_path / "var"))
    runner = CliRunner()
    created = runner.invoke(main, ["tokens", "create", "--role", "lead", "--name", "sidebar", "--expires", "30"])
    assert created.exit_code == 0 and created.stdout.startswith("td_")
    listed = [json.loads(line) for line in runner.invoke(main, ["tokens", "list"]).stdout.splitlines()]
    assert listed[0]["name"] == "sidebar" and listed[0]["state"] == "active" and "td_" not in json.dumps(listed)
    assert runner.invoke(main, ["tokens", "revoke", str(listed[0]["id"])]).exit_code == 0
    assert json.loads(runner.invoke(main, ["tokens", "list"]).stdout)["state"] == "revoked"
    assert runner.invoke(main, ["tokens", "revoke", "999"]).exit_code != 0
    assert runner.invoke(main, ["tokens", "create", "--role", "god"]).exit_code == 2


def test_cors_only_for_configured_origins_and_only_on_the_api(database_url, tmp_path):
    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "v"), "database_url": database_url,
                      "cors_origins": "https://acme.zendesk.com"})
    client = app.test_client()
    allowed = client.options("/api/v1/analyze", headers={"Origin": "https://acme.zendesk.com",
                                                         "Access-Control-Request-Method": "POST"})
    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://acme.zendesk.com"
    other = client.options("/api/v1/analyze", headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in other.headers
    webhook = client.options("/webhooks/generic", headers={"Origin": "https://acme.zendesk.com"})
    assert "Access-Control-Allow-Origin" not in webhook.headers
