"""Zammad: default trigger payloads, author roles, X-Hub-Signature, event ids, the REST calls."""

import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import responses

from integrations.base import (AdapterError, BadPayload, Delivery, Note, NotConfigured, NotJson, RetryLater, Unauthorized,
                               UnsupportedEvent)
from integrations.zammad.adapter import ZammadAdapter, author_role, sign

from fakes import zammad as fake

FIXTURES = Path(__file__).parent / "fixtures" / "zammad"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "zammad" / "trigger-default-payload-docs-example.json"
SECRET = "test-secret-0123456789"


def adapter(**settings) -> ZammadAdapter:
    return ZammadAdapter({"TRUSTDESK_ZAMMAD_WEBHOOK_SECRET": SECRET, **settings})


def delivered(body: bytes, **headers) -> Delivery:
    return Delivery(body, {"X-Hub-Signature": sign(SECRET, body), **headers})


def parse_fixture(name: str, **headers):
    body = (FIXTURES / name).read_bytes()
    return adapter().parse(delivered(body, **headers))


# --- parsing ---------------------------------------------------------------------

@pytest.mark.parametrize("name, role, public, article_id, author", [
    ("article_created.json", "customer", True, "402", "Dana Okafor"),
    ("article-created-agent-reply.json", "agent", True, "405", "Lars Berg"),
    ("article-created-internal-note.json", "agent", False, "406", "Lars Berg"),
    ("article-created-phone-on-behalf.json", "customer", True, "407", "Dana Okafor"),
])
def test_each_article_fixture_becomes_one_message(name, role, public, article_id, author):
    event = parse_fixture(name)
    ticket = event.ticket
    assert ticket["id"] == "137" and ticket["source"] == "zammad" and ticket["status"] == "open"
    assert ticket["subject"] == "Order 55-2031 arrived with a cracked lid"
    assert ticket["requester"]["email"] == "dana.okafor@example.net"
    assert ticket["requester"]["organization"] == "Okafor Studio"
    assert ticket["assignee"] == {"id": "5", "name": "Lars Berg", "team": "Orders"}
    [message] = ticket["messages"]
    assert (message["author_role"], message["public"], message["id"]) == (role, public, article_id)
    assert message["author"]["name"] == author
    assert "<div>" not in message["body"] and message["body"]
    assert event.type == "article_created" and event.complete is False


@pytest.mark.parametrize("sender, role", [("Customer", "customer"), ("Agent", "agent"), ("System", "agent")])
def test_author_role_comes_from_the_article_sender(sender, role):
    assert author_role(sender) == role


def test_an_unknown_sender_is_a_bad_payload_naming_the_field():
    data = json.loads((FIXTURES / "article_created.json").read_bytes())
    data["article"]["sender"] = "Robot"
    with pytest.raises(BadPayload) as err:
        adapter().parse(delivered(json.dumps(data).encode()))
    assert "article.sender" in str(err.value) and "sender" in err.value.fields["article"]


@pytest.mark.parametrize("path", [("ticket", "id"), ("article", "id")])
def test_missing_ids_are_bad_payloads(path):
    data = json.loads((FIXTURES / "article_created.json").read_bytes())
    del data[path[0]][path[1]]
    with pytest.raises(BadPayload) as err:
        adapter().parse(delivered(json.dumps(data).encode()))
    assert ".".join(path) in str(err.value)


def test_not_json_is_refused_as_such():
    with pytest.raises(NotJson):
        adapter().parse(delivered(b"ticket=137"))


def test_unassigned_ticket_has_no_assignee():
    data = json.loads((FIXTURES / "article_created.json").read_bytes())
    data["ticket"]["owner_id"], data["ticket"]["owner"] = 1, {"id": 1, "login": "-", "firstname": "-"}
    assert adapter().parse(delivered(json.dumps(data).encode())).ticket["assignee"] is None


@pytest.mark.parametrize("name", ["ignored-own-note.json", "ignored-ticket-updated-without-article.json",
                                  "ignored-custom-payload-notification.json"])
def test_deliveries_without_a_foreign_article_are_ignored(name):
    with pytest.raises(UnsupportedEvent):
        parse_fixture(name)


