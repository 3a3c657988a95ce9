"""Admins in a real browser: thresholds move the queue, training with progress, activate and roll back, alerts, roles."""

from __future__ import annotations

import re
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from plugin.services import services

HIGH_RISK_MESSAGES = [
    {"id": "m1", "author_role": "customer", "author": {"name": "Sam Ortiz"}, "created_at": "2026-03-02T08:00:00Z",
     "body": "This is the third time I am writing. If this is not fixed today I will file a chargeback with my bank, "
             "call my lawyer and cancel my account."},
    {"id": "m2", "author_role": "agent", "author": {"name": "Alex"}, "created_at": "2026-03-02T08:30:00Z",
     "body": "You should have read the terms before booking. That was your mistake, not ours."},
]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "data": envelope.content.decode("utf-8", "replace")})
        return "250 OK"

    def wait(self, count: int = 1, timeout: float = 30.0) -> list[dict]:
        """Wait until `count` messages arrived (or the timeout), then return them all."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.messages


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on loopback, in a thread."""
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@contextmanager
def job_consumer(app) -> Iterator[None]:
    """The app's job queue consumed by a thread, as `trustdesk serve` runs it beside the web workers."""
    with app.app_context():
        queue = services().queue
    consumer = queue.create_consumer(workers=1, worker_type="thread", periodic=False, check_worker_health=False)
    consumer.start()
    try:
        yield
    finally:
        consumer.stop(graceful=False)

TINY_CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_corpus"


@pytest.fixture
def inbox():
    """A stub SMTP server for the alerts."""
    with smtp_server() as (inbox, port):
        inbox.port = port
        yield inbox


@pytest.fixture
def server_settings(inbox):
    """Train on the tiny corpus (seconds, not minutes) and send alerts to the stub SMTP server."""
    return {"training_data_dir": str(TINY_CORPUS), "smtp_host": "127.0.0.1", "smtp_port": inbox.port,
            "smtp_starttls": False, "smtp_from": "trustdesk@example.test", "alert_emails": "leads@example.test",
            "public_url": "https://trustdesk.example.test"}


