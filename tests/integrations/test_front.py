"""Front specifics: events to normalized tickets, both signature schemes, the challenge, the Core API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import responses

from integrations.base import BadPayload, Delivery, NotJson, Note, RetryLater, Unauthorized, UnsupportedEvent
from integrations.front.adapter import FrontAdapter, rule_signature

from fakes import front as fake

FIXTURES = Path(__file__).parent / "fixtures" / "front"
SECRET = "test-secret-0123456789"
RULE_SECRET = "rule-api-secret-0123"
ADAPTER = FrontAdapter({"TRUSTDESK_FRONT_WEBHOOK_SECRET": SECRET})


def delivery(body: bytes | dict, **headers) -> Delivery:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Delivery(raw, {**FrontAdapter.signature_headers(SECRET, raw), **headers})


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def a_note(tags=("trustdesk-deflection",)) -> Note:
    marker = "trustdesk-ref:evt-7"
    return Note(event_id="evt-7", ticket_id=fake.TICKET_ID, marker=marker, text=f"Deflection risk.\n{marker}",
                html=f"<p>Deflection risk.</p><p>{marker}</p>", tags=tags)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# --- parsing -------------------------------------------------------------------------

@pytest.mark.parametrize("name, event_id, ticket_id, message", [
    ("inbound.json", "evt_28duo2q", "2x9c5v", ("msg_1176r8y", "customer", True)),
    ("out_reply.json", "evt_28duq42", "cnv_keocka", ("msg_1176ryy", "agent", True)),
    ("outbound.json", "evt_6b2f1q", "cnv_5y2kq", ("msg_2cu8r1", "agent", True)),
    ("comment.json", "evt_28duvr6", "cnv_keocka", ("com_shgc2", "agent", False)),
    ("app-inbound_received.json", "evt_6b2f0a", "cnv_5y2kq", ("msg_2cu7zz", "customer", True)),
])
def test_events_parse_to_one_message_of_the_conversation(name, event_id, ticket_id, message):
    event = ADAPTER.parse(delivery((FIXTURES / name).read_bytes()))
    assert (event.event_id, event.ticket["id"], event.complete) == (event_id, ticket_id, False)
    assert [(m["id"], m["author_role"], m["public"]) for m in event.ticket["messages"]] == [message]


def test_conversation_details_are_kept():
    ticket = ADAPTER.parse(delivery(fixture("out_reply.json"))).ticket
    assert ticket["tags"] == ["Urgent"] and ticket["assignee"] == {"id": "tea_40yq", "name": "Leela Turanga",
                                                                   "team": None}
    assert ticket["requester"]["email"] == "calculon@momsbot.com" and ticket["requester"]["id"] == "crd_62euuy"
    assert ticket["messages"][0]["body"] == "Emotions are dumb and should be hated."
    assert ticket["messages"][0]["created_at"] == datetime.fromtimestamp(1518309342.896, tz=timezone.utc)


@pytest.mark.parametrize("is_inbound, event_type, role", [
    (True, "out_reply", "customer"), (False, "inbound", "agent"),  # is_inbound decides when present
    (None, "inbound", "customer"), (None, "out_reply", "agent"),   # a preview without it: the event type
])
def test_is_inbound_decides_the_role(is_inbound, event_type, role):
    data = fixture("inbound.json")
    data["type"] = event_type
    data["target"]["data"]["is_inbound"] = is_inbound
    assert ADAPTER.parse(delivery(data)).ticket["messages"][0]["author_role"] == role


def test_a_preview_without_text_uses_the_blurb():
    data = fixture("inbound.json")
    for key in ("body", "text"):
        del data["target"]["data"][key]
    assert ADAPTER.parse(delivery(data)).ticket["messages"][0]["body"].startswith("We don't have emotions")


@pytest.mark.parametrize("name", ["ignored-own-note.json", "ignored-assign.json", "ignored-app-sync.json"])
def test_ignored_deliveries(name):
    with pytest.raises(UnsupportedEvent):
        ADAPTER.parse(delivery((FIXTURES / name).read_bytes()))


def test_an_app_envelope_without_a_type_in_its_payload_uses_the_app_event_name():
    data = fixture("app-inbound_received.json")
    del data["payload"]["type"]
    assert ADAPTER.parse(delivery(data)).type == "inbound"


def test_broken_fields_of_a_supported_event_are_named():
    data = fixture("comment.json")
    del data["target"]["data"]["id"]
    with pytest.raises(BadPayload) as caught:
        ADAPTER.parse(delivery(data))
    assert "target.data.id" in str(caught.value)
    with pytest.raises(NotJson):
        ADAPTER.parse(delivery(b"not json"))


# --- signatures and the challenge ----------------------------------------------------

def test_app_signature_is_base64_hmac_sha256_of_timestamp_colon_body():
    body = (FIXTURES / "inbound.json").read_bytes()
    timestamp = str(int(time.time() * 1000))
    digest = hmac.new(SECRET.encode(), timestamp.encode() + b":" + body, hashlib.sha256).digest()
    headers = {"x-front-signature": base64.b64encode(digest).decode(), "x-front-request-timestamp": timestamp}
    ADAPTER.verify(Delivery(body, headers))


@pytest.mark.parametrize("offset", [-301, 301])
def test_timestamps_more_than_five_minutes_off_are_refused(offset):
    body = b"{}"
    sent = FrontAdapter.signature_headers(SECRET, body, now=1_700_000_000)
    with pytest.raises(Unauthorized):
        ADAPTER.verify(Delivery(body, sent, received_at=1_700_000_000 + offset))
    ADAPTER.verify(Delivery(body, sent, received_at=1_700_000_000 + offset / 2))


def test_a_timestamp_in_seconds_or_garbage_is_refused():
    body = b"{}"
    for timestamp in (str(int(time.time())), "soon"):
        with pytest.raises(Unauthorized):
            ADAPTER.verify(Delivery(body, {"X-Front-Signature": "x", "X-Front-Request-Timestamp": timestamp}))


def test_rule_webhooks_need_their_own_secret():
    body = (FIXTURES / "inbound.json").read_bytes()
    expected = base64.b64encode(hmac.new(RULE_SECRET.encode(), body, hashlib.sha1).digest()).decode()
    assert rule_signature(RULE_SECRET, body) == expected
    rule = Delivery(body, {"X-Front-Signature": expected})
    with pytest.raises(Unauthorized):  # dropping the timestamp does not bypass the app scheme
        ADAPTER.verify(rule)
    both = FrontAdapter({"TRUSTDESK_FRONT_WEBHOOK_SECRET": SECRET, "TRUSTDESK_FRONT_RULE_SECRET": RULE_SECRET})
    both.verify(rule)
    with pytest.raises(Unauthorized):
        both.verify(Delivery(body + b" ", {"X-Front-Signature": expected}))


def test_only_rule_webhooks_configured():
    adapter = FrontAdapter({"TRUSTDESK_FRONT_RULE_SECRET": RULE_SECRET})
    body = b'{"type": "inbound"}'
    adapter.verify(Delivery(body, {"X-Front-Signature": rule_signature(RULE_SECRET, body)}))
    with pytest.raises(Unauthorized):
        adapter.verify(Delivery(body, FrontAdapter.signature_headers(RULE_SECRET, body)))


def test_the_challenge_is_echoed_and_the_sync_body_ignored():
    body = (FIXTURES / "ignored-app-sync.json").read_bytes()
    validation = delivery(body, **{"X-Front-Challenge": "k3yZ"})
    ADAPTER.verify(validation)
    answer = ADAPTER.handshake(validation)
    assert json.loads(answer.body) == {"challenge": "k3yZ"} and answer.content_type == "application/json"
    assert ADAPTER.handshake(delivery(body)) is None


# --- Core API ------------------------------------------------------------------------

def test_fetch_ticket_pages_through_messages_and_adds_comments_oldest_first(rsps):
    ours = a_note()
    platform = fake.Fake(rsps, tags=["vip"], notes=["Called them, see thread.", ours.text], page_size=2)
    ticket = FrontAdapter(fake.SETTINGS).fetch_ticket(fake.TICKET_ID)
    assert [(m["id"], m["author_role"], m["public"]) for m in ticket["messages"]] == [
        ("msg_1", "customer", True), ("msg_2", "customer", True), ("msg_3", "agent", True), ("com_0", "agent", False)]
    assert ticket["messages"][0]["author"] == {"id": "crd_55c8", "name": "Calculon"}
    message_pages = [c.query for c in platform.requests if c.path.endswith("/messages")]
    assert message_pages == [{}, {"page_token": ["2"]}]


def test_write_back_comment_and_tags(rsps):
    platform = fake.Fake(rsps, tags=["vip"], notes=[], page_size=1)
    settings = {**fake.SETTINGS, "TRUSTDESK_FRONT_AUTHOR_ID": "tea_trust"}
    note = a_note(tags=("vip", "trustdesk-deflection"))
    FrontAdapter(settings).write_back(note)
    writes = [(c.method, c.path, c.json) for c in platform.requests if c.method == "POST"]
    assert writes == [
        ("POST", f"/conversations/{fake.TICKET_ID}/comments", {"body": note.text, "author_id": "tea_trust"}),
        ("POST", "/company/tags", {"name": "trustdesk-deflection"}),
        ("POST", f"/conversations/{fake.TICKET_ID}/tags", {"tag_ids": [platform.registry["vip"],
                                                                       platform.registry["trustdesk-deflection"]]})]
    tag_pages = [c.query for c in platform.requests if c.path == "/tags"]
    assert len(tag_pages) == 2  # two tags, one a page
    assert all(call.request.headers["Authorization"] == f"Bearer {fake.TOKEN}" for call in rsps.calls)


def test_recent_tickets_page_through_events_once_per_conversation(rsps):
    platform = fake.Fake(rsps, tags=[], notes=[], page_size=2,
                         event_conversations=["cnv_a", "cnv_b", "cnv_a", "cnv_c"])
    since = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert list(FrontAdapter(fake.SETTINGS).recent_tickets(since)) == ["cnv_a", "cnv_b", "cnv_c"]
    first, second = [c.query for c in platform.requests]
    assert first["q[after]"] == [f"{since.timestamp():.3f}"] and second == {"page_token": ["2"]}


@pytest.mark.parametrize("headers, expected", [
    ({"Retry-After": "12"}, 12.0),
    ({"X-RateLimit-Reset": "{reset}"}, 20.0),
])
def test_rate_limit_headers_become_the_retry_delay(rsps, headers, expected):
    platform = fake.Fake(rsps, tags=[], notes=[])
    platform.fail_next(429, {k: v.format(reset=int(time.time()) + 20) for k, v in headers.items()})
    with pytest.raises(RetryLater) as caught:
        FrontAdapter(fake.SETTINGS).write_back(a_note())
    assert expected - 2 <= caught.value.retry_after <= expected
