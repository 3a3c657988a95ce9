"""The normalized ticket schema: lenient on extras, precise about errors."""

import pytest

from models.ticket import TicketError, load_ticket


def test_minimal_ticket_is_valid():
    ticket = load_ticket({"id": "1", "messages": [{"author_role": "customer", "body": "..."}]})
    assert ticket["source"] == "generic"
    assert ticket["messages"][0]["public"] is True
    assert ticket["tags"] == []


def test_unknown_fields_are_ignored_and_numeric_ids_become_strings():
    ticket = load_ticket({"id": 42, "priority": "high", "messages": [{"author_role": "agent", "body": "x", "via": "web", "id": 7}]})
    assert ticket["id"] == "42" and ticket["messages"][0]["id"] == "7"
    assert "priority" not in ticket


@pytest.mark.parametrize(
    "ticket, field",
    [
        ({"messages": [{"author_role": "customer", "body": "x"}]}, "id"),
        ({"id": "1"}, "messages"),
        ({"id": "1", "messages": []}, "messages"),
        ({"id": "1", "messages": [{"author_role": "bot", "body": "x"}]}, "messages.0.author_role"),
        ({"id": "1", "messages": [{"author_role": "agent"}]}, "messages.0.body"),
        ({"id": "1", "messages": [{"author_role": "agent", "body": "x", "created_at": "yesterday"}]}, "messages.0.created_at"),
        ({"id": "1", "requester": {"value": -5}, "messages": [{"author_role": "agent", "body": "x"}]}, "requester.value"),
        ({"id": "1", "history": {"prior_contacts": "many"}, "messages": [{"author_role": "agent", "body": "x"}]}, "history.prior_contacts"),
        ({"id": True, "messages": [{"author_role": "agent", "body": "x"}]}, "id"),
        ({"id": "1", "messages": [{"author_role": "agent", "body": "x" * 1_000_001}]}, "messages.0.body"),
    ],
)
def test_errors_name_the_bad_field(ticket, field):
    with pytest.raises(TicketError) as err:
        load_ticket(ticket)
    assert f"{field}:" in str(err.value)


def test_not_an_object():
    with pytest.raises(TicketError, match="JSON object"):
        load_ticket(["id", "1"])


def test_timestamps_and_history():
    ticket = load_ticket({
        "id": "1", "created_at": "2026-03-01T09:00:00Z",
        "history": {"prior_contacts": 2, "reopened": True},
        "messages": [{"author_role": "customer", "body": "x", "created_at": "2026-03-01T10:00:00"}],
    })
    assert ticket["created_at"].utcoffset().total_seconds() == 0
    assert ticket["messages"][0]["created_at"].tzinfo is not None  # naive taken as UTC
    assert ticket["history"] == {"prior_contacts": 2, "reopened": 1, "days_open": 0.0, "prior_deflections": 0}


def test_html_body_is_reduced_to_text_safely():
    body = '<p>Hello <b>Sam</b></p><script>alert("x")</script><p>We&#39;re on it &amp; will call.</p>'
    message = load_ticket({"id": "1", "messages": [{"author_role": "agent", "body": body}]})["messages"][0]
    assert message["body"] == "Hello Sam\n\nWe're on it & will call."
    assert message["body_changed"] is True


def test_plain_text_with_angle_brackets_is_not_html():
    message = load_ticket({"id": "1", "messages": [{"author_role": "customer", "body": "I <3 you but 2 < 3"}]})["messages"][0]
    assert message["body"] == "I <3 you but 2 < 3"
    assert message["body_changed"] is False
