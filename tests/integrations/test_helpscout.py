"""Help Scout: signatures, the event header (or its inference), thread roles, and the Mailbox API write-back."""

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import responses

from integrations.base import TAGS, BadPayload, Delivery, NotConfigured, NotJson, Note, RetryLater, Unauthorized
from integrations.base import UnsupportedEvent
from integrations.helpscout import adapter as helpscout
from integrations.helpscout.adapter import HelpScoutAdapter, infer_event, sign, thread_kind

from fakes import helpscout as fake

FIXTURES = Path(__file__).parent / "fixtures" / "helpscout"
SECRET = "test-secret-0123456789"


def parse(body: bytes, event: str | None = None):
    headers = HelpScoutAdapter.signature_headers(SECRET, body)
    if event:
        headers["X-HelpScout-Event"] = event
    instance = HelpScoutAdapter({"TRUSTDESK_HELPSCOUT_WEBHOOK_SECRET": SECRET})
    instance.verify(Delivery(body, headers))
    return instance.parse(Delivery(body, headers))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def note(ref: str = "abc123") -> Note:
    marker = f"trustdesk-ref:{ref}"
    return Note(f"evt-{ref}", fake.TICKET_ID, marker, f"Trustdesk: deflection risk.\n{marker}",
                f"<p>Trustdesk: deflection risk.</p><p>{marker}</p>", (TAGS["deflection"], TAGS["escalation_risk"]))


# --- parsing -------------------------------------------------------------------------

@pytest.mark.parametrize("event", ["convo.created", "convo.customer.reply.created", "convo.agent.reply.created",
                                   "convo.note.created"])
@pytest.mark.parametrize("with_header", [True, False])
def test_each_event_parses_with_or_without_its_header(event, with_header):
    parsed = parse(fixture(f"{event}.json"), event if with_header else None)
    assert parsed.type == event and parsed.complete
    expected = {"convo.created": "2001:1001", "convo.agent.reply.created": "2002:1002",
                "convo.customer.reply.created": "2003:1003", "convo.note.created": "2004:1004"}[event]
    assert parsed.event_id == expected and parsed.ticket["id"] == expected.split(":")[0]


def test_threads_become_messages_oldest_first_with_roles_and_privacy():
    ticket = parse(fixture("convo.note.created.json"), "convo.note.created").ticket
    assert [(m["id"], m["author_role"], m["public"]) for m in ticket["messages"]] == [
        ("1001", "customer", True), ("1002", "agent", True), ("1003", "customer", True), ("1004", "agent", False)]
    assert ticket["messages"][0]["body"] == "I returned the guitar a month ago and still have no refund."
    assert ticket["messages"][1]["author"] == {"id": "99", "name": "Mr Robot"}
    assert ticket["tags"] == ["vip"] and ticket["subject"] == "Refund for my returned guitar"
    assert ticket["requester"]["email"] == "vbear@mywork.com" and ticket["assignee"]["name"] == "Mr Robot"


def test_the_header_wins_over_the_body():
    body = fixture("convo.customer.reply.created.json")
    assert parse(body, "convo.agent.reply.created").event_id == "2003:1002"
    for ignored in ("convo.status", "convo.tags", "convo.assigned", "helpscout.test"):
        with pytest.raises(UnsupportedEvent):
            parse(body, ignored)


@pytest.mark.parametrize("name, event", [
    ("ignored-own-note.json", "convo.note.created"), ("ignored-convo-status.json", "convo.status"),
    ("ignored-convo-deleted.json", "convo.deleted"), ("ignored-customer-created.json", "customer.created")])
def test_ignored_deliveries_with_their_real_header(name, event):
    with pytest.raises(UnsupportedEvent):
        parse(fixture(name), event)


def test_our_note_is_left_out_of_other_events():
    data = json.loads(fixture("ignored-own-note.json"))
    event = parse(json.dumps(data).encode(), "convo.customer.reply.created")
    assert event.event_id == "2005:1003"
    assert not any("trustdesk-ref" in m["body"] for m in event.ticket["messages"])