# --- signature and event ids -------------------------------------------------------

def test_signature_is_hex_hmac_sha1_of_the_raw_body():
    # RFC 2202 test case 2 for HMAC-SHA1.
    assert sign("Jefe", b"what do ya want for nothing?") == "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    body = (FIXTURES / "article_created.json").read_bytes()
    assert sign(SECRET, body) == "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()


def test_a_signature_over_a_reformatted_body_is_refused():
    body = (FIXTURES / "article_created.json").read_bytes()
    compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
    with pytest.raises(Unauthorized):
        adapter().verify(Delivery(compact, {"X-Hub-Signature": sign(SECRET, body)}))


def test_event_id_is_the_delivery_header_when_present():
    event = parse_fixture("article_created.json", **{"X-Zammad-Delivery": "b3b1c0de-5eed-4a11-9f00-1f2e3d4c5b6a"})
    assert event.event_id == "b3b1c0de-5eed-4a11-9f00-1f2e3d4c5b6a"


def test_event_id_without_the_header_is_ticket_and_article_and_stable():
    first, again = parse_fixture("article_created.json"), parse_fixture("article_created.json")
    assert first.event_id == again.event_id == "137:402"
    assert parse_fixture("article-created-agent-reply.json").event_id == "137:405"


def test_signature_headers_are_what_zammad_sends():
    body = (FIXTURES / "article_created.json").read_bytes()
    headers = ZammadAdapter.signature_headers(SECRET, body)
    assert headers["X-Hub-Signature"] == sign(SECRET, body) and headers["User-Agent"] == "Zammad User Agent"
    assert headers["X-Zammad-Delivery"] == ZammadAdapter.signature_headers(SECRET, body)["X-Zammad-Delivery"]


# --- the documented example, from ../shared (AGPL-3.0, so not copied here) -------

@pytest.mark.shared
@pytest.mark.skipif(not SHARED.is_file(), reason=f"{SHARED} is absent (the AGPL-3.0 docs example lives only in ../shared)")
def test_the_documented_default_payload_parses():
    event = adapter().parse(delivered(SHARED.read_bytes()))
    ticket = event.ticket
    assert ticket["id"] == "81" and ticket["subject"] == "Webhook-Test" and ticket["status"] == "open"
    assert ticket["requester"]["email"] == "emily@example.com"
    assert ticket["requester"]["organization"] == "Awesome Customer Inc."
    assert ticket["assignee"] == {"id": "5", "name": "Emma Taylor", "team": "Service Desk"}
    [message] = ticket["messages"]
    # A phone article an agent typed for the customer: sender Customer, origin_by the customer.
    assert message["author_role"] == "customer" and message["public"] is True
    assert message["author"] == {"id": "8", "name": "Emily Adams"}
    assert message["body"].startswith("This is a simple Webhook Test.")
    assert event.event_id == "81:104"


# --- the REST API --------------------------------------------------------------------

@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def a_note(marker: str = "trustdesk-ref:evt-9") -> Note:
    return Note("evt-9", fake.TICKET_ID, marker, f"Trustdesk: deflection.\n{marker}",
                f"<p>Trustdesk: deflection.</p><p>{marker}</p>", ("trustdesk-deflection", "trustdesk-blame"))


def test_write_back_calls(rsps):
    platform = fake.Fake(rsps, tags=["vip"], notes=[])
    ZammadAdapter(fake.SETTINGS).write_back(a_note())
    calls = [(r.method, r.path) for r in platform.requests]
    assert calls == [("GET", "/api/v1/ticket_articles/by_ticket/137"), ("POST", "/api/v1/ticket_articles"),
                     ("POST", "/api/v1/tags/add"), ("POST", "/api/v1/tags/add")]
    assert all(r.headers["Authorization"] == f"Token token={fake.TOKEN}" for r in platform.requests)
    posted = platform.requests[1].json
    assert posted == {"ticket_id": 137, "body": a_note().html, "content_type": "text/html", "type": "note",
                      "internal": True}
    assert [r.json for r in platform.requests[2:]] == [
        {"object": "Ticket", "o_id": 137, "item": "trustdesk-deflection"},
        {"object": "Ticket", "o_id": 137, "item": "trustdesk-blame"}]
    assert platform.tags == ["vip", "trustdesk-deflection", "trustdesk-blame"]


