"""Freshdesk: shared-secret checks, triggered events, per-rule author roles, event ids, API pagination and tags."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import responses

from integrations.base import BadPayload, Delivery, NotConfigured, NotJson, Note, RetryLater, Unauthorized, UnsupportedEvent
from integrations.freshdesk.adapter import FreshdeskAdapter

from fakes import freshdesk as fake

FIXTURES = Path(__file__).parent / "fixtures" / "freshdesk"
SECRET = "test-secret-0123456789"


def adapter(**extra) -> FreshdeskAdapter:
    return FreshdeskAdapter({"TRUSTDESK_FRESHDESK_WEBHOOK_SECRET": SECRET, **extra})


def parse(body: bytes):
    return adapter().parse(Delivery(body, FreshdeskAdapter.signature_headers(SECRET, body)))


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_bytes())


def with_fields(name: str, **fields) -> bytes:
    data = fixture(name)
    data["freshdesk_webhook"].update(fields)
    return json.dumps(data).encode()


def note(ref: str = "abc123") -> Note:
    marker = f"trustdesk-ref:{ref}"
    return Note(f"evt-{ref}", fake.TICKET_ID, marker, f"Trustdesk note\n{marker}", f"<p>Trustdesk note</p><p>{marker}</p>",
                ("trustdesk-deflection", "trustdesk-blame"))


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# --- the shared secret -------------------------------------------------------------

def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("headers, ok", [
    (basic("freshdesk", SECRET), True),
    ({"X-Trustdesk-Token": SECRET}, True),
    (basic(SECRET, "X"), False),  # the secret belongs in the password
    (basic("freshdesk", "wrong"), False),
    ({}, False),
])
def test_the_rule_presents_the_secret_as_basic_password_or_token(headers, ok):
    delivery = Delivery(b"{}", headers)
    if ok:
        adapter().verify(delivery)
    else:
        with pytest.raises(Unauthorized):
            adapter().verify(delivery)


def test_without_a_secret_everything_is_refused():
    with pytest.raises(NotConfigured):
        FreshdeskAdapter({}).verify(Delivery(b"{}", basic("freshdesk", SECRET)))


# --- parsing ---------------------------------------------------------------------

@pytest.mark.parametrize("name, kind, roles, public, complete", [
    ("ticket_created.json", "ticket_created", ["customer"], [True], True),
    ("ticket-created-inline-images.json", "ticket_created", ["customer"], [True], True),
    ("note_added.json", "note_added", ["customer"], [True], False),  # Zulip's template: no note text
    ("note-private-with-text.json", "note_added", ["customer", "agent"], [True, False], False),
    ("reply_added.json", "reply_added", ["customer", "customer"], [True, True], False),
    ("reply_added-agent.json", "reply_added", ["customer", "agent"], [True, True], False),
])
def test_fixtures_parse_to_the_right_ticket(name, kind, roles, public, complete):
    event = parse((FIXTURES / name).read_bytes())
    assert event.type == kind and event.ticket["source"] == "freshdesk" and event.complete is complete
    assert [m["author_role"] for m in event.ticket["messages"]] == roles
    assert [m["public"] for m in event.ticket["messages"]] == public


def test_ticket_fields_are_normalized():
    ticket = parse((FIXTURES / "reply_added.json").read_bytes()).ticket
    assert (ticket["id"], ticket["subject"], ticket["status"]) == ("11", "Refund for double charge", "open")
    assert ticket["tags"] == ["billing", "refund"]
    assert ticket["requester"]["email"] == "requester-bob@example.com"
    description, reply = ticket["messages"]
    assert description["id"] == "11:description" and description["body"] == "I was charged twice for order 8812."
    assert reply["body"].startswith("Your bank told me to call you.")


@pytest.mark.parametrize("name, reason", [
    ("ignored-status-changed.json", "status"),
    ("ignored-priority-changed.json", "priority"),
    ("ignored-note-private-without-text.json", "latest_private_comment"),
    ("ignored-own-note.json", "own"),
])
def test_ignored_deliveries_say_why(name, reason):
    with pytest.raises(UnsupportedEvent) as caught:
        parse((FIXTURES / name).read_bytes())
    assert reason in str(caught.value)


def test_an_unknown_per_rule_event_is_ignored():
    with pytest.raises(UnsupportedEvent):
        parse(with_fields("reply_added.json", trustdesk_event="reply_deleted"))


@pytest.mark.parametrize("role, expected", [("agent", "agent"), ("Customer", "customer"), ("", "customer")])
def test_the_rule_s_author_role_decides_and_the_requester_is_the_default(role, expected):
    event = parse(with_fields("ticket_created.json", trustdesk_author_role=role))
    assert event.ticket["messages"][0]["author_role"] == expected


def test_a_reply_without_the_rule_s_author_role_is_a_bad_payload():
    with pytest.raises(BadPayload) as caught:
        parse(with_fields("reply_added.json", trustdesk_author_role=""))
    assert "trustdesk_author_role" in str(caught.value) and caught.value.fields


@pytest.mark.parametrize("body, error, field", [
    (b"ticket=11", NotJson, "not JSON"),
    (json.dumps({"freshdesk_webhook": {"triggered_event": "{ticket_action:created}"}}).encode(), BadPayload, "ticket_id"),
    (with_fields("reply_added.json", trustdesk_author_role="manager"), BadPayload, "trustdesk_author_role"),
])
def test_broken_deliveries_name_the_problem(body, error, field):
    with pytest.raises(error) as caught:
        parse(body)
    assert field in str(caught.value)


def test_event_ids_are_stable_and_tell_replies_apart():
    assert parse((FIXTURES / "ticket_created.json").read_bytes()).event_id == "11:created"
    first = parse((FIXTURES / "reply_added.json").read_bytes()).event_id
    assert first == parse((FIXTURES / "reply_added.json").read_bytes()).event_id and first.startswith("11:reply:")
    assert parse(with_fields("reply_added.json", latest_public_comment="<div>And again.</div>")).event_id != first
    private = parse((FIXTURES / "note-private-with-text.json").read_bytes()).event_id
    assert private.startswith("11:note-private:")


# --- API -------------------------------------------------------------------------

def test_api_needs_url_and_key():
    assert not adapter(TRUSTDESK_FRESHDESK_API_TOKEN="k").can_write_back
    with pytest.raises(NotConfigured):
        adapter().fetch_ticket("11")


def test_fetch_ticket_follows_link_pages_and_reads_roles_from_incoming(rsps):
    platform = fake.Fake(rsps, tags=["vip"], notes=[note().text, "<div>Called the bank.</div>"], page_size=2)
    ticket = FreshdeskAdapter(fake.SETTINGS).fetch_ticket(fake.TICKET_ID)
    pages = [c.url for c in platform.requests if c.path.endswith("/conversations")]
    assert len(pages) == 2 and "per_page=100" in pages[0] and "page=2" in pages[1]
    assert "include=requester" in platform.requests[0].url
    assert [m["author_role"] for m in ticket["messages"]] == ["customer", "agent", "customer", "agent"]
    assert [m["public"] for m in ticket["messages"]] == [True, True, True, False]
    assert all(note().marker not in m["body"] for m in ticket["messages"])
    assert ticket["status"] == "open" and ticket["requester"]["name"] == "Requester Bob"


def test_recent_tickets_follow_the_link_header(rsps):
    platform = fake.Fake(rsps, tags=[], notes=[], page_size=2, ticket_ids=["1", "2", "3", "4", "5"])
    since = datetime(2025, 3, 1, 8, 30, tzinfo=timezone.utc)
    assert list(FreshdeskAdapter(fake.SETTINGS).recent_tickets(since)) == ["1", "2", "3", "4", "5"]
    urls = [c.url for c in platform.requests]
    assert len(urls) == 3 and "updated_since=2025-03-01T08%3A30%3A00Z" in urls[0] and "order_by=updated_at" in urls[0]


def test_write_back_posts_a_private_note_and_merges_tags(rsps):
    platform = fake.Fake(rsps, tags=["vip", "trustdesk-blame"], notes=[])
    FreshdeskAdapter(fake.SETTINGS).write_back(note())
    writes = [(c.method, c.url, c.json) for c in platform.requests if c.method != "GET"]
    assert writes == [
        ("POST", f"{fake.BASE_URL}/api/v2/tickets/11/notes", {"body": note().html, "private": True}),
        # the tags field replaces the set: read, then send the union
        ("PUT", f"{fake.BASE_URL}/api/v2/tickets/11", {"tags": ["vip", "trustdesk-blame", "trustdesk-deflection"]}),
    ]
    assert all(c.request.headers["Authorization"] == fake.AUTHORIZATION for c in rsps.calls)


def test_tags_already_there_are_not_written_again(rsps):
    platform = fake.Fake(rsps, tags=["trustdesk-deflection", "trustdesk-blame"], notes=[note().text])
    FreshdeskAdapter(fake.SETTINGS).write_back(note())
    assert [c.method for c in platform.requests if c.method != "GET"] == []


@pytest.mark.parametrize("headers, wait", [
    ({"Retry-After": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Total": "200"}, 60.0),
    ({"X-RateLimit-Remaining": "0"}, None),
])
def test_rate_limit_headers_become_the_retry_wait(rsps, headers, wait):
    platform = fake.Fake(rsps, tags=[], notes=[])
    platform.fail_next(429, headers)
    with pytest.raises(RetryLater) as caught:
        FreshdeskAdapter(fake.SETTINGS).write_back(note())
    assert caught.value.retry_after == wait