def test_the_event_id_is_stable_across_redeliveries():
    body = fixture("convo.customer.reply.created.json")
    assert parse(body, "convo.customer.reply.created").event_id == parse(body).event_id


def test_a_body_missing_threads_is_partial():
    data = json.loads(fixture("convo.customer.reply.created.json"))
    data["_embedded"]["threads"] = data["_embedded"]["threads"][:1]  # newest only
    event = parse(json.dumps(data).encode(), "convo.customer.reply.created")
    assert not event.complete and [m["id"] for m in event.ticket["messages"]] == ["1003"]


def test_without_embedded_threads_the_preview_stands_in():
    data = json.loads(fixture("convo.customer.reply.created.json"))
    del data["_embedded"]
    event = parse(json.dumps(data).encode(), "convo.customer.reply.created")
    assert not event.complete and event.ticket["messages"][0]["author_role"] == "customer"
    assert event.ticket["messages"][0]["body"] == "The partner told me to contact you."
    with pytest.raises(UnsupportedEvent):
        parse(json.dumps(data).encode(), "convo.note.created")


@pytest.mark.parametrize("thread, kind", [
    ({"type": "customer"}, "customer"), ({"type": "message"}, "agent"), ({"type": "reply"}, "agent"),
    ({"type": "note"}, "note"), ({"type": "chat", "createdBy": {"type": "customer"}}, "customer"),
    ({"type": "phone", "createdBy": {"type": "user"}}, "agent"), ({"type": "lineitem"}, None),
    ({"type": "forwardchild"}, None)])
def test_thread_kinds(thread, kind):
    assert thread_kind(thread) == kind


def test_drafts_and_line_items_are_not_messages_nor_inferred_events():
    data = json.loads(fixture("convo.agent.reply.created.json"))
    data["_embedded"]["threads"][0]["state"] = "draft"  # the agent reply is still a draft
    event = parse(json.dumps(data).encode(), "convo.created")
    assert [m["id"] for m in event.ticket["messages"]] == ["1001"]
    assert infer_event(json.loads(fixture("ignored-convo-status.json"))) is None


@pytest.mark.parametrize("body, field", [
    (b"{not json", None),
    (json.dumps({"subject": "x", "_embedded": {"threads": [
        {"id": 1, "type": "customer", "body": "hi", "createdBy": {"type": "customer"}}]}}).encode(), "id"),
    (json.dumps({"id": 5, "_embedded": {"threads": [{"type": "customer", "body": "hi"}]}}).encode(), "_embedded"),
])
def test_broken_supported_events_name_the_field(body, field):
    with pytest.raises(BadPayload) as err:
        parse(body, "convo.created")
    if field is None:
        assert isinstance(err.value, NotJson)
    else:
        assert field in err.value.fields


# --- signatures -----------------------------------------------------------------------

def test_signature_is_base64_hmac_sha1_of_the_raw_body():
    # Computed independently: printf '{"id":123}' | openssl dgst -sha1 -hmac asdffdsa -binary | base64
    assert sign("asdffdsa", b'{"id":123}') == "YhXKie6t+YQPJLRzdKWwTPsJN2w="


def test_the_event_header_is_not_part_of_the_signature_but_the_body_is():
    body = fixture("convo.created.json")
    headers = {**HelpScoutAdapter.signature_headers(SECRET, body), "X-HelpScout-Event": "convo.created"}
    instance = HelpScoutAdapter({"TRUSTDESK_HELPSCOUT_WEBHOOK_SECRET": SECRET})
    instance.verify(Delivery(body, headers))
    with pytest.raises(Unauthorized):
        instance.verify(Delivery(body.replace(b"guitar", b"GUITAR"), headers))


# --- Mailbox API ----------------------------------------------------------------------

@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_credentials_decide_dry_run():
    assert HelpScoutAdapter(fake.SETTINGS).can_write_back and HelpScoutAdapter(fake.TOKEN_SETTINGS).can_write_back
    only_id = {k: v for k, v in fake.SETTINGS.items() if not k.endswith("CLIENT_SECRET")}
    assert not HelpScoutAdapter(only_id).can_write_back
    with pytest.raises(NotConfigured):
        HelpScoutAdapter(only_id).write_back(note())