def expect(locator):
    """Playwright's expect, imported late so a machine without playwright skips (conftest) instead of failing to collect."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def _queue_rows(page) -> list[str]:
    return page.locator("#queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.ticket)")


MILD = [{"id": "m1", "author_role": "customer", "body": "My parcel never arrived."},
        # Blame scores about 0.2 here: under the shipped threshold (0.34), over a stricter one.
        {"id": "m2", "author_role": "agent", "body": "As mentioned before, the form has to be filled in completely."}]


def test_admin_changes_a_threshold_and_the_queue_changes(page, live_server, login, deliver, generic_ticket, shot):
    deliver(generic_ticket("T-1042", assignee={"name": "Robin", "team": "Rentals"}))
    deliver(generic_ticket("T-3003", subject="Parcel missing", messages=MILD, assignee={"name": "Kim", "team": "Parcels"}))
    login(page, "admin")
    page.goto(f"{live_server.url}/console/queue")
    assert _queue_rows(page) == ["generic/T-1042"]

    page.goto(f"{live_server.url}/console/admin/thresholds")
    expect(page.locator("#curve-status")).to_have_attribute("data-ready", "1", timeout=120_000)
    readout = page.locator("#pr-blame")
    before = readout.inner_text()
    slider = page.get_by_role("slider", name="Threshold for blame (agent messages)")
    slider.fill("0.16")
    slider.press("ArrowLeft")  # keyboard users move it too
    assert page.locator("#num-blame").input_value() == "0.15"
    assert readout.inner_text() != before and "At 0.15: precision" in readout.inner_text()
    shot(page, "admin-thresholds")
    page.get_by_role("button", name="Save thresholds").click()
    assert page.get_by_text("Thresholds saved").is_visible()

    page.goto(f"{live_server.url}/console/queue")
    assert sorted(_queue_rows(page)) == ["generic/T-1042", "generic/T-3003"]
    page.goto(f"{live_server.url}/console/admin/thresholds")
    page.get_by_role("checkbox", name=re.compile("blame.*model's own|model's own", re.I)).first.check()
    page.get_by_role("button", name="Save thresholds").click()
    page.goto(f"{live_server.url}/console/queue")
    assert _queue_rows(page) == ["generic/T-1042"]


def test_admin_trains_activates_and_rolls_back_a_model(page, live_server, login, shot):
    login(page, "admin")
    page.goto(f"{live_server.url}/console/admin/models/")
    shipped = page.locator("tr.active-version code").first.inner_text()
    page.get_by_role("button", name="Train a new model").click()
    run = page.locator(".training-run").first
    assert run.locator("progress").is_visible()
    expect(run).to_have_attribute("data-status", re.compile("running|done"), timeout=60_000)
    shot(page, "admin-models-training")
    expect(run).to_have_attribute("data-status", "done", timeout=240_000)
    trained = re.search(r"version (td\S+)", run.locator(".run-message").inner_text()).group(1)
    assert trained != shipped

    page.goto(f"{live_server.url}/console/admin/models/")
    page.get_by_role("button", name=f"Activate {trained}").click()
    assert page.get_by_text(f"Model {trained} is now active").is_visible()
    assert page.locator("tr.active-version code").first.inner_text() == trained
    shot(page, "admin-models")

    page.get_by_role("button", name="Roll back to the previous model").click()
    assert page.get_by_text(f"Rolled back: model {shipped} is active again").is_visible()
    assert page.locator("tr.active-version code").first.inner_text() == shipped

    page.get_by_label("Candidate").select_option(trained)
    page.get_by_role("button", name="Set shadow candidate").click()
    assert page.get_by_text(f"{trained} runs in shadow").is_visible()
    assert page.locator("#shadow-summary").is_visible()
    shot(page, "admin-models-shadow")


def test_a_high_risk_ticket_from_a_webhook_sends_one_alert(page, live_server, login, deliver, generic_ticket, inbox, shot):
    ticket = generic_ticket("T-2001", subject="Charged twice for one booking", messages=HIGH_RISK_MESSAGES,
                            assignee={"name": "Alex", "team": "Billing"})
    with job_consumer(live_server.app):
        answer = deliver(ticket)
        assert answer["guidance"]["risk"] == "high"
        messages = inbox.wait(1)
        deliver(ticket)  # the same ticket again, still high-risk: leads are not told twice
        inbox.wait(2, timeout=3)
    assert len(messages) == 1
    mail = messages[0]
    assert mail["to"] == ["leads@example.test"]
    assert "high-risk ticket generic/T-2001" in mail["data"]
    assert "https://trustdesk.example.test/console/tickets/generic/T-2001" in mail["data"]

    login(page, "admin")
    page.goto(f"{live_server.url}/console/admin/integrations")
    assert page.get_by_role("link", name="generic/T-2001").is_visible()
    assert page.get_by_text("email: sent").is_visible()
    shot(page, "admin-integrations")


def test_a_lead_is_refused_on_admin_pages(page, live_server, login, shot):
    login(page, "lead")
    assert page.get_by_role("link", name="Admin").count() == 0
    for path in ("/console/admin/", "/console/admin/thresholds", "/console/admin/models/",
                 "/console/admin/playbooks/general", "/console/admin/integrations"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, path
        assert page.get_by_text("needs the admin role").is_visible()
    shot(page, "admin-refused-for-lead")
    response = page.goto(f"{live_server.url}/console/trends")
    assert response.status == 200  # trends are for leads


def test_admin_pages_partners_playbooks_and_trends(page, live_server, login, deliver, generic_ticket, shot):
    deliver(generic_ticket("T-1042", assignee={"name": "Robin", "team": "Rentals"}))
    deliver(generic_ticket("T-2001", messages=HIGH_RISK_MESSAGES, assignee={"name": "Alex", "team": "Billing"}))
    login(page, "admin")
    page.goto(f"{live_server.url}/console/admin/")
    shot(page, "admin-index")

    page.goto(f"{live_server.url}/console/admin/partners")
    page.get_by_label("One name per line").fill("Acme Travel\nZippy Couriers")
    page.get_by_role("button", name="Save partner names").click()
    assert page.get_by_text("Saved 2 partner name(s)").is_visible()
    assert "Zippy Couriers" in page.get_by_label("One name per line").input_value()
    shot(page, "admin-partners")

    page.goto(f"{live_server.url}/console/admin/playbooks")
    shot(page, "admin-playbooks")
    page.get_by_role("link", name="marketplace-partner").click()
    text = page.get_by_label("Playbook file").input_value()
    page.get_by_label("Playbook file").fill(text.replace("id = ", "idd = ", 1))
    page.get_by_role("button", name="Validate").click()
    assert "idd" in page.locator("#playbook-error").inner_text()
    page.get_by_label("Playbook file").fill(text.replace('title = "', 'title = "Edited: ', 1))
    page.get_by_role("button", name="Preview").click()
    assert page.locator("#preview").is_visible()
    shot(page, "admin-playbook-preview")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("Saved marketplace-partner").is_visible()
    page.goto(f"{live_server.url}/console/admin/playbooks")
    assert page.locator("tr", has_text="marketplace-partner").get_by_text("edited here").is_visible()

    page.goto(f"{live_server.url}/console/trends")
    assert page.locator("#chart-rates").is_visible()
    expect(page.locator("body")).to_have_attribute("data-charts", "drawn")
    shot(page, "trends")
    page.set_viewport_size({"width": 800, "height": 1000})
    page.goto(f"{live_server.url}/console/admin/thresholds")
    shot(page, "admin-thresholds-tablet")
