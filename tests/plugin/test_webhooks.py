"""The generic webhook end to end, on SQLite and on a real PostgreSQL."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from integrations.generic.adapter import signed_headers
from plugin.app import create_app
from plugin.services import services
from plugin.storage import Analysis, Message, WebhookEvent

SECRET = "webhook-secret-for-tests"
FIXTURE = Path(__file__).resolve().parents[1] / "integrations" / "fixtures" / "generic" / "ticket.json"


@pytest.fixture
def app(database_url, tmp_path):
    return create_app({"TESTING": True, "data_dir": str(tmp_path / "var"), "database_url": database_url,
                       "generic_webhook_secret": SECRET})


@pytest.fixture
def client(app):
    return app.test_client()


def signed_post(client, body: bytes, secret: str = SECRET, name: str = "generic"):
    return client.post(f"/webhooks/{name}", data=body, headers=signed_headers(secret, body))


def count(app, model):
    with app.app_context(), services().sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_signed_delivery_is_stored_classified_and_guided(app, client):
    response = signed_post(client, FIXTURE.read_bytes())
    assert response.status_code == 200, response.json
    body = response.json
    assert body["ticket_id"] == "T-1042" and "deflection" in body["analysis"]["flags"]
    assert "I'll contact Expedia" in body["guidance"]["rewrite"]["text"]
    assert count(app, Message) == 2 and count(app, Analysis) == 1


def test_a_redelivery_is_answered_from_storage_and_not_processed_again(app, client):
    first = signed_post(client, FIXTURE.read_bytes())
    again = signed_post(client, FIXTURE.read_bytes())
    assert again.status_code == 200 and again.json == first.json
    assert count(app, Analysis) == 1 and count(app, WebhookEvent) == 1


def test_the_same_event_id_with_another_body_is_a_conflict(client):
    data = json.loads(FIXTURE.read_text())
    signed_post(client, json.dumps(data).encode())
    data["ticket"]["subject"] = "changed"
    assert signed_post(client, json.dumps(data).encode()).status_code == 409


@pytest.mark.parametrize(
    "body, status, mention",
    [
        (b"not json", 400, "JSON"),
        (json.dumps({"event_id": "e1"}).encode(), 422, "ticket"),
        (json.dumps({"event_id": "e1", "ticket": {"id": "1", "messages": [{"author_role": "robot", "body": "x"}]}}).encode(),
         422, "messages.0.author_role"),
    ],
)
def test_bad_bodies_are_refused_with_a_reason(client, body, status, mention):
    response = signed_post(client, body)
    assert response.status_code == status and mention in json.dumps(response.json)


def test_wrong_signature_is_refused_and_nothing_is_stored(app, client):
    response = signed_post(client, FIXTURE.read_bytes(), secret="not-the-secret")
    assert response.status_code == 401
    assert count(app, WebhookEvent) == 0


def test_unknown_integration_is_404(client):
    assert signed_post(client, FIXTURE.read_bytes(), name="nope").status_code == 404


def test_oversized_body_is_413(client):
    body = b'{"event_id": "big", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert signed_post(client, body).status_code == 413


def test_without_a_secret_every_delivery_is_refused(database_url, tmp_path):
    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "v"), "database_url": database_url})
    response = signed_post(app.test_client(), FIXTURE.read_bytes())
    assert response.status_code == 401 and "not configured" in response.json["error"]


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz").json
    assert ready["status"] == "ready" and ready["checks"]["integrations"]["generic"] == "dry-run"
    assert ready["checks"]["queue"]["backend"] == "SqliteHuey" and ready["checks"]["queue"]["pending"] >= 0


def test_readiness_fails_when_the_queue_is_unreachable(tmp_path):
    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "v"), "redis_url": "redis://127.0.0.1:1/0"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["queue"].startswith("unavailable")


def test_a_partial_delivery_is_merged_with_the_stored_conversation(tmp_path):
    """Stored times come back from SQLite without an offset; merged with a new message they must still compare."""
    from models.ticket import load_ticket
    from plugin.pipeline import analyse, merge_with_store

    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "v")})
    first = load_ticket({"id": "P1", "messages": [
        {"id": "m1", "author_role": "customer", "body": "My order never came.", "created_at": "2026-11-01T09:00:00Z"}]})
    later = load_ticket({"id": "P1", "messages": [
        {"id": "m2", "author_role": "agent", "body": "Please contact the courier.", "created_at": "2026-11-01T10:00:00+01:00"},
        {"id": "m1", "author_role": "customer", "body": "My order never came.", "created_at": "2026-11-01T09:00:00Z"}]})
    with app.app_context():
        with services().sessions.begin() as session:
            analyse(session, services(), "generic", first)
        with services().sessions.begin() as session:
            merged = merge_with_store(session, "generic", later)
            assert [m["id"] for m in merged["messages"]] == ["m1", "m2"]
            _, analysis, _ = analyse(session, services(), "generic", merged)
    assert len(analysis["messages"]) == 2 and "deflection" in analysis["flags"]


def test_a_redelivered_ticket_stores_exactly_its_latest_messages(tmp_path):
    """Messages are written only where they changed, yet the stored conversation is always the delivered one."""
    from sqlalchemy import select, update

    from models.ticket import load_ticket
    from plugin.pipeline import analyse
    from plugin.storage import Message

    def delivered(*bodies):
        return load_ticket({"id": "M1", "messages": [{"id": f"m{n}", "author_role": "customer", "body": body,
                                                      "created_at": "2026-11-01T09:00:00+01:00"}
                                                     for n, body in enumerate(bodies)]})

    app = create_app({"TESTING": True, "data_dir": str(tmp_path / "v")})
    with app.app_context():
        for bodies in (("Where is it?", "Hello?"), ("Where is my parcel?", "Hello?", "Anyone?"), ("Only this.",)):
            with services().sessions.begin() as session:
                session.execute(update(Message).values(body=None))  # as retention leaves a purged message
                analyse(session, services(), "generic", delivered(*bodies))
            with services().sessions() as session:
                stored = session.execute(select(Message.external_id, Message.body).order_by(Message.position)).all()
            assert [tuple(row) for row in stored] == [(f"m{n}", body) for n, body in enumerate(bodies)]
