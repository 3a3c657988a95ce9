"""Lead alerts: a real SMTP server and a stubbed Slack-style webhook, once per ticket and level, retried on failure."""

from __future__ import annotations

import socket
import time

import pytest
import responses
from sqlalchemy import select

from integrations.generic.adapter import signed_headers
from plugin import alerts
from plugin.app import create_app
from plugin.services import services
from plugin.storage import AlertSent

SECRET = "alerts-secret"
HOOK = "https://hooks.example.test/services/T1/B2/secret"
RISKY = {"event_id": "evt-1", "ticket": {"id": "T-9", "subject": "Charged twice", "assignee": {"name": "Alex", "team": "Billing"},
         "messages": [{"author_role": "customer", "body": "Third time asking. I will file a chargeback with my bank, call my "
                                                            "lawyer and cancel my account."},
                      {"author_role": "agent", "body": "You should have read the terms. That was your mistake, not ours."}]}}
CALM = {"event_id": "evt-2", "ticket": {"id": "T-10", "messages": [{"author_role": "customer", "body": "Hi, how do I reset my password?"}]}}


class Inbox:
    """aiosmtpd handler that keeps messages."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def make_app(tmp_path, **settings):
    return create_app({"TESTING": True, "data_dir": str(tmp_path / "var"), "generic_webhook_secret": SECRET,
                       "public_url": "https://td.example.test", **settings})


def deliver(app, payload):
    import json

    body = json.dumps(payload).encode()
    response = app.test_client().post("/webhooks/generic", data=body, headers=signed_headers(SECRET, body))
    assert response.status_code == 200, response.json
    return response.json


def run_queued() -> int:
    queue, ran = services().queue, 0
    while (task := queue.dequeue()) is not None:
        try:
            queue.execute(task)
        except Exception:
            pass
        ran += 1
    return ran


@pytest.mark.parametrize("analysis,guidance,level", [
    ({"flags": ["escalation_risk"]}, {"risk": "medium"}, "high"),
    ({"flags": []}, {"risk": "high"}, "high"),
    ({"flags": ["blame"]}, {"risk": "medium"}, None),
    ({"flags": []}, None, None),
])
def test_alert_level(analysis, guidance, level):
    assert alerts.alert_level(analysis, guidance) == level


def test_a_high_risk_ticket_emails_the_leads_once(tmp_path, smtp):
    inbox, port = smtp
    app = make_app(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, smtp_from="td@example.test",
                   alert_emails="lead1@example.test, lead2@example.test")
    with app.app_context():
        deliver(app, RISKY)
        deliver(app, CALM)
        run_queued()
        deliver(app, {**RISKY, "event_id": "evt-3"})  # still high-risk: no second alert
        run_queued()
        deadline = time.monotonic() + 5
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(inbox.messages) == 1
        recipients, text = inbox.messages[0]
        assert recipients == ["lead1@example.test", "lead2@example.test"]
        assert "high-risk ticket generic/T-9" in text and "https://td.example.test/console/tickets/generic/T-9" in text
        assert "Alex (Billing)" in text
        with services().sessions() as session:
            row = session.scalars(select(AlertSent)).one()
            assert (row.level, row.status, row.channels) == ("high", "sent", {"email": "sent"})


@responses.activate
def test_a_failed_webhook_is_retried_and_only_the_failed_channel_resent(tmp_path, smtp):
    inbox, port = smtp
    responses.post(HOOK, status=500)
    app = make_app(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, alert_emails="lead@example.test",
                   alert_webhook_url=HOOK)
    with app.app_context():
        deliver(app, RISKY)
        run_queued()  # after_analysis, then send_alert (fails on the webhook; the queue schedules a retry)
        with services().sessions() as session:
            alert_id = session.scalar(select(AlertSent.id))
        with services().sessions() as session:
            row = session.get(AlertSent, alert_id)
            assert row.status == "failed" and row.channels["email"] == "sent"
            assert row.channels["webhook"].startswith("failed: HTTPError")
        responses.replace(responses.POST, HOOK, status=200)
        assert alerts.deliver(services(), alert_id) == {"email": "sent", "webhook": "sent"}
        assert len(inbox.messages) == 1  # the email was not sent again
        body = responses.calls[-1].request.body
        assert b'"text"' in body and b"T-9" in body
        with services().sessions() as session:
            assert session.get(AlertSent, alert_id).status == "sent"


def test_nothing_is_queued_without_alert_channels_or_shadow(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        deliver(app, RISKY)
        assert run_queued() == 0


def test_the_send_job_retries_on_failure(tmp_path):
    app = make_app(tmp_path, smtp_host="127.0.0.1", smtp_port=1, smtp_starttls=False, alert_emails="lead@example.test")
    with app.app_context():
        deliver(app, RISKY)
        queue = services().queue
        queue.execute(queue.dequeue())  # after_analysis: claims the alert and queues the send
        send = queue.dequeue()
        assert send.retries == alerts.SEND_RETRIES
        queue.execute(send)  # the SMTP server is down: AlertFailed, and the queue schedules the next try
        assert queue.scheduled_count() == 1
        with services().sessions() as session:
            row = session.scalars(select(AlertSent)).one()
            assert row.status == "failed" and row.attempts == 1


@responses.activate
def test_an_alert_that_ran_out_of_attempts_is_sent_again_by_an_admin(tmp_path):
    """The queue gives up after a few minutes; an admin sends the alert again once the webhook is back."""
    from plugin import tokens
    from plugin.storage import AuditEntry

    responses.post(HOOK, status=503)
    app = make_app(tmp_path, alert_webhook_url=HOOK)
    client = app.test_client()
    with app.app_context():
        with services().sessions.begin() as session:
            admin, agent = tokens.create(session, "ops", "admin"), tokens.create(session, "desk", "agent")
        deliver(app, RISKY)
        deliver(app, CALM)
        run_queued()
        auth = {"Authorization": f"Bearer {admin}"}
        listed = client.get("/api/v1/admin/alerts?status=failed", headers=auth).json["alerts"]
        assert [(a["external_id"], a["status"], a["attempts"]) for a in listed] == [("T-9", "failed", 1)]
        alert_id = listed[0]["id"]
        assert listed[0]["channels"]["webhook"].startswith("failed: HTTPError")
        assert client.get("/api/v1/admin/alerts?status=lost", headers=auth).status_code == 422
        assert client.post(f"/api/v1/admin/alerts/{alert_id}/retry", headers={"Authorization": f"Bearer {agent}"}).status_code == 403

        queue = services().queue
        while queue.dequeue() is not None:  # the queue's own retries, dropped: as if they had all run out
            pass
        queue.storage.flush_schedule()
        responses.replace(responses.POST, HOOK, status=200)
        retried = client.post(f"/api/v1/admin/alerts/{alert_id}/retry", headers=auth)
        assert retried.status_code == 202 and retried.json == {"id": alert_id, "status": "pending"}
        assert client.post(f"/api/v1/admin/alerts/{alert_id}/retry", headers=auth).status_code == 409  # pending now
        assert run_queued() == 1
        sent = client.get("/api/v1/admin/alerts", headers=auth).json["alerts"]
        assert [(a["status"], a["channels"], a["attempts"]) for a in sent] == [("sent", {"webhook": "sent"}, 2)]
        assert client.post(f"/api/v1/admin/alerts/{alert_id}/retry", headers=auth).status_code == 409  # sent
        assert client.post("/api/v1/admin/alerts/99999/retry", headers=auth).status_code == 404
        with services().sessions() as session:
            assert session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "alert.retry")).all() == [
                {"alert_id": alert_id}]


def test_an_alert_the_queue_refuses_stays_failed(tmp_path):
    """Queue down when an admin retries: the alert is not left pending with no job to send it."""
    from plugin.storage import Ticket

    app = make_app(tmp_path, alert_webhook_url=HOOK)
    with app.app_context():
        with services().sessions.begin() as session:
            ticket = Ticket(source="generic", external_id="T-1")
            session.add(ticket)
            session.flush()
            row = AlertSent(ticket_id=ticket.id, level="high", status="failed", attempts=6, channels={"webhook": "failed: x"})
            session.add(row)
            session.flush()
            alert_id = row.id

        def refuse(_alert_id):
            raise ConnectionError("queue down")

        services().send_alert_task = refuse
        with pytest.raises(ConnectionError):
            alerts.retry(services(), alert_id)
        with services().sessions() as session:
            assert session.get(AlertSent, alert_id).status == "failed"
