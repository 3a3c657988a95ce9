"""Intercom specifics: topics to normalized tickets, roles, the X-Hub-Signature, tickets vs conversations, the API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import responses

from integrations.base import (BadPayload, Delivery, NotConfigured, NotJson, Note, RetryLater, Unauthorized,
                               UnsupportedEvent)
from integrations.intercom.adapter import IntercomAdapter

from fakes import intercom as fake

FIXTURES = Path(__file__).parent / "fixtures" / "intercom"
SECRET = "test-secret-0123456789"
ADAPTER = IntercomAdapter({"TRUSTDESK_INTERCOM_WEBHOOK_SECRET": SECRET})


def delivery(body: bytes | dict) -> Delivery:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Delivery(raw, IntercomAdapter.signature_headers(SECRET, raw))


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def a_note(ticket_id: str, tags=("trustdesk-deflection",)) -> Note:
    marker = "trustdesk-ref:evt-9"
    return Note(event_id="evt-9", ticket_id=ticket_id, marker=marker, text=f"Deflection risk.\n{marker}",
                html=f"<p>Deflection risk.</p><p>{marker}</p>", tags=tags)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# --- parsing -------------------------------------------------------------------------

@pytest.mark.parametrize("name, ticket_id, event_id, complete, messages", [
    ("conversation.user.created.json", "21321941764", "notif_3ac27816-d27c-45fd-a65a-bbaf021cf780", True,
     [("331494375", "customer", True)]),
    ("conversation.user.replied.json", "21322009097", "notif_2c71fff0-65ef-46be-bbfe-dbf637bbff15", False,
     [("331499307", "customer", True), ("2824391734", "customer", True)]),
    ("conversation.admin.replied.json", "21322009097", "notif_44d1f763-d3ad-4927-8e5c-da6cd6ca78d2", False,
     [("331499307", "customer", True), ("2824382500", "agent", True)]),
    ("conversation.admin.noted.json", "21330067382", "notif_2087a079-b2de-408b-8f30-8d56695fe2d9", False,
     [("331786931", "customer", True), ("2826904904", "agent", False)]),
    ("ticket.created.json", "ticket-215472629311235", "notif_381b4609-2b35-4720-8389-605f220e402a", True,
     [("215472629311235:description", "customer", True), ("37403242516", "agent", True)]),
    ("ticket.contact.replied.json", "ticket-215472629548109", "notif_9d2bc71d-ac2f-4f2d-9a3c-f4213dd933aa", True,
     [("215472629548109:description", "customer", True), ("37404579123", "agent", True),
      ("37404589020", "agent", True), ("37404590647", "customer", True)]),
])
def test_fixtures_parse_to_the_normalized_ticket(name, ticket_id, event_id, complete, messages):
    event = ADAPTER.parse(delivery((FIXTURES / name).read_bytes()))
    assert (event.ticket["id"], event.event_id, event.complete, event.type) == (ticket_id, event_id, complete,
                                                                                name[:-5])
    assert [(m["id"], m["author_role"], m["public"]) for m in event.ticket["messages"]] == messages
    assert event.ticket["source"] == "intercom"


def test_conversation_details_are_kept():
    ticket = ADAPTER.parse(delivery(fixture("conversation.admin.replied.json"))).ticket
    assert ticket["requester"]["email"] == "jerryguitarist@gmail.com" and ticket["assignee"]["id"] == "1957471"
    assert ticket["status"] == "open" and ticket["created_at"] == datetime(2019, 3, 22, 21, 42, 13, tzinfo=timezone.utc)


def test_ticket_title_and_state():
    ticket = ADAPTER.parse(delivery(fixture("ticket.created.json"))).ticket
    assert ticket["subject"].startswith("Unclear user message") and ticket["status"] == "submitted"


@pytest.mark.parametrize("author_type, role", [
    ("user", "customer"), ("lead", "customer"), ("contact", "customer"),
    ("admin", "agent"), ("bot", "agent"), ("team", "agent"),
])
def test_author_type_decides_the_role(author_type, role):
    data = fixture("conversation.user.replied.json")
    data["data"]["item"]["conversation_parts"]["conversation_parts"][0]["author"]["type"] = author_type
    assert ADAPTER.parse(delivery(data)).ticket["messages"][-1]["author_role"] == role


def test_parts_without_a_known_author_or_text_are_left_out():
    data = fixture("conversation.user.replied.json")
    part = data["data"]["item"]["conversation_parts"]["conversation_parts"][0]
    part["author"]["type"] = "visitor_auto_message"
    assert len(ADAPTER.parse(delivery(data)).ticket["messages"]) == 1


def test_redelivery_keeps_the_event_id():
    data = fixture("conversation.user.replied.json")
    first = ADAPTER.parse(delivery(data)).event_id
    data["delivery_attempts"], data["delivered_at"] = 2, 1553291400
    assert ADAPTER.parse(delivery(data)).event_id == first


def test_our_own_note_is_ignored_but_a_teammates_note_is_not():
    with pytest.raises(UnsupportedEvent):
        ADAPTER.parse(delivery(fixture("ignored-own-note.json")))
    assert ADAPTER.parse(delivery(fixture("conversation.admin.noted.json"))).ticket["messages"][-1]["public"] is False


@pytest.mark.parametrize("topic", ["ping", "conversation.admin.assigned", "ticket.note.created", None])
def test_other_topics_are_ignored(topic):
    data = {**fixture("conversation.admin.noted.json"), "topic": topic}
    with pytest.raises(UnsupportedEvent):
        ADAPTER.parse(delivery(data))


def test_broken_fields_of_a_supported_topic_are_named():
    data = fixture("conversation.user.created.json")
    del data["data"]["item"]["id"]
    with pytest.raises(BadPayload) as caught:
        ADAPTER.parse(delivery(data))
    assert "data.item.id" in str(caught.value)
    with pytest.raises(NotJson):
        ADAPTER.parse(delivery(b"<xml/>"))


# --- signature -----------------------------------------------------------------------

def test_signature_is_hex_hmac_sha1_of_the_raw_body():
    body = (FIXTURES / "conversation.user.created.json").read_bytes()
    expected = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    ADAPTER.verify(Delivery(body, {"x-hub-signature": expected}))  # header names are case-insensitive
    sha256 = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    with pytest.raises(Unauthorized):
        ADAPTER.verify(Delivery(body, {"X-Hub-Signature": sha256}))


def test_no_secret_fails_closed():
    with pytest.raises(NotConfigured):
        IntercomAdapter({}).verify(delivery(b"{}"))


# --- API -----------------------------------------------------------------------------

def test_fetch_ticket_reads_the_conversation_without_our_notes(rsps):
    ours = a_note(fake.TICKET_ID)
    platform = fake.Fake(rsps, tags=["vip"], notes=[ours.html, "<p>Customer called twice.</p>"])
    ticket = IntercomAdapter(fake.SETTINGS).fetch_ticket(fake.TICKET_ID)
    assert [(m["author_role"], m["public"], m["body"]) for m in ticket["messages"]] == [
        ("customer", True, "<p>My parcel never arrived.</p>"),
        ("agent", True, "<p>Please contact the carrier, not us.</p>"),
        ("agent", False, "<p>Customer called twice.</p>")]
    assert ticket["tags"] == ["vip"] and ticket["subject"] == "Where is my order?"
    calls = [(c.method, c.path, c.json) for c in platform.requests]
    assert calls == [("GET", f"/conversations/{fake.TICKET_ID}", None)]


def test_requests_carry_the_token_and_the_pinned_version(rsps):
    fake.Fake(rsps, tags=[], notes=[])
    IntercomAdapter(fake.SETTINGS).fetch_ticket(fake.TICKET_ID)
    sent = rsps.calls[0].request.headers
    assert sent["Authorization"] == f"Bearer {fake.TOKEN}" and sent["Intercom-Version"] == "2.11"


def test_write_back_posts_an_admin_note_and_attaches_only_missing_tags(rsps):
    platform = fake.Fake(rsps, tags=["trustdesk-blame"], notes=[])
    note = a_note(fake.TICKET_ID, tags=("trustdesk-blame", "trustdesk-deflection"))
    IntercomAdapter(fake.SETTINGS).write_back(note)
    cid = fake.TICKET_ID
    assert [(c.method, c.path, c.json) for c in platform.requests[1:]] == [
        ("POST", f"/conversations/{cid}/reply",
         {"message_type": "note", "type": "admin", "admin_id": fake.ADMIN_ID, "body": note.html}),
        ("POST", "/tags", {"name": "trustdesk-deflection"}),
        ("POST", f"/conversations/{cid}/tags", {"id": platform.registry["trustdesk-deflection"],
                                                 "admin_id": fake.ADMIN_ID})]


def test_without_an_admin_id_there_is_no_write_back():
    settings = {k: v for k, v in fake.SETTINGS.items() if not k.endswith("ADMIN_ID")}
    assert not IntercomAdapter(settings).can_write_back
    with pytest.raises(NotConfigured):
        IntercomAdapter(settings).write_back(a_note(fake.TICKET_ID))


def test_tickets_go_through_the_ticket_endpoints(rsps):
    ticket = fixture("ticket.created.json")["data"]["item"]
    base = f"{fake.BASE_URL}/tickets/{ticket['id']}"
    rsps.add("GET", base, json=ticket)
    rsps.add("POST", f"{base}/reply", json={"type": "ticket_part", "id": "1", "part_type": "note"})
    rsps.add("POST", f"{fake.BASE_URL}/tags", json={"type": "tag", "id": "81", "name": "trustdesk-deflection"})
    rsps.add("POST", f"{base}/tags", json={"type": "tag", "id": "81", "name": "trustdesk-deflection"})
    adapter = IntercomAdapter(fake.SETTINGS)
    assert adapter.fetch_ticket(f"ticket-{ticket['id']}")["id"] == f"ticket-{ticket['id']}"
    adapter.write_back(a_note(f"ticket-{ticket['id']}"))
    assert json.loads(rsps.calls[2].request.body)["message_type"] == "note"
    assert json.loads(rsps.calls[4].request.body) == {"id": "81", "admin_id": fake.ADMIN_ID}


def test_recent_tickets_follow_the_search_cursor(rsps):
    ids = [str(215472629000010 + i) for i in range(5)]
    platform = fake.Fake(rsps, tags=[], notes=[], conversation_ids=ids, page_size=2)
    since = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert list(IntercomAdapter(fake.SETTINGS).recent_tickets(since)) == ids
    bodies = [c.json for c in platform.requests]
    assert [b["pagination"].get("starting_after") for b in bodies] == [None, "2", "4"]
    assert bodies[0]["query"] == {"field": "updated_at", "operator": ">", "value": int(since.timestamp())}


def test_rate_limit_reset_becomes_the_retry_delay(rsps):
    platform = fake.Fake(rsps, tags=[], notes=[])
    platform.fail_next(429, {"X-RateLimit-Reset": str(int(time.time()) + 30)})
    with pytest.raises(RetryLater) as caught:
        IntercomAdapter(fake.SETTINGS).write_back(a_note(fake.TICKET_ID))
    assert 25 <= caught.value.retry_after <= 31
