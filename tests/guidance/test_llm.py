"""The optional language-model backend: redaction before anything leaves, configuration, and failures."""

import json

import pytest
import requests
import responses

from guidance.llm import ChatBackend, LLMError, redact

URL = "https://llm.example.test/v1/chat/completions"


def answer(content) -> dict:
    """A chat-completions response body carrying one message."""
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}


@pytest.fixture
def mocked():
    """Every HTTP request answered by responses; an unexpected one fails the test."""
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def backend() -> ChatBackend:
    return ChatBackend(URL, "test-model")


def sent(mocked) -> tuple[str, dict]:
    """The raw body of the last request and its parsed JSON."""
    body = mocked.calls[-1].request.body
    body = body.decode() if isinstance(body, bytes) else body
    return body, json.loads(body)


@pytest.mark.parametrize(
    "text, original, placeholder",
    [
        ("Write to dana@example.com please", "dana@example.com", "[EMAIL_1]"),
        ("Or dana.smith+trips@mail.example.co.uk.", "dana.smith+trips@mail.example.co.uk", "[EMAIL_1]"),
        ("Call +44 20 7946 0958 today", "+44 20 7946 0958", "[PHONE_1]"),
        ("Call +1 (555) 123-4567 today", "+1 (555) 123-4567", "[PHONE_1]"),
        ("Call +442079460958 today", "+442079460958", "[PHONE_1]"),
        ("My mobile is 07700 900123", "07700 900123", "[PHONE_1]"),
        ("Landline (020) 7946 0958, evenings", "(020) 7946 0958", "[PHONE_1]"),
        ("Home 020 - 7946 - 0958 after six", "020 - 7946 - 0958", "[PHONE_1]"),
        ("Try 555-0123 after six", "555-0123", "[PHONE_1]"),
        ("Desk 020 7946 0958 ext. 12 or email", "020 7946 0958 ext. 12", "[PHONE_1]"),
        ("Card 4111 1111 1111 1111 was charged", "4111 1111 1111 1111", "[CARD_1]"),
        ("Card 5555-5555-5555-4444 was charged", "5555-5555-5555-4444", "[CARD_1]"),
        ("Amex 378282246310005 declined", "378282246310005", "[CARD_1]"),
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "GB82 WEST 1234 5698 7654 32", "[ACCOUNT_1]"),
        ("IBAN: DE89370400440532013000.", "DE89370400440532013000", "[ACCOUNT_1]"),
        ("Pay BE68 5390 0754 7034 ASAP", "BE68 5390 0754 7034", "[ACCOUNT_1]"),
        ("Refund to 31926819 today", "31926819", "[ACCOUNT_1]"),
        ("acct 4471 is closed", "4471", "[ACCOUNT_1]"),
        ("Account number: 55 779 310", "55 779 310", "[ACCOUNT_1]"),
        ("sort code 12-34-56, thanks", "12-34-56", "[ACCOUNT_1]"),
        # Not Luhn-valid, so not a card, but still never sent.
        ("Card 4111 1111 1111 1112 failed", "4111 1111 1111 1112", "[ACCOUNT_1]"),
    ],
)
def test_redact_replaces_each_kind(text, original, placeholder):
    redaction = redact(text)
    assert redaction.text == text.replace(original, placeholder)
    assert redaction.mapping == {placeholder: original}


@pytest.mark.parametrize(
    "text",
    [
        "Your booking EXP-77120 is confirmed",
        "Reference A1B2C3 is on the ticket",
        "Order INV-2024-000123 shipped in 2 days",
        "We shipped order 1234567 on 2026-03-14 at 10:30",
        "Refund of £1234.56 issued on 14/03/2026 10:30, and €12345.67 on 14.03.2026",
        "Card ending 1111, ticket #4521, covers the 2024-2025 season",
    ],
)
def test_redact_keeps_references_dates_and_amounts(text):
    redaction = redact(text)
    assert redaction.text == text
    assert redaction.mapping == {}


