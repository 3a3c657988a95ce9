"""The queue, ticket page and customers page as plain functions: filters, flags from current thresholds, actions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from plugin import runtime
from plugin.console import customers, review, tickets
from plugin.services import services
from plugin.storage import Feedback, Ticket

GENERIC_TICKET = Path(__file__).resolve().parents[1] / "integrations" / "fixtures" / "generic" / "ticket.json"


@pytest.mark.parametrize("args,message", [
    ({"label": "rudeness"}, "label"), ({"status": "closed"}, "status"), ({"sort": "date"}, "sort"),
    ({"since": "03/01/2026"}, "since"), ({"since": "2026-03-02", "until": "2026-03-01"}, "since"),
])
def test_bad_filters_are_named(args, message):
    with pytest.raises(review.FilterError, match=message):
        review.parse_filters(args)


def test_filters_default_to_open_tickets_by_risk():
    f = review.parse_filters({"agent": " Robin ", "since": "2026-03-01"})
    assert (f.agent, f.status, f.sort, str(f.since)) == ("Robin", "open", "risk", "2026-03-01")


def _analysis(spans, flags=("deflection",)):
    return {"flags": list(flags), "scores": {"deflection": 0.9},
            "messages": [{"index": 0, "author_role": "agent", "flags": list(flags), "scores": {"deflection": 0.9},
                          "spans": spans}]}


def test_strongest_span_prefers_the_highest_score_and_falls_back_to_the_message():
    spans = [{"label": "deflection", "text": "a", "score": 0.6}, {"label": "deflection", "text": "b", "score": 0.8}]
    assert review.strongest_span(_analysis(spans))["text"] == "b"
    assert review.strongest_span(_analysis([])) == {"label": "deflection", "text": "", "score": 0.9,
                                                    "message_index": 0, "author_role": "agent"}
    assert review.strongest_span(_analysis([], flags=())) is None


@pytest.mark.parametrize("spans,expected", [
    ([{"start": 6, "end": 11, "text": "world", "label": "blame"}], [("Hello ", None), ("world", "blame"), ("!", None)]),
    ([{"start": 0, "end": 3, "text": "world", "label": "blame"}], [("Hello ", None), ("world", "blame"), ("!", None)]),
    ([{"start": 0, "end": 99, "text": "absent", "label": "blame"}], [("Hello world!", None)]),
    ([{"start": 0, "end": 5, "label": "blame"}, {"start": 3, "end": 8, "label": "deflection"}],
     [("Hello", "blame"), (" world!", None)]),
])
def test_segments_mark_spans_by_offset_or_by_text(spans, expected):
    assert tickets.segments("Hello world!", spans) == expected


def _ticket(session, external_id="T-1042"):
    return session.scalars(select(Ticket).where(Ticket.external_id == external_id)).one()


def test_queue_follows_the_thresholds_in_force(api):
    api.deliver()
    with api.app.app_context(), api.session() as session:
        thresholds = runtime.current_thresholds(session, services().analyzer)
        rows = review.queue(session, thresholds, review.Filters())
        assert [(r.external_id, r.labels, r.risk) for r in rows] == [("T-1042", ["deflection"], "medium")]
        assert rows[0].why["text"].startswith("Expedia is an independent third party")
        raised = {**thresholds, "deflection": 1.0}
        assert review.queue(session, raised, review.Filters()) == []
        assert review.queue(session, thresholds, review.Filters(label="blame")) == []
        assert review.queue(session, thresholds, review.Filters(integration="zendesk")) == []
        assert review.filter_choices(session)["integration"] == ["generic"]


def test_ticket_actions_store_feedback_notes_and_review_state(api):
    api.deliver()
    with api.app.app_context(), services().sessions.begin() as session:
        ticket = _ticket(session)
        tickets.judge_flag(session, ticket, "flag_confirmed", "deflection", "1", "lee")
        for kind, label, index, message in [("flag_maybe", "deflection", 1, "verdict"), ("flag_wrong", "rude", 1, "label"),
                                            ("flag_wrong", "blame", "x", "message_index"),
                                            ("flag_wrong", "blame", 9, "no message 9")]:
            with pytest.raises(tickets.ActionError, match=message):
                tickets.judge_flag(session, ticket, kind, label, index, "lee")
        with pytest.raises(tickets.ActionError):
            tickets.add_note(session, ticket, "   ", "lee")
        with pytest.raises(tickets.ActionError):
            tickets.add_note(session, ticket, "x" * (tickets.MAX_NOTE + 1), "lee")
        tickets.add_note(session, ticket, "Offer to call Expedia.", "lee")
        tickets.set_handled(session, ticket, True, "lee")
        page = tickets.page(session, ticket, runtime.current_thresholds(session, services().analyzer))
        assert page.review.handled_by == "lee" and [n.text for n in page.notes] == ["Offer to call Expedia."]
        assert page.labels == ["deflection"] and page.messages[1]["segments"][0][1] == "deflection"
        assert review.queue(session, runtime.current_thresholds(session, services().analyzer), review.Filters()) == []
        tickets.set_handled(session, ticket, False, "lee")
        assert tickets.page(session, ticket, {"blame": 0.5, "deflection": 0.5, "escalation_risk": 0.5,
                                              "ticket_escalation_risk": 0.6}).review is None
    with api.session() as session:
        row = session.scalars(select(Feedback)).one()
        assert (row.kind, row.value, row.actor) == ("flag_confirmed",
                                                    {"label": "deflection", "message_index": 1, "text": None}, "lee")


def test_customers_listing_orders_and_carries_events(api):
    body = json.loads(GENERIC_TICKET.read_text())
    body["ticket"]["requester"].update(organization="Whitfield Travel", value=2000)
    api.deliver(json.dumps(body).encode())
    with api.session() as session:
        worst = customers.listing(session, 0.0)
        assert worst["customers"][0]["name"] == "Dana Whitfield"
        assert worst["customers"][0]["events"][0]["kind"] == "deflected"
        assert worst["customers"][0]["value_at_risk"] > 0
        assert worst["organizations"][0]["organization"] == "Whitfield Travel"
        assert worst["organizations"][0]["events"][0]["ticket"] == "T-1042"
        with pytest.raises(ValueError):
            customers.listing(session, 0.0, order="sideways")
