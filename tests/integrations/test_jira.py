"""Jira: signed admin webhooks and token-authenticated Automation requests, roles, dedupe ids, REST write-back."""

import base64
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import responses

from integrations.base import (TAGS, BadPayload, Delivery, NotConfigured, NotJson, Note, RetryLater, Unauthorized,
                               UnsupportedEvent, shared_secret_headers)
from integrations.jira.adapter import JiraAdapter, adf_text, author_role, is_public, sign

from fakes import jira as fake

FIXTURES = Path(__file__).parent / "fixtures" / "jira"
SECRET = "test-secret-0123456789"


def adapter(settings=None) -> JiraAdapter:
    return JiraAdapter(settings or {"TRUSTDESK_JIRA_WEBHOOK_SECRET": SECRET})


def parse(name: str):
    body = (FIXTURES / name).read_bytes()
    return adapter().parse(Delivery(body, JiraAdapter.signature_headers(SECRET, body)))


def note(ref: str = "abc123") -> Note:
    marker = f"trustdesk-ref:{ref}"
    return Note(f"evt-{ref}", fake.TICKET_ID, marker, f"Trustdesk: blame risk.\n{marker}",
                f"<p>Trustdesk: blame risk.</p><p>{marker}</p>", (TAGS["blame"],))


# --- parsing -------------------------------------------------------------------------

@pytest.mark.parametrize("name, kind, event_id, complete, messages", [
    ("issue_created.json", "issue_created", "10040:created", True, [("description", "customer", True)]),
    ("issue-created-many-fields.json", "issue_created", "10509:created", True, [("description", "customer", True)]),
    ("comment_created.json", "comment_created", "10040:comment:10019", False, [("10019", "agent", True)]),
    ("comment-created-mention-user.json", "comment_created", "10040:comment:10019", False, [("10019", "agent", True)]),
    ("comment-created-server.json", "comment_created", "10013:comment:10082", False, [("10082", "agent", True)]),
    ("comment-created-jsm-customer.json", "comment_created", "10231:comment:10412", False,
     [("10412", "customer", True)]),
    ("comment-created-jsm-internal.json", "comment_created", "10231:comment:10413", False,
     [("10413", "agent", False)]),
    ("comment-created-automation.json", "comment_created", "10231:comment:10414", False,
     [("10414", "customer", True)]),
    ("issue_commented.json", "issue_commented", "10101:comment:10503", False,
     [("description", "customer", True), ("10503", "customer", True)]),
])
def test_fixtures_parse_to_the_normalized_ticket(name, kind, event_id, complete, messages):
    event = parse(name)
    assert (event.type, event.event_id, event.complete) == (kind, event_id, complete)
    assert event.ticket["source"] == "jira" and event.ticket["id"] == event_id.split(":")[0]
    assert [(m["id"], m["author_role"], m["public"]) for m in event.ticket["messages"]] == messages


def test_issue_fields_become_ticket_fields():
    ticket = parse("issue-created-many-fields.json").ticket
    assert ticket["subject"] == "Lots of fields selected" and ticket["status"] == "To Do"
    assert ticket["tags"] == ["Label1", "Label2"]
    assert ticket["requester"]["name"] == "Sample User" and ticket["requester"]["email"] == "user@example.com"
    assert ticket["messages"][0]["body"] == "The good description"


@pytest.mark.parametrize("name", ["ignored-issue-updated-labels.json", "ignored-comment-deleted.json",
                                  "ignored-own-note.json"])
def test_deliveries_without_a_new_message_are_ignored(name):
    with pytest.raises(UnsupportedEvent):
        parse(name)


def test_the_same_comment_has_one_event_id_whichever_event_announces_it():
    data = json.loads((FIXTURES / "issue_commented.json").read_text())
    as_comment_created = {**data, "webhookEvent": "comment_created"}
    del as_comment_created["issue_event_type_name"]
    first = adapter().parse(Delivery(json.dumps(data).encode(), {}))
    second = adapter().parse(Delivery(json.dumps(as_comment_created).encode(), {}))
    assert first.event_id == second.event_id == parse("issue_commented.json").event_id