def test_a_wrong_token_is_a_final_error(rsps):
    fake.Fake(rsps, tags=[], notes=[])
    settings = {**fake.SETTINGS, "TRUSTDESK_ZAMMAD_API_TOKEN": "wrong"}
    with pytest.raises(AdapterError) as err:
        ZammadAdapter(settings).write_back(a_note())
    assert not isinstance(err.value, RetryLater) and "401" in str(err.value)


@pytest.mark.parametrize("status, headers, wait", [(429, {"Retry-After": "30"}, 30.0), (503, {}, None),
                                                   (502, {"Retry-After": "5"}, 5.0)])
def test_busy_zammad_asks_for_a_retry(rsps, status, headers, wait):
    fake.Fake(rsps, tags=[], notes=[]).fail_next(status, headers)
    with pytest.raises(RetryLater) as err:
        ZammadAdapter(fake.SETTINGS).write_back(a_note())
    assert err.value.retry_after == wait


def test_fetch_ticket_reads_all_articles_in_one_call_and_drops_our_notes(rsps):
    platform = fake.Fake(rsps, tags=["vip"], notes=[a_note().html])
    ticket = ZammadAdapter(fake.SETTINGS).fetch_ticket(fake.TICKET_ID)
    assert [(m["id"], m["author_role"], m["public"]) for m in ticket["messages"]] == [
        ("402", "customer", True), ("405", "agent", True)]
    assert ticket["tags"] == ["vip"] and ticket["status"] == "open"
    assert ticket["requester"] == {"id": "14", "name": "dana.okafor@example.net", "email": "dana.okafor@example.net",
                                   "organization": "Okafor Studio", "value": None}
    assert ticket["assignee"]["team"] == "Orders"
    by_ticket = [r for r in platform.requests if "by_ticket" in r.url]
    assert len(by_ticket) == 1 and "expand=true" in by_ticket[0].url


def test_without_api_settings_nothing_is_called():
    assert not adapter(TRUSTDESK_ZAMMAD_API_TOKEN="t").can_write_back
    with pytest.raises(NotConfigured):
        adapter(TRUSTDESK_ZAMMAD_API_TOKEN="t").fetch_ticket("1")


def test_recent_tickets_follows_pages_until_a_short_one(rsps):
    pages = {"1": list(range(1, 51)), "2": [51, 52, 53]}
    seen_queries = []

    def search(request):
        from urllib.parse import parse_qs, urlparse
        query = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        seen_queries.append(query)
        ids = pages[query["page"]]
        return 200, {}, json.dumps({"tickets": ids, "tickets_count": len(ids), "assets": {}})

    rsps.add_callback("GET", f"{fake.BASE_URL}/api/v1/tickets/search", callback=search)
    since = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)
    ids = list(ZammadAdapter(fake.SETTINGS).recent_tickets(since))
    assert ids == [str(i) for i in range(1, 54)]
    assert [q["page"] for q in seen_queries] == ["1", "2"]
    assert seen_queries[0]["query"] == "updated_at:[2024-05-01T12:30:00Z TO *]"
    assert (seen_queries[0]["sort_by"], seen_queries[0]["order_by"], seen_queries[0]["per_page"]) == (
        "updated_at", "desc", "50")


def test_recent_tickets_reads_a_naive_since_as_utc(rsps, monkeypatch):
    """A naive `since` is UTC, as everywhere else, not the server's local time."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        rsps.add("GET", f"{fake.BASE_URL}/api/v1/tickets/search", json={"tickets": []})
        assert list(ZammadAdapter(fake.SETTINGS).recent_tickets(datetime(2024, 5, 1, 12, 30))) == []
        assert "updated_at%3A%5B2024-05-01T12%3A30%3A00Z" in rsps.calls[0].request.url
    finally:
        monkeypatch.undo()
        time.tzset()
