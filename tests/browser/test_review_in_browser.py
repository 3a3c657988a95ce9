"""A lead's day in a real browser: sign in, find the riskiest ticket, see why, judge it, follow thresholds, customers."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from plugin import tokens
from plugin.storage import CoachingNote, Feedback, TicketReview

HIGH_RISK = [
    {"id": "m1", "author_role": "customer", "author": {"name": "Sam Ortiz"}, "created_at": "2026-03-02T08:00:00Z",
     "body": "This is the third time I am writing. If this is not fixed today I will file a chargeback with my bank "
             "and cancel my account."},
    {"id": "m2", "author_role": "agent", "author": {"name": "Alex"}, "created_at": "2026-03-02T08:30:00Z",
     "body": "You should have read the terms before booking. That was your mistake, not ours."},
]


@pytest.fixture
def two_tickets(deliver, generic_ticket):
    """A deflection (medium risk) and a blame with a chargeback threat (high risk), delivered by webhook."""
    deliver(generic_ticket("T-1042", subject="Car not at the pickup address",
                           assignee={"name": "Robin", "team": "Rentals"},
                           requester={"id": "c-88", "name": "Dana Whitfield", "organization": "Whitfield Travel",
                                      "value": 2400}))
    deliver(generic_ticket("T-2001", subject="Charged twice for one booking", messages=HIGH_RISK,
                           assignee={"name": "Alex", "team": "Billing"},
                           requester={"id": "c-12", "name": "Sam Ortiz", "organization": "Ortiz GmbH", "value": 900}))


def _rows(page) -> list[str]:
    return page.locator("#queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.ticket)")


def test_lead_finds_the_riskiest_ticket_sees_why_and_confirms_the_flag(page, live_server, two_tickets, login, shot):
    lead = login(page, "lead")
    assert page.url.endswith("/console/queue")
    assert _rows(page) == ["generic/T-2001", "generic/T-1042"]  # high risk before medium
    top = page.locator("#queue tbody tr").first
    assert top.locator(".risk").inner_text().lower() == "high"
    assert "file a chargeback" in top.locator(".why").inner_text()  # the strongest evidence span
    assert page.get_by_role("link", name="Admin").count() == 0  # leads do not see the admin pages
    shot(page, "queue")

    page.get_by_role("link", name="Car not at the pickup address").click()
    page.wait_for_url("**/console/tickets/generic/T-1042")
    flagged = page.locator("#message-1 mark.span-deflection")
    assert flagged.inner_text().startswith("Expedia is an independent third party, please contact Expedia.")
    assert "please contact Expedia" in page.locator("#why").inner_text()
    assert "No record" in page.locator("#suggestion-use").inner_text()
    shot(page, "ticket")

    page.get_by_role("button", name="Confirm third-party deflection").click()
    assert "Flag confirmed" in page.locator(".flash").first.inner_text()
    assert "Confirmed: Third-party deflection, message 2" in page.locator("#verdicts").inner_text()
    page.get_by_label("Add a coaching note").fill("Offer to contact Expedia yourself next time.")
    page.get_by_role("button", name="Add note").click()
    assert "Offer to contact Expedia yourself" in page.locator("blockquote.note").inner_text()
    page.get_by_role("button", name="Mark handled").click()
    assert f"Handled by {lead}" in page.locator("#handled-state").inner_text()
    shot(page, "ticket-reviewed")

    with live_server.sessions()() as session:
        verdict = session.scalars(select(Feedback).where(Feedback.kind == "flag_confirmed")).one()
        assert (verdict.value["label"], verdict.value["message_index"], verdict.actor) == ("deflection", 1, lead)
        assert session.scalars(select(CoachingNote)).one().author == lead
        assert session.scalars(select(TicketReview)).one().handled_by == lead

    page.goto(f"{live_server.url}/console/queue")
    assert _rows(page) == ["generic/T-2001"]  # handled tickets leave the open queue
    page.get_by_label("Status").select_option("handled")
    page.get_by_role("button", name="Apply filters").click()
    assert _rows(page) == ["generic/T-1042"]


def test_mark_wrong_is_stored_as_training_feedback(page, live_server, two_tickets, login):
    login(page, "lead")
    page.goto(f"{live_server.url}/console/tickets/generic/T-2001")
    page.get_by_role("button", name="Mark blame wrong").click()
    assert "Flag marked wrong" in page.locator(".flash").first.inner_text()
    with live_server.sessions()() as session:
        verdict = session.scalars(select(Feedback).where(Feedback.kind == "flag_wrong")).one()
        assert verdict.value == {"label": "blame", "message_index": 1, "text": None}


def test_filters_and_sort_by_value_at_risk(page, live_server, two_tickets, login, shot):
    login(page, "lead")
    page.get_by_label("Sort by").select_option("value")
    page.get_by_role("button", name="Apply filters").click()
    assert _rows(page) == ["generic/T-1042", "generic/T-2001"]  # Dana's account is worth more
    page.get_by_label("Team").select_option("Billing")
    page.get_by_role("button", name="Apply filters").click()
    assert _rows(page) == ["generic/T-2001"]
    page.goto(f"{live_server.url}/console/queue?label=deflection")
    assert _rows(page) == ["generic/T-1042"]
    page.goto(f"{live_server.url}/console/queue?since=2000-01-01&until=2000-01-02")
    assert page.locator("#queue-empty").is_visible()
    response = page.goto(f"{live_server.url}/console/queue?since=yesterday")
    assert response.status == 400 and "since: expected a date" in page.locator("#error-detail").inner_text()


def test_a_threshold_change_changes_the_queue(page, live_server, two_tickets, login, shot):
    login(page, "lead")
    assert "generic/T-1042" in _rows(page)
    with live_server.sessions().begin() as session:
        token = tokens.create(session, "threshold test", "admin")
    put = lambda value: requests.put(f"{live_server.url}/api/v1/admin/thresholds", json={"thresholds": {"deflection": value}},
                                     headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert put(1.0).status_code == 200  # no deflection score reaches 1.0: the deflection ticket is no longer flagged
    page.reload()
    assert _rows(page) == ["generic/T-2001"]
    shot(page, "queue-after-threshold-change")
    assert put(None).status_code == 200  # back to the model's own threshold
    page.reload()
    assert _rows(page) == ["generic/T-2001", "generic/T-1042"]


def test_customers_at_risk_with_the_events_that_moved_them(page, live_server, two_tickets, login, shot):
    login(page, "lead")
    page.get_by_role("link", name="Customers").click()
    customers = page.locator("#customers tbody tr")
    assert "Sam Ortiz" in customers.first.inner_text()  # blamed and escalating: lowest trust first
    assert "Blamed" in customers.first.inner_text()
    assert "Whitfield Travel" in page.locator("#organizations").inner_text()
    assert "Deflected to a third party" in page.locator("#organizations").inner_text()
    shot(page, "customers")
    page.get_by_role("link", name="Best first").click()
    assert "Dana Whitfield" in page.locator("#customers tbody tr").first.inner_text()
    page.get_by_role("link", name="Value at risk").click()
    assert re.search(r"[?&]sort=value", page.url)
    page.locator("#customers").get_by_role("link", name="T-1042").first.click()
    page.wait_for_url("**/console/tickets/generic/T-1042")


def test_pages_fit_a_tablet(page, live_server, two_tickets, login, shot):
    login(page, "lead")
    page.set_viewport_size({"width": 800, "height": 1100})
    for path, name in (("/console/queue", "queue-tablet"), ("/console/tickets/generic/T-2001", "ticket-tablet"),
                       ("/console/customers", "customers-tablet")):
        page.goto(live_server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 800px"
        shot(page, name)