def test_a_server_comment_without_issue_takes_the_id_from_its_url():
    assert parse("comment-created-server.json").ticket["id"] == "10013"
    data = json.loads((FIXTURES / "comment-created-server.json").read_text())
    del data["comment"]["self"]
    with pytest.raises(BadPayload) as err:
        adapter().parse(Delivery(json.dumps(data).encode(), {}))
    assert "issue" in err.value.fields


@pytest.mark.parametrize("body, field", [
    (b"{not json", None),
    (json.dumps({"webhookEvent": "comment_created", "comment": {"id": "1", "body": "x"}}).encode(), "issue"),
    (json.dumps({"webhookEvent": "comment_created", "issue": {"id": "1"}, "comment": {"id": "2"}}).encode(), "comment"),
    (json.dumps({"webhookEvent": "comment_created", "issue": {"id": "1"},
                 "comment": {"id": "2", "body": ["x"]}}).encode(), "comment"),
    (json.dumps({"webhookEvent": "jira:issue_created", "issue": {"fields": {"summary": "x"}}}).encode(), "issue"),
])
def test_broken_supported_events_name_the_field(body, field):
    with pytest.raises(BadPayload) as err:
        adapter().parse(Delivery(body, {}))
    if field is None:
        assert isinstance(err.value, NotJson)
    else:
        assert field in err.value.fields


# --- roles and visibility -------------------------------------------------------------

@pytest.mark.parametrize("author, reporter, role", [
    ({"accountId": "a", "accountType": "customer"}, None, "customer"),
    ({"accountId": "a", "accountType": "atlassian"}, {"accountId": "a"}, "customer"),
    ({"accountId": "a", "accountType": "atlassian"}, {"accountId": "b"}, "agent"),
    ({"key": "jdoe", "name": "jdoe"}, {"key": "JDoe"}, "customer"),
    ({"accountId": "a"}, None, "agent"),
    (None, {"accountId": "b"}, "agent"),
])
def test_author_role(author, reporter, role):
    assert author_role(author, reporter) == role


@pytest.mark.parametrize("comment, public", [
    ({}, True),
    ({"jsdPublic": True}, True),
    ({"jsdPublic": False}, False),
    ({"properties": [{"key": "sd.public.comment", "value": {"internal": True}}]}, False),
    ({"properties": [{"key": "sd.public.comment", "value": {"internal": False}}]}, True),
    ({"internal": "true"}, False),
    ({"internal": "false"}, True),
])
def test_internal_comments_are_private(comment, public):
    assert is_public(comment) is public


def test_adf_bodies_become_text():
    doc = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Hello "},
                                          {"type": "mention", "attrs": {"text": "@Sam"}}, {"type": "hardBreak"},
                                          {"type": "text", "text": "line two"}]},
        {"type": "bulletList", "content": [{"type": "listItem", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "item"}]}]}]}]}
    assert adf_text(doc).strip() == "Hello @Sam\nline two\nitem"


# --- signatures -----------------------------------------------------------------------

def test_signature_matches_the_published_websub_vector():
    # The X-Hub-Signature scheme (sha256=<hex HMAC-SHA256>) with GitHub's published test vector.
    assert sign("It's a Secret to Everybody", b"Hello, World!") == \
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_automation_requests_authenticate_with_the_shared_secret():
    body = (FIXTURES / "comment-created-automation.json").read_bytes()
    adapter().verify(Delivery(body, shared_secret_headers(SECRET)))
    basic = base64.b64encode(f"jira:{SECRET}".encode()).decode()
    adapter().verify(Delivery(body, {"Authorization": f"Basic {basic}"}))
    with pytest.raises(Unauthorized):
        adapter().verify(Delivery(body, shared_secret_headers("another-secret")))
    with pytest.raises(Unauthorized):
        adapter().verify(Delivery(body, {}))


def test_a_wrong_signature_is_refused_even_with_the_token():
    body = (FIXTURES / "comment_created.json").read_bytes()
    headers = {**shared_secret_headers(SECRET), "X-Hub-Signature": sign("another-secret", body)}
    with pytest.raises(Unauthorized):
        adapter().verify(Delivery(body, headers))


