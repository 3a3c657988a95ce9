"""Chatwoot: message_created payloads, author roles, signed and unsigned deliveries, event ids, the API calls."""

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import responses

from integrations.base import (AdapterError, BadPayload, Delivery, Note, NotJson, RetryLater, Unauthorized,
                               UnsupportedEvent)
from integrations.chatwoot.adapter import ChatwootAdapter, author_role, sign
from integrations.chatwoot.schemas import MessageSchema

from fakes import chatwoot as fake

FIXTURES = Path(__file__).parent / "fixtures" / "chatwoot"
SECRET = "test-secret-0123456789"


def adapter(**settings) -> ChatwootAdapter:
    return ChatwootAdapter({"TRUSTDESK_CHATWOOT_WEBHOOK_SECRET": SECRET, **settings})


def signed(body: bytes, now: float | None = None, **headers) -> Delivery:
    stamp = str(int(time.time() if now is None else now))
    return Delivery(body, {"X-Chatwoot-Signature": sign(SECRET, stamp, body), "X-Chatwoot-Timestamp": stamp,
                           **headers})


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def edited(name: str, **changes) -> bytes:
    data = json.loads(fixture(name))
    data.update(changes)
    return json.dumps(data).encode()


# --- parsing ---------------------------------------------------------------------

@pytest.mark.parametrize("name, role, public, message_id, author", [
    ("message_created.json", "customer", True, "5012", "Priya Nair"),
    ("message-created-agent-reply.json", "agent", True, "5015", "Tomás Ruiz"),
    ("message-created-private-note.json", "agent", False, "5016", "Tomás Ruiz"),
    ("message-created-bot-reply.json", "agent", True, "5013", "Order status bot"),
])
def test_each_message_fixture_becomes_one_message(name, role, public, message_id, author):
    event = adapter().parse(signed(fixture(name)))
    ticket = event.ticket
    assert ticket["id"] == "214" and ticket["source"] == "chatwoot" and ticket["status"] == "open"
    assert ticket["requester"]["email"] == "priya.nair@example.org"
    assert ticket["assignee"] == {"id": "4", "name": "Tomás Ruiz", "team": None}
    assert ticket["created_at"] == datetime(2024, 5, 6, 9, 10, 1, tzinfo=timezone.utc)
    [message] = ticket["messages"]
    assert (message["author_role"], message["public"], message["id"]) == (role, public, message_id)
    assert message["author"]["name"] == author
    assert event.type == "message_created" and event.complete is False


@pytest.mark.parametrize("message_type, role", [("incoming", "customer"), ("outgoing", "agent"),
                                                ("activity", None), ("template", None)])
def test_author_role_comes_from_the_message_type(message_type, role):
    assert author_role(message_type) == role


@pytest.mark.parametrize("number, word", [(0, "incoming"), (1, "outgoing"), (2, "activity"), (3, "template")])
def test_the_api_numbers_for_message_types_are_understood(number, word):
    loaded = MessageSchema().load({"id": 1, "message_type": number, "created_at": 1714986842})
    assert loaded["message_type"] == word and loaded["created_at"] == "2024-05-06T09:14:02+00:00"


@pytest.mark.parametrize("name, changes", [
    ("message_created.json", {"message_type": "template", "content_type": "input_select"}),
    ("message_created.json", {"event": "message_updated"}),
    ("message_created.json", {"event": "webwidget_triggered"}),
    ("message-created-agent-reply.json", {"content": "done\ntrustdesk-ref:abc", "private": False}),
])
def test_non_conversation_messages_and_other_events_are_ignored(name, changes):
    with pytest.raises(UnsupportedEvent):
        adapter().parse(signed(edited(name, **changes)))


def test_a_delivery_for_another_account_is_ignored():
    with pytest.raises(UnsupportedEvent, match="account 3"):
        adapter(TRUSTDESK_CHATWOOT_ACCOUNT_ID="9").parse(signed(fixture("message_created.json")))


@pytest.mark.parametrize("changes, field", [({"conversation": None}, "conversation"),
                                            ({"message_type": "sideways"}, "message_type"),
                                            ({"id": None}, "id")])
def test_broken_fields_are_bad_payloads_naming_them(changes, field):
    with pytest.raises(BadPayload) as err:
        adapter().parse(signed(edited("message_created.json", **changes)))
    assert field in err.value.fields


