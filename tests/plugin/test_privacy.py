"""Retention purges old text; one customer's data is exported and erased, on SQLite and PostgreSQL."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from integrations.generic.adapter import signed_headers
from plugin import privacy
from plugin.app import create_app
from plugin.cli import main
from plugin.services import services
from plugin.storage import AuditEntry, Customer, Message, Ticket, WebhookEvent

SECRET = "privacy-secret"


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "var"), "database_url": database_url,
                      "generic_webhook_secret": SECRET})
    body = json.dumps({"event_id": "p1", "ticket": {
        "id": "T9", "requester": {"id": "c-9", "name": "Dana", "email": "dana@example.com"},
        "messages": [{"author_role": "customer", "body": "My address is 4 Elm Road.", "created_at": "2026-01-01T10:00:00Z"},
                     {"author_role": "agent", "body": "Thanks, noted.", "created_at": "2026-01-01T11:00:00Z"}]}}).encode()
    assert app.test_client().post("/webhooks/generic", data=body, headers=signed_headers(SECRET, body)).status_code == 200
    return app


def test_retention_clears_old_text_only(app):
    with app.app_context(), services().sessions.begin() as session:
        assert privacy.purge_old_text(session, 30, now=datetime(2026, 1, 15, tzinfo=timezone.utc)) == 0
        later = datetime.now(timezone.utc) + timedelta(days=400)
        assert privacy.purge_old_text(session, 30, now=later) == 2
    with app.app_context(), services().sessions() as session:
        assert all(m.body is None and m.purged_at for m in session.scalars(select(Message)))
        assert session.scalars(select(WebhookEvent)).one().response is None
        assert session.scalars(select(Ticket)).one().external_id == "T9"  # scores and structure stay


def test_export_and_erase(app):
    with app.app_context(), services().sessions() as session:
        data = privacy.export(session, "c-9")
    assert data["customer"]["email"] == "dana@example.com"
    assert [m["body"] for m in data["tickets"][0]["messages"]] == ["My address is 4 Elm Road.", "Thanks, noted."]
    with app.app_context(), services().sessions.begin() as session:
        assert privacy.erase(session, "c-9", actor="test") is True
    with app.app_context(), services().sessions() as session:
        for model in (Customer, Ticket, Message):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        assert session.scalars(select(WebhookEvent)).one().response is None
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.erase")).one().actor == "test"
        assert privacy.export(session, "c-9") is None and privacy.erase(session, "c-9") is False


def test_customers_cli(app, monkeypatch):
    settings = app.config["TRUSTDESK_SETTINGS"]
    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TRUSTDESK_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    exported = runner.invoke(main, ["customers", "export", "c-9"])
    assert exported.exit_code == 0 and json.loads(exported.stdout)["customer"]["name"] == "Dana"
    assert runner.invoke(main, ["customers", "erase", "c-9"], input="n\n").exit_code != 0  # asked, refused
    assert runner.invoke(main, ["customers", "erase", "c-9", "--yes"]).exit_code == 0
    assert runner.invoke(main, ["customers", "export", "c-9"]).exit_code != 0
