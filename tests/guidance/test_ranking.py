"""Which playbooks a ticket is offered: by its topic in the customer's words, never by flags alone."""

import pytest

from guidance import partners, playbooks
from guidance.engine import Context, guide, rank_playbooks
from guidance.summary import _KIND_WORDS
from models.ticket import load_ticket

STRANDED = "I booked a car through your site for 9am at the airport and the address in my confirmation was wrong. " \
           "I've been standing here for an hour with two kids."
BLAMING_REPLY = "As I already explained, you should have checked the address before you left. Expedia is an " \
                "independent third party, please contact Expedia about the booking. Order #88231 was charged $412.50."


@pytest.fixture(scope="module")
def ctx(analyzer):
    return Context(analyzer, playbooks.load_dir(), partners.configured({}))


def _ranked(ctx, messages):
    ticket = load_ticket({"id": "1", "messages": messages})
    analysis = ctx.analyzer.analyze(ticket)
    found = partners.recognise("\n".join(m["body"] for m in messages), ctx.partners)
    return [pb.id for _, pb in rank_playbooks(ctx.playbooks, ticket, analysis, found)], ticket, analysis


def test_flags_and_agent_words_do_not_choose_the_topic(ctx):
    """Blame, deflection, escalation and a named partner fit many playbooks; the customer's booking is the topic."""
    ids, ticket, analysis = _ranked(ctx, [{"author_role": "customer", "body": STRANDED},
                                         {"author_role": "agent", "body": BLAMING_REPLY}])
    assert set(analysis["flags"]) >= {"blame", "deflection", "escalation_risk"}
    assert ids[0] == "booking-lost" and "marketplace-partner" in ids
    assert not {"bank-payment-failed", "double-charge", "carrier-damage-or-loss"} & set(ids)
    assert ids[-1] == "general"  # fewer than three fit: the general reply is offered last
    out = guide(ticket, analysis, ctx)
    assert [s["playbook"] for s in out["suggestions"]] == ids[:3]


def test_a_ticket_the_customer_has_not_written_in_is_read_whole(ctx):
    ids, _, _ = _ranked(ctx, [{"author_role": "agent", "body": "Sorry, we charged you twice for the same order; "
                                                               "I'm refunding the duplicate today."}])
    assert ids[0] == "double-charge"


def test_nothing_fits_gives_the_general_playbook(ctx):
    ids, _, _ = _ranked(ctx, [{"author_role": "customer", "body": "Hello there."}])
    assert ids == ["general"]


def test_a_risk_from_the_trajectory_alone_names_no_threat(ctx):
    """The customer threatened nothing: the ticket is at risk from our replies, and no kind is put in their mouth."""
    ticket = load_ticket({"id": "1", "messages": [{"author_role": "customer", "body": STRANDED},
                                                  {"author_role": "agent", "body": BLAMING_REPLY}]})
    analysis = ctx.analyzer.analyze(ticket)
    assert "escalation_risk" in analysis["flags"] and analysis["escalation_kinds"] == []
    summary = guide(ticket, analysis, ctx)["summary"]
    assert not [words for words in _KIND_WORDS.values() if words in summary] and "deflection and blame" in summary