def test_not_json_and_not_an_object():
    with pytest.raises(NotJson):
        adapter().parse(signed(b"event=message_created"))
    with pytest.raises(UnsupportedEvent):
        adapter().parse(signed(b"[1, 2]"))


# --- signatures --------------------------------------------------------------------

def test_signature_is_hex_hmac_sha256_of_timestamp_dot_body():
    # Chatwoot publishes no test vector; this is its documented layout.
    body = fixture("message_created.json")
    expected = hmac.new(SECRET.encode(), b"1714986842." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1714986842, body) == f"sha256={expected}"


@pytest.mark.parametrize("offset, ok", [(0, True), (-299, True), (299, True), (-301, False), (301, False)])
def test_the_timestamp_must_be_within_five_minutes_of_receipt(offset, ok):
    body, received = fixture("message_created.json"), 1714986842.0
    stamp = str(int(received + offset))
    delivery = Delivery(body, {"X-Chatwoot-Signature": sign(SECRET, stamp, body), "X-Chatwoot-Timestamp": stamp},
                        received_at=received)
    if ok:
        adapter().verify(delivery)
    else:
        with pytest.raises(Unauthorized):
            adapter().verify(delivery)


@pytest.mark.parametrize("stamp", [None, "", "soon", "1714986842.5"])
def test_a_signed_delivery_needs_a_unix_timestamp(stamp):
    body = fixture("message_created.json")
    headers = {"X-Chatwoot-Signature": sign(SECRET, stamp or "", body)}
    if stamp is not None:
        headers["X-Chatwoot-Timestamp"] = stamp
    with pytest.raises(Unauthorized):
        adapter().verify(Delivery(body, headers))


def basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"trustdesk:{password}".encode()).decode()


@pytest.mark.parametrize("headers, ok", [
    ({"X-Trustdesk-Token": SECRET}, True),
    ({"Authorization": basic(SECRET)}, True),
    ({"X-Trustdesk-Token": "guess"}, False),
    ({"Authorization": basic("guess")}, False),
    ({}, False),
    # A signature header, even next to the right token, must itself be right: no downgrade.
    ({"X-Trustdesk-Token": SECRET, "X-Chatwoot-Signature": "sha256=00", "X-Chatwoot-Timestamp": str(int(time.time()))},
     False),
])
def test_unsigned_releases_present_the_shared_secret(headers, ok):
    delivery = Delivery(fixture("message_created.json"), headers)
    if ok:
        adapter().verify(delivery)
    else:
        with pytest.raises(Unauthorized):
            adapter().verify(delivery)


# --- event ids ---------------------------------------------------------------------

def test_event_id_is_the_delivery_header_when_present():
    event = adapter().parse(signed(fixture("message_created.json"), **{"X-Chatwoot-Delivery": "0f5c7a2e-1d"}))
    assert event.event_id == "0f5c7a2e-1d"


def test_event_id_without_the_header_is_conversation_message_event_and_stable():
    body = fixture("message_created.json")
    first = adapter().parse(Delivery(body, {}))
    again = adapter().parse(Delivery(body, {}, received_at=time.time() + 3600))
    assert first.event_id == again.event_id == "214:5012:message_created"


# --- the API -----------------------------------------------------------------------

@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def a_note(marker: str = "trustdesk-ref:evt-7") -> Note:
    return Note("evt-7", fake.TICKET_ID, marker, f"Trustdesk: deflection risk 0.9.\n{marker}",
                f"<p>Trustdesk: deflection risk 0.9.</p><p>{marker}</p>", ("trustdesk-deflection",))


def paths(platform) -> list[tuple[str, str]]:
    return [(r.method, urlparse(r.url).path.removeprefix(f"/api/v1/accounts/{fake.ACCOUNT_ID}/conversations/214"))
            for r in platform.requests]


def test_write_back_posts_a_private_note_and_merges_labels(rsps):
    platform = fake.Fake(rsps, tags=["vip"], notes=[])
    ChatwootAdapter(fake.SETTINGS).write_back(a_note())
    # Two message pages: the conversation's only page, then the empty one before it.
    assert paths(platform) == [("GET", "/messages"), ("GET", "/messages"), ("POST", "/messages"),
                               ("GET", "/labels"), ("POST", "/labels")]
    assert all(r.headers["api_access_token"] == fake.TOKEN for r in platform.requests)
    assert platform.requests[2].json == {"content": a_note().text, "message_type": "outgoing",
                                                     "private": True}
    assert platform.requests[4].json == {"labels": ["vip", "trustdesk-deflection"]}
    assert platform.tags == ["vip", "trustdesk-deflection"]