def test_fetch_ticket_follows_thread_pages_and_leaves_out_our_notes(rsps):
    ours = note()
    platform = fake.Fake(rsps, tags=["vip"], notes=["<p>Warehouse confirms delivery.</p>", ours.html])
    ticket = HelpScoutAdapter(fake.SETTINGS).fetch_ticket(fake.TICKET_ID)
    listed = [r for r in platform.requests if r.path.endswith("/threads")]
    pages = [parse_qs(urlparse(r.url).query)["page"] for r in listed]
    assert pages == [["1"], ["2"], ["3"]]  # 5 threads, 2 per page
    assert [(m["id"], m["author_role"], m["public"]) for m in ticket["messages"]] == [
        ("1001", "customer", True), ("1002", "agent", True), ("3000", "agent", False)]
    assert ticket["id"] == fake.TICKET_ID and ticket["tags"] == ["vip"]


def test_recent_tickets_follow_pages_in_every_status(rsps):
    platform = fake.Fake(rsps, tags=[], notes=[])
    since = datetime(2024, 6, 1, 12, 30, tzinfo=timezone.utc)
    assert list(HelpScoutAdapter(fake.SETTINGS).recent_tickets(since)) == ["2003", "2004", "2005"]
    queries = [r.query for r in platform.requests if "oauth2" not in r.url]
    assert [q["page"] for q in queries] == [["1"], ["2"]]
    assert all(q["modifiedSince"] == ["2024-06-01T12:30:00Z"] and q["status"] == ["all"] for q in queries)


def test_write_back_gets_a_token_posts_a_note_and_merges_tags(rsps):
    platform = fake.Fake(rsps, tags=["vip"], notes=[])
    instance = HelpScoutAdapter(fake.SETTINGS)
    instance.write_back(note())
    token_request, *api_requests = platform.requests
    assert token_request.url == f"{fake.BASE_URL}/v2/oauth2/token" and "Authorization" not in token_request.headers
    assert all(r.headers["Authorization"] == f"Bearer {fake.ACCESS_TOKEN}" for r in api_requests)
    post = next(r for r in api_requests if r.method == "POST")
    assert post.url == f"{fake.BASE_URL}/v2/conversations/{fake.TICKET_ID}/notes"
    assert json.loads(post.body) == {"text": note().html}
    put = next(r for r in api_requests if r.method == "PUT")
    assert json.loads(put.body) == {"tags": ["vip", "trustdesk-deflection", "trustdesk-escalation-risk"]}
    instance.write_back(note())  # the token is reused; the note and tags are there already
    assert platform.tokens_issued == 1 and len(platform.notes) == 1
    assert sum(r.method == "PUT" for r in platform.requests) == 1


def test_an_expired_token_is_replaced(rsps, monkeypatch):
    platform = fake.Fake(rsps, tags=[], notes=[])
    instance = HelpScoutAdapter(fake.SETTINGS)
    instance.fetch_ticket(fake.TICKET_ID)
    later = helpscout.time.time() + 172800
    monkeypatch.setattr(helpscout.time, "time", lambda: later)
    instance.fetch_ticket(fake.TICKET_ID)
    assert platform.tokens_issued == 2


def test_a_ready_made_token_skips_the_token_request(rsps):
    platform = fake.Fake(rsps, tags=[], notes=[])
    HelpScoutAdapter(fake.TOKEN_SETTINGS).write_back(note())
    assert platform.tokens_issued == 0 and len(platform.notes) == 1


def test_help_scouts_rate_limit_header_sets_the_wait(rsps):
    platform = fake.Fake(rsps, tags=[], notes=[])
    platform.fail_next(429, {"X-RateLimit-Retry-After": "12", "X-RateLimit-Remaining-Minute": "0"})
    with pytest.raises(RetryLater) as caught:
        HelpScoutAdapter(fake.TOKEN_SETTINGS).write_back(note())
    assert caught.value.retry_after == 12.0
