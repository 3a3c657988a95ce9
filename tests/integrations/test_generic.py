"""The generic adapter: payload errors name the field; the signed callback retries politely."""

import json

import pytest
import requests
import responses

from integrations.base import AdapterError, BadPayload, Delivery, NotConfigured, RetryLater
from integrations.base import Note
from integrations.generic.adapter import GenericAdapter, sign
from integrations.http import retry_after, wait_hint

SECRET = "s3cret"
CALLBACK = "https://hooks.example.test/trustdesk"


def parse(body: bytes):
    return GenericAdapter({"TRUSTDESK_GENERIC_WEBHOOK_SECRET": SECRET}).parse(Delivery(body, {}))


@pytest.mark.parametrize(
    "body, field",
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "event_id"),
        (json.dumps({"ticket": {"id": "1", "messages": [{"author_role": "agent", "body": "x"}]}}).encode(), "event_id"),
        (json.dumps({"event_id": "e1"}).encode(), "ticket"),
        (json.dumps({"event_id": "e1", "ticket": {"id": "1", "messages": []}}).encode(), "messages"),
        (json.dumps({"event_id": "e1", "ticket": {"id": "1", "messages": [{"author_role": "bot", "body": "x"}]}}).encode(),
         "messages.0.author_role"),
    ],
)
def test_bad_payloads_name_the_problem(body, field):
    with pytest.raises(BadPayload) as err:
        parse(body)
    assert field in str(err.value)


def test_signature_is_over_timestamp_and_raw_body():
    assert sign("k", 1700000000, b"{}") == "sha256=" + __import__("hmac").new(
        b"k", b"1700000000.{}", "sha256").hexdigest()


def note(payload: dict) -> Note:
    return Note("e1", "1", "trustdesk-ref:e1", "text", "<p>text</p>", (), payload)


@pytest.fixture
def adapter():
    return GenericAdapter({"TRUSTDESK_GENERIC_WEBHOOK_SECRET": SECRET, "TRUSTDESK_GENERIC_CALLBACK_URL": CALLBACK})


@responses.activate
def test_callback_is_signed(adapter):
    responses.post(CALLBACK, status=204)
    adapter.write_back(note({"event_id": "e1", "ticket_id": "1", "analysis": {}, "guidance": {}}))
    request = responses.calls[0].request
    timestamp = request.headers["X-Trustdesk-Timestamp"]
    assert request.headers["X-Trustdesk-Signature"] == sign(SECRET, timestamp, request.body)


@responses.activate
@pytest.mark.parametrize("status, headers, wait", [(429, {"Retry-After": "30"}, 30.0), (503, {}, None)])
def test_busy_callback_is_retried_later(adapter, status, headers, wait):
    responses.post(CALLBACK, status=status, headers=headers)
    with pytest.raises(RetryLater) as err:
        adapter.write_back(note({"event_id": "e1"}))
    assert err.value.retry_after == wait


@responses.activate
def test_unreachable_callback_is_retried_later(adapter):
    responses.post(CALLBACK, body=requests.exceptions.ConnectTimeout())
    with pytest.raises(RetryLater):
        adapter.write_back(note({"event_id": "e1"}))


@responses.activate
def test_refused_callback_is_final(adapter):
    responses.post(CALLBACK, status=400)
    with pytest.raises(AdapterError) as err:
        adapter.write_back(note({"event_id": "e1"}))
    assert not isinstance(err.value, RetryLater)


def test_no_callback_url_is_dry_run():
    adapter = GenericAdapter({"TRUSTDESK_GENERIC_WEBHOOK_SECRET": SECRET})
    assert adapter.can_write_back is False
    with pytest.raises(NotConfigured):
        adapter.write_back(note({}))


@pytest.mark.parametrize("value, expected", [("120", 120.0), (None, None), ("soon", None),
                                             ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_retry_after(value, expected):
    assert retry_after(value) == expected


@pytest.mark.parametrize("headers, expected", [
    ({"Retry-After": "7"}, 7.0),
    ({"X-RateLimit-Retry-After": "12"}, 12.0),  # Help Scout
    ({"X-RateLimit-Reset": "1700000030"}, 30.0),  # Intercom, Front: unix seconds
    ({"X-RateLimit-Reset": "2023-11-14T22:13:50Z"}, 30.0),  # Jira: an ISO 8601 time
    ({"RateLimit-Reset": "45"}, 45.0),  # seconds from now
    ({}, None),
])
def test_wait_hint_reads_each_platforms_header(headers, expected):
    assert wait_hint(headers, now=1700000000.0) == expected