def test_same_value_gets_the_same_placeholder():
    redaction = redact(
        "dana@example.com asked; reply to dana@example.com, cc sam@example.com. "
        "Card 4111 1111 1111 1111, again 4111 1111 1111 1111; phone 020 7946 0958."
    )
    assert redaction.text == (
        "[EMAIL_1] asked; reply to [EMAIL_1], cc [EMAIL_2]. Card [CARD_1], again [CARD_1]; phone [PHONE_1]."
    )
    assert redaction.mapping == {
        "[EMAIL_1]": "dana@example.com",
        "[EMAIL_2]": "sam@example.com",
        "[CARD_1]": "4111 1111 1111 1111",
        "[PHONE_1]": "020 7946 0958",
    }


def test_restore_round_trips_and_leaves_unknown_placeholders():
    text = "Dana (dana@example.com, +44 20 7946 0958) paid with 4111111111111111 for EXP-77120; acct 12345678."
    redaction = redact(text)
    assert redaction.restore(redaction.text) == text
    assert redaction.restore("We wrote to [email_1] about [CARD_9] at [time].") == (
        "We wrote to dana@example.com about [CARD_9] at [time]."
    )


def test_from_env_is_off_unless_a_url_is_set():
    assert ChatBackend.from_env({}) is None
    assert ChatBackend.from_env({"TRUSTDESK_LLM_URL": "  ", "TRUSTDESK_LLM_MODEL": "m"}) is None


def test_from_env_reads_every_setting():
    backend = ChatBackend.from_env(
        {
            "TRUSTDESK_LLM_URL": URL,
            "TRUSTDESK_LLM_MODEL": "small-model",
            "TRUSTDESK_LLM_API_KEY": "sk-test",
            "TRUSTDESK_LLM_TIMEOUT": "2.5",
        }
    )
    assert (backend.url, backend.model, backend.api_key, backend.timeout) == (URL, "small-model", "sk-test", 2.5)
    defaults = ChatBackend.from_env({"TRUSTDESK_LLM_URL": URL, "TRUSTDESK_LLM_MODEL": "m"})
    assert (defaults.api_key, defaults.timeout) == (None, 8.0)


@pytest.mark.parametrize(
    "overrides, variable",
    [
        ({"TRUSTDESK_LLM_MODEL": ""}, "TRUSTDESK_LLM_MODEL"),
        ({"TRUSTDESK_LLM_TIMEOUT": "0"}, "TRUSTDESK_LLM_TIMEOUT"),
        ({"TRUSTDESK_LLM_TIMEOUT": "-3"}, "TRUSTDESK_LLM_TIMEOUT"),
        ({"TRUSTDESK_LLM_TIMEOUT": "soon"}, "TRUSTDESK_LLM_TIMEOUT"),
        ({"TRUSTDESK_LLM_TIMEOUT": "nan"}, "TRUSTDESK_LLM_TIMEOUT"),
        ({"TRUSTDESK_LLM_TIMEOUT": "inf"}, "TRUSTDESK_LLM_TIMEOUT"),
        ({"TRUSTDESK_LLM_URL": "ftp://llm.example.test/v1/chat/completions"}, "TRUSTDESK_LLM_URL"),
        ({"TRUSTDESK_LLM_URL": "llm.example.test/v1/chat/completions"}, "TRUSTDESK_LLM_URL"),
        ({"TRUSTDESK_LLM_URL": "https://"}, "TRUSTDESK_LLM_URL"),
    ],
)
def test_from_env_rejects_bad_settings_naming_the_variable(overrides, variable):
    environ = {"TRUSTDESK_LLM_URL": URL, "TRUSTDESK_LLM_MODEL": "m", **overrides}
    with pytest.raises(LLMError, match=variable):
        ChatBackend.from_env(environ)


