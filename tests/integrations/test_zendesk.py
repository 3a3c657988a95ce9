"""Zendesk: signature details, both delivery kinds, author roles, event ids, API pagination and write-back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import responses

from integrations.base import BadPayload, Delivery, NotConfigured, NotJson, Note, RetryLater, Unauthorized
from integrations.zendesk.adapter import ZendeskAdapter, sign

from fakes import zendesk as fake

FIXTURES = Path(__file__).parent / "fixtures" / "zendesk"
SECRET = "test-secret-0123456789"


def adapter(**extra) -> ZendeskAdapter:
    return ZendeskAdapter({"TRUSTDESK_ZENDESK_WEBHOOK_SECRET": SECRET, **extra})


def parse(body: bytes):
    return adapter().parse(Delivery(body, ZendeskAdapter.signature_headers(SECRET, body)))


def parse_fixture(name: str):
    return parse((FIXTURES / name).read_bytes())


def note(ref: str = "abc123") -> Note:
    marker = f"trustdesk-ref:{ref}"
    return Note(f"evt-{ref}", fake.TICKET_ID, marker, f"Trustdesk note\n{marker}", f"<p>Trustdesk note</p><p>{marker}</p>",
                ("trustdesk-deflection",))


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# --- signature -------------------------------------------------------------------

def test_signature_is_base64_hmac_of_timestamp_then_body():
    # Sample secret, body and timestamp from Zendesk's older "Verifying webhook authenticity"
    # page. That page's signature (tRDSF7...) is the HMAC of body + timestamp, the opposite
    # order to the formula every current page states, base64(HMACSHA256(TIMESTAMP + BODY));
    # we follow the current formula, so the expected value is computed, not published.
    secret, body, ts = "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=", b'{"say": "hello"}', "2021-07-25T10:00:00Z"
    assert sign(secret, ts, body) == "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk="
    old_page = base64.b64encode(hmac.new(secret.encode(), body + ts.encode(), hashlib.sha256).digest()).decode()
    assert old_page == "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=" != sign(secret, ts, body)


def test_the_key_is_the_secret_text_not_its_base64_decoding():
    secret, body, ts = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==", b"{}", "2024-01-01T00:00:00Z"
    expected = base64.b64encode(hmac.new(secret.encode("utf-8"), ts.encode() + body, hashlib.sha256).digest()).decode()
    assert sign(secret, ts, body) == expected


@pytest.mark.parametrize("age, accepted", [(0, True), (299, True), (-299, True), (301, False), (-301, False)])
def test_replay_window_is_five_minutes_either_way(age, accepted):
    body, sent = b'{"ticket_id": "1"}', 1_700_000_000
    delivery = Delivery(body, ZendeskAdapter.signature_headers(SECRET, body, now=sent), received_at=sent + age)
    if accepted:
        adapter().verify(delivery)
    else:
        with pytest.raises(Unauthorized):
            adapter().verify(delivery)


def test_timestamp_header_is_iso_8601_utc_and_a_bad_one_is_refused():
    headers = ZendeskAdapter.signature_headers(SECRET, b"{}", now=1616648967.0)
    assert headers["X-Zendesk-Webhook-Signature-Timestamp"] == "2021-03-25T05:09:27Z"  # the documented form
    bad = {**headers, "X-Zendesk-Webhook-Signature-Timestamp": "yesterday"}
    with pytest.raises(Unauthorized):
        adapter().verify(Delivery(b"{}", bad))


# --- parsing ---------------------------------------------------------------------

@pytest.mark.parametrize("name, kind, event_id, roles, public", [
    ("ticket.comment_added.json", "ticket.comment_added", "cbe4028c-7239-495d-b020-f22348516046", ["customer"], [True]),
    ("ticket.comment_added-agent-private.json", "ticket.comment_added", "5d0c2f7e-0b35-4f8e-8a41-6a7b0a9f1c22",
     ["agent"], [False]),
    ("ticket.created.json", "ticket.created", "0b1f3a52-8d0e-4c4e-9a57-2f6a41d3c9e1", ["customer"], [True]),
    ("trigger.json", "trigger", "5158:8647005617534", ["customer"], [True]),
    ("trigger-agent-reply.json", "trigger", "5158:8647005618870", ["agent"], [True]),
])
def test_fixtures_parse_to_the_right_ticket(name, kind, event_id, roles, public):
    event = parse_fixture(name)
    assert (event.type, event.event_id, event.ticket["id"], event.ticket["source"]) == (kind, event_id, "5158", "zendesk")
    assert [m["author_role"] for m in event.ticket["messages"]] == roles
    assert [m["public"] for m in event.ticket["messages"]] == public
    assert event.complete is False  # one comment: the service fetches the rest


def test_event_subscription_fields_are_normalized():
    ticket = parse_fixture("ticket.comment_added.json").ticket
    assert ticket["subject"] == "Cracked screen on delivery" and ticket["status"] == "open"
    assert ticket["tags"] == ["delivery", "damaged"] and ticket["requester"]["id"] == "8447388090494"
    message = ticket["messages"][0]
    assert message["id"] == "8647005617534" and message["author"] == {"id": "8447388090494", "name": "Dana Reyes"}


def test_our_trigger_template_carries_requester_and_assignee():
    ticket = parse_fixture("trigger.json").ticket
    assert ticket["requester"]["email"] == "dana.reyes@example.com" and ticket["requester"]["organization"] is None
    assert ticket["assignee"] == {"id": None, "name": "Sam Okafor", "team": "Support"}


@pytest.mark.parametrize("name, ticket_id", [
    ("trigger-zulip-ticket-create-update.json", "7"),
    ("trigger-zulip-comment-message.json", "739"),
    ("trigger-zulip-message-with-ticket-id-and-title.json", "7"),
])
def test_zulip_templates_parse_as_customer_text_with_a_content_id(name, ticket_id):
    event = parse_fixture(name)
    body = event.ticket["messages"][0]["body"]
    assert event.ticket["id"] == ticket_id and event.ticket["messages"][0]["author_role"] == "customer"
    assert event.event_id.startswith(f"{ticket_id}:") and len(event.event_id) == len(ticket_id) + 17 and body


def test_event_ids_are_stable_across_redeliveries():
    for name in ("ticket.comment_added.json", "trigger.json", "trigger-zulip-ticket-create-update.json"):
        assert parse_fixture(name).event_id == parse_fixture(name).event_id
    data = json.loads((FIXTURES / "trigger-zulip-ticket-create-update.json").read_bytes())
    other = parse(json.dumps({**data, "ticket_description": "Another message"}).encode())
    assert other.event_id != parse_fixture("trigger-zulip-ticket-create-update.json").event_id


@pytest.mark.parametrize("fields, role", [
    ({"current_user_role": "End-user"}, "customer"),
    ({"current_user_role": "end-user"}, "customer"),
    ({"current_user_role": "Agent"}, "agent"),
    ({"current_user_role": "Admin"}, "agent"),
    ({"current_user_role": "Light Agent"}, "agent"),
    ({"comment_author_id": "1", "requester_id": "1"}, "customer"),
    ({"comment_author_id": "2", "requester_id": "1"}, "agent"),
    ({}, "customer"),
])
def test_trigger_author_role(fields, role):
    body = json.dumps({"ticket_id": "9", "comment_body": "Hello", **fields}).encode()
    assert parse(body).ticket["messages"][0]["author_role"] == role


def test_trigger_comment_public_flag():
    body = json.dumps({"ticket_id": "9", "comment_body": "internal", "comment_public": "false"}).encode()
    assert parse(body).ticket["messages"][0]["public"] is False


def _comment_event(author: dict, requester: str | None = "100") -> bytes:
    data = json.loads((FIXTURES / "ticket.comment_added.json").read_bytes())
    data["event"]["comment"]["author"] = author
    data["detail"]["requester_id"] = requester
    return json.dumps(data).encode()


@pytest.mark.parametrize("author, role", [
    ({"id": "100", "is_staff": True}, "agent"),
    ({"id": "100"}, "customer"),  # no is_staff: the requester is the customer
    ({"id": "200"}, "agent"),
])
def test_event_subscription_author_role(author, role):
    assert parse(_comment_event(author)).ticket["messages"][0]["author_role"] == role


def test_a_comment_whose_role_cannot_be_told_is_a_bad_payload():
    with pytest.raises(BadPayload) as caught:
        parse(_comment_event({"name": "Someone"}, requester=None))
    assert "is_staff" in str(caught.value)


def test_ticket_created_by_an_agent_for_a_customer_is_the_agent_s_words():
    data = json.loads((FIXTURES / "ticket.created.json").read_bytes())
    data["detail"]["submitter_id"] = "8447388090101"
    assert parse(json.dumps(data).encode()).ticket["messages"][0]["author_role"] == "agent"


@pytest.mark.parametrize("body, error, field", [
    (b"<html>", NotJson, "not JSON"),
    (json.dumps({"type": "zen:event-type:ticket.comment_added", "id": "e", "detail": {"id": "1"},
                 "event": {"comment": {"is_public": True}}}).encode(), BadPayload, "event.comment.body"),
    (json.dumps({"type": "zen:event-type:ticket.comment_added", "id": "e", "event": {}}).encode(), BadPayload, "detail"),
    (json.dumps({"ticket_id": ["7"], "comment_body": "x"}).encode(), BadPayload, "ticket_id"),
])
def test_broken_deliveries_name_the_problem(body, error, field):
    with pytest.raises(error) as caught:
        parse(body)
    assert field in str(caught.value)


# --- API -------------------------------------------------------------------------

def test_api_needs_url_email_and_token():
    assert not adapter(TRUSTDESK_ZENDESK_BASE_URL=fake.BASE_URL, TRUSTDESK_ZENDESK_API_TOKEN="t").can_write_back
    with pytest.raises(NotConfigured):
        adapter().write_back(note())


def test_fetch_ticket_follows_comment_pages_and_reads_roles_from_users(rsps):
    platform = fake.Fake(rsps, tags=["vip"], notes=[note().text], page_size=2)
    ticket = ZendeskAdapter(fake.SETTINGS).fetch_ticket(fake.TICKET_ID)
    pages = [c.url for c in platform.requests if "/comments.json" in c.url]
    assert len(pages) == 2 and "page%5Bsize%5D=100" in pages[0] and "include=users" in pages[0]
    assert [m["author_role"] for m in ticket["messages"]] == ["customer", "agent", "customer"]
    assert [m["id"] for m in ticket["messages"]] == ["101", "102", "103"]
    assert ticket["requester"]["email"] == "dana.reyes@example.com" and ticket["tags"] == ["vip"]


def test_recent_tickets_follow_the_incremental_export_cursor(rsps):
    platform = fake.Fake(rsps, tags=[], notes=[], page_size=2, ticket_ids=["1", "2", "3", "4", "5"])
    since = datetime(2025, 3, 1, tzinfo=timezone.utc)
    assert list(ZendeskAdapter(fake.SETTINGS).recent_tickets(since)) == ["1", "2", "3", "4", "5"]
    urls = [c.url for c in platform.requests]
    assert len(urls) == 3 and f"start_time={int(since.timestamp())}" in urls[0] and "cursor=2" in urls[1]


def test_write_back_adds_a_private_html_comment_and_adds_tags(rsps):
    platform = fake.Fake(rsps, tags=["vip"], notes=[])
    ZendeskAdapter(fake.SETTINGS).write_back(note())
    writes = [(c.method, c.url, c.json) for c in platform.requests if c.method != "GET"]
    assert writes[0] == ("PUT", f"{fake.BASE_URL}/api/v2/tickets/5158.json",
                         {"ticket": {"comment": {"html_body": note().html, "public": False}}})
    assert writes[1] == ("PUT", f"{fake.BASE_URL}/api/v2/tickets/5158/tags.json", {"tags": ["trustdesk-deflection"]})
    assert len(writes) == 2 and platform.tags == ["vip", "trustdesk-deflection"]


def test_every_call_carries_the_email_token_credentials(rsps):
    platform = fake.Fake(rsps, tags=[], notes=[])
    ZendeskAdapter(fake.SETTINGS).write_back(note())
    calls = rsps.calls
    assert calls and all(c.request.headers["Authorization"] == fake.AUTHORIZATION for c in calls)
    assert len(calls) == len(platform.requests)


@pytest.mark.parametrize("headers, wait", [
    ({"Retry-After": "30"}, 30.0),
    ({"ratelimit-reset": "41", "x-rate-limit-remaining": "0"}, 41.0),
    ({}, None),
])
def test_rate_limit_headers_become_the_retry_wait(rsps, headers, wait):
    platform = fake.Fake(rsps, tags=[], notes=[])
    platform.fail_next(429, headers)
    with pytest.raises(RetryLater) as caught:
        ZendeskAdapter(fake.SETTINGS).write_back(note())
    assert caught.value.retry_after == wait