def test_without_a_secret_token_deliveries_are_refused_too():
    body = (FIXTURES / "comment_created.json").read_bytes()
    with pytest.raises(NotConfigured):
        JiraAdapter({}).verify(Delivery(body, shared_secret_headers(SECRET)))


# --- REST API -------------------------------------------------------------------------

@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_write_back_needs_all_three_api_settings():
    partial = {k: v for k, v in fake.SETTINGS.items() if not k.endswith("EMAIL")}
    assert not JiraAdapter(partial).can_write_back
    with pytest.raises(NotConfigured):
        JiraAdapter(partial).write_back(note())


def test_fetch_ticket_follows_comment_pages_and_leaves_out_our_notes(rsps):
    ours = note()
    platform = fake.Fake(rsps, tags=["vip"], notes=["Internal: waiting for the warehouse.", ours.text])
    ticket = JiraAdapter(fake.SETTINGS).fetch_ticket(fake.TICKET_ID)
    pages = [r for r in platform.requests if r.path.endswith("/comment")]
    assert len(pages) == 2  # 4 comments, 2 per page
    assert [(m["id"], m["author_role"], m["public"]) for m in ticket["messages"]] == [
        ("description", "customer", True), ("20001", "customer", True), ("20002", "agent", True),
        ("30000", "agent", False)]
    assert ticket["tags"] == ["vip"] and ticket["subject"] == "Refund for order 5521"
    assert ticket["messages"][0]["body"] == "I returned the guitar a month ago and still have no refund."


def test_recent_tickets_follow_next_page_tokens(rsps):
    platform = fake.Fake(rsps, tags=[], notes=[])
    since = datetime.now(timezone.utc) - timedelta(hours=2)
    assert list(JiraAdapter(fake.SETTINGS).recent_tickets(since)) == fake.SEARCH_RESULTS
    bodies = [r.json for r in platform.requests]
    assert [b.get("nextPageToken") for b in bodies] == [None, "2"]
    assert bodies[0]["jql"].startswith("updated >= -12") and bodies[0]["jql"].endswith("m ORDER BY updated ASC")


def test_write_back_posts_an_internal_comment_and_adds_labels(rsps):
    platform = fake.Fake(rsps, tags=["vip"], notes=[])
    JiraAdapter(fake.SETTINGS).write_back(note())
    auth = "Basic " + base64.b64encode(f"{fake.EMAIL}:{fake.API_TOKEN}".encode()).decode()
    assert all(r.headers["Authorization"] == auth for r in platform.requests)
    post = next(r for r in platform.requests if r.method == "POST")
    assert post.url == f"{fake.BASE_URL}/rest/servicedeskapi/request/{fake.TICKET_ID}/comment"
    assert json.loads(post.body) == {"body": note().text, "public": False}
    put = next(r for r in platform.requests if r.method == "PUT")
    assert put.url == f"{fake.BASE_URL}/rest/api/3/issue/{fake.TICKET_ID}"
    assert json.loads(put.body) == {"update": {"labels": [{"add": "trustdesk-blame"}]}}
    assert platform.tags == ["vip", "trustdesk-blame"]


def test_the_marker_is_found_on_a_later_comment_page(rsps):
    platform = fake.Fake(rsps, tags=[], notes=["An older internal note.", note().text])
    JiraAdapter(fake.SETTINGS).write_back(note())
    assert not [r for r in platform.requests if r.method == "POST"]


@pytest.mark.parametrize("headers, wait", [
    ({"Retry-After": "30"}, 30.0),
    ({"X-RateLimit-Reset": "__in_45s__"}, 45.0),
])
def test_rate_limits_become_retry_later_with_the_wait(rsps, headers, wait):
    if "X-RateLimit-Reset" in headers:
        reset = datetime.fromtimestamp(time.time() + 45, timezone.utc).isoformat(timespec="seconds")
        headers = {"X-RateLimit-Reset": reset.replace("+00:00", "Z")}
    platform = fake.Fake(rsps, tags=[], notes=[])
    platform.fail_next(429, headers)
    with pytest.raises(RetryLater) as caught:
        JiraAdapter(fake.SETTINGS).write_back(note())
    assert caught.value.retry_after == pytest.approx(wait, abs=2)