def test_complete_posts_chat_messages_and_strips_the_answer(mocked, backend):
    mocked.post(URL, json=answer("  We will fix it.\n"))
    assert backend.complete("be kind", "hello") == "We will fix it."
    _, payload = sent(mocked)
    assert payload == {
        "model": "test-model",
        "messages": [{"role": "system", "content": "be kind"}, {"role": "user", "content": "hello"}],
        "temperature": 0.2,
    }


@pytest.mark.parametrize("api_key, expected", [(None, None), ("sk-test", "Bearer sk-test")])
def test_complete_sends_a_bearer_header_only_with_a_key(mocked, api_key, expected):
    mocked.post(URL, json=answer("ok"))
    ChatBackend(URL, "test-model", api_key=api_key).complete("s", "u")
    assert mocked.calls[0].request.headers.get("Authorization") == expected


@pytest.mark.parametrize(
    "reply, message",
    [
        ({"body": requests.exceptions.Timeout()}, "timed out"),
        ({"body": requests.exceptions.ConnectionError()}, "connect"),
        ({"status": 500, "json": {"error": {"message": "boom"}}}, "HTTP 500"),
        ({"status": 429, "headers": {"Retry-After": "1"}}, "HTTP 429"),
        ({"status": 302, "headers": {"Location": "https://elsewhere.example.test/"}}, "HTTP 302"),
        ({"body": "<html>busy</html>"}, "invalid JSON"),
        ({"json": {}}, "content"),
        ({"json": {"choices": []}}, "content"),
        ({"json": {"choices": [{"message": {}}]}}, "content"),
        ({"json": ["not", "an", "object"]}, "content"),
        ({"json": answer(None)}, "empty"),
        ({"json": answer(" \n ")}, "empty"),
    ],
)
def test_complete_turns_failures_into_llm_errors(mocked, backend, reply, message):
    mocked.post(URL, **reply)
    with pytest.raises(LLMError, match=message):
        backend.complete("s", "u")
    assert len(mocked.calls) == 1


PERSONAL = ("dana@example.com", "+44 20 7946 0958", "4111 1111 1111 1111", "4111111111111111")


def test_rewrite_sends_placeholders_and_restores_the_answer(mocked, backend):
    mocked.post(URL, json=answer("We are sorry the payment on [CARD_1] failed; we will email [EMAIL_1] by [time]."))
    draft = (
        "You entered the wrong card, 4111 1111 1111 1111. Contact your bank. "
        "We emailed dana@example.com; call +44 20 7946 0958 about EXP-77120."
    )
    facts = ["Refund for EXP-77120 was sent to 4111 1111 1111 1111", "Confirmation went to dana@example.com"]
    result = backend.rewrite(draft, facts)

    body, payload = sent(mocked)
    assert not any(value in body for value in PERSONAL)
    user = payload["messages"][1]["content"]
    assert "[CARD_1]" in user and "[EMAIL_1]" in user and "[PHONE_1]" in user and "EXP-77120" in user
    assert "- Refund for EXP-77120 was sent to [CARD_1]" in user
    assert "- Confirmation went to [EMAIL_1]" in user
    assert "ownership" in payload["messages"][0]["content"]
    assert result == "We are sorry the payment on 4111 1111 1111 1111 failed; we will email dana@example.com by [time]."


def test_suggest_sends_placeholders_and_returns_restored_replies(mocked, backend):
    mocked.post(URL, json=answer("We will call [PHONE_1] by [time].\n---\n\n---\nWe are on it, [EMAIL_1].\n---\nThird."))
    replies = backend.suggest(
        "Refund for EXP-77120 late; customer dana@example.com", "Call me on +44 20 7946 0958!", n=2
    )

    body, payload = sent(mocked)
    assert not any(value in body for value in PERSONAL)
    assert "[EMAIL_1]" in body and "[PHONE_1]" in body and "2 different replies" in body
    assert "---" in payload["messages"][0]["content"]
    assert replies == ["We will call +44 20 7946 0958 by [time].", "We are on it, dana@example.com."]


def test_suggest_needs_at_least_one_reply(backend):
    with pytest.raises(ValueError):
        backend.suggest("summary", "message", n=0)