def test_labels_already_there_are_not_written_again(rsps):
    platform = fake.Fake(rsps, tags=["trustdesk-deflection", "vip"], notes=[])
    ChatwootAdapter(fake.SETTINGS).write_back(a_note())
    assert ("POST", "/labels") not in paths(platform) and platform.tags == ["trustdesk-deflection", "vip"]


def test_the_marker_is_found_on_an_older_page(rsps):
    platform = fake.Fake(rsps, tags=[], notes=[a_note().text], filler=0)
    for i in range(30):  # push our note back to the second page
        platform._add(f"later message {i}", i % 2, fake.CONTACT)
    ChatwootAdapter(fake.SETTINGS).write_back(a_note())
    assert platform.notes == [a_note().text]
    assert [p for p in paths(platform) if p == ("GET", "/messages")] == [("GET", "/messages")] * 2


def test_the_base_url_defaults_to_chatwoot_cloud(rsps):
    rsps.add("GET", "https://app.chatwoot.com/api/v1/accounts/3/conversations/214/labels", json={"payload": ["x"]})
    rsps.add("GET", "https://app.chatwoot.com/api/v1/accounts/3/conversations/214/messages",
             json={"payload": [{"id": 1, "content": "trustdesk-ref:evt-7", "message_type": 1}]})
    settings = {k: v for k, v in fake.SETTINGS.items() if not k.endswith("BASE_URL")}
    ChatwootAdapter(settings).write_back(Note("e", "214", "trustdesk-ref:evt-7", "t", "h", ()))


@pytest.mark.parametrize("status, headers, wait", [(429, {"Retry-After": "60"}, 60.0), (503, {}, None)])
def test_rate_limits_and_outages_ask_for_a_retry(rsps, status, headers, wait):
    fake.Fake(rsps, tags=[], notes=[]).fail_next(status, headers)
    with pytest.raises(RetryLater) as err:
        ChatwootAdapter(fake.SETTINGS).write_back(a_note())
    assert err.value.retry_after == wait


def test_a_wrong_token_is_final(rsps):
    fake.Fake(rsps, tags=[], notes=[])
    with pytest.raises(AdapterError) as err:
        ChatwootAdapter({**fake.SETTINGS, "TRUSTDESK_CHATWOOT_API_TOKEN": "nope"}).write_back(a_note())
    assert not isinstance(err.value, RetryLater) and "401" in str(err.value)


def test_fetch_ticket_follows_the_before_cursor_and_keeps_only_conversation(rsps):
    platform = fake.Fake(rsps, tags=["vip"], notes=[a_note().text], filler=45)
    ticket = ChatwootAdapter(fake.SETTINGS).fetch_ticket(fake.TICKET_ID)
    befores = [r.query.get("before") for r in platform.requests if r.path.endswith("/messages")]
    assert befores == [None, ["5029"], ["5009"], ["5000"]]  # the last page is empty
    ids = [int(m["id"]) for m in ticket["messages"]]
    assert ids == list(range(5000, 5047)) and len(ids) == 47  # 49 messages less the activity and our note
    assert ticket["messages"][0]["author_role"] == "customer" and ticket["messages"][-1]["author_role"] == "agent"
    assert ticket["tags"] == ["vip"] and ticket["assignee"] == {"id": "4", "name": "Tomás Ruiz", "team": "Orders"}


def test_recent_tickets_pages_until_older_than_since(rsps):
    since = datetime(2024, 5, 6, 9, 0, tzinfo=timezone.utc).timestamp()
    pages = {"1": [(214, since + 500), (213, since + 400)], "2": [(212, since + 10), (205, since - 10), (204, since - 90)]}
    asked = []

    def listing(request):
        query = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        asked.append(query)
        items = [{"id": i, "timestamp": int(t), "last_activity_at": int(t)} for i, t in pages.get(query["page"], [])]
        return 200, {}, json.dumps({"data": {"meta": {"all_count": 5}, "payload": items}})

    rsps.add_callback("GET", f"{fake.BASE_URL}/api/v1/accounts/3/conversations", callback=listing)
    ids = list(ChatwootAdapter(fake.SETTINGS).recent_tickets(datetime.fromtimestamp(since, timezone.utc)))
    assert ids == ["214", "213", "212"]
    assert [(q["page"], q["status"]) for q in asked] == [("1", "all"), ("2", "all")]
