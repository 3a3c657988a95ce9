"""Behavioural tests of the shipped model: cases from the field and invariances.

These are deliberately phrased differently from the corpus; they check that the
model learned the language of blame, deflection and escalation, not our files.
"""

import pytest

from models.ticket import load_ticket

EXPEDIA = (
    "Expedia is an independent third party brokerage service that is not affiliated with Enterprise. "
    "If given the wrong information such as the address and pickup time, please contact Expedia for "
    "further investigation."
)
YOUTUBE = (
    "You broke my guitar and nobody will own it. I am going to make songs and videos about how your airline "
    "treated me and share them on YouTube."
)


def test_field_case_expedia_is_deflection(classify_one):
    result = classify_one(EXPEDIA, role="agent")
    assert "deflection" in result["flags"]
    assert any(s["label"] == "deflection" for s in result["spans"])


def test_field_case_songs_on_youtube_is_public_escalation(classify_one):
    result = classify_one(YOUTUBE)
    assert "escalation_risk" in result["flags"]
    kinds = {k["kind"]: k["evidence"] for k in result["escalation_kinds"]}
    assert "public" in kinds and "YouTube" in kinds["public"]


@pytest.mark.parametrize(
    "body",
    [
        "I'm so sorry, we sent you to the wrong address. I've fixed it with our booking partner and a car is waiting for you now.",
        "I've contacted the carrier on your behalf and opened a trace; I'll update you by Friday.",
        "Your refund of $54.20 went out today, it should show in 3-5 days. Thanks for your patience!",
    ],
)
def test_owned_replies_are_not_flagged(classify_one, body):
    result = classify_one(body, role="agent")
    assert "deflection" not in result["flags"] and "blame" not in result["flags"]


def test_adding_please_contact_x_raises_deflection(classify_one):
    owned = "Thanks for flagging the missing parcel, I'm checking the tracking now."
    deflected = owned + " Unfortunately this is the courier's responsibility, please contact DPD directly."
    assert classify_one(deflected, "agent")["scores"]["deflection"] > classify_one(owned, "agent")["scores"]["deflection"] + 0.3


@pytest.mark.parametrize(
    "body",
    [
        "As I already explained in my last email, you entered the wrong card number.",
        "Per my previous message, this happened because you didn't read the terms before booking.",
    ],
)
def test_agent_blame(classify_one, body):
    assert "blame" in classify_one(body, "agent")["flags"]


def test_customer_blame_of_us(classify_one):
    assert "blame" in classify_one("Your incompetent staff lost my bag and now you're ignoring me.")["flags"]


@pytest.mark.parametrize(
    "body, kind",
    [
        ("If this isn't refunded by Friday I'm taking you to small claims court.", "legal"),
        ("I'll just dispute the charge with my credit card company then.", "chargeback"),
        ("Cancel my subscription. I'm moving to a competitor, done with you.", "churn"),
        ("I want to speak to your supervisor right now.", "manager"),
    ],
)
def test_escalation_kinds(classify_one, body, kind):
    result = classify_one(body)
    assert "escalation_risk" in result["flags"]
    assert kind in {k["kind"] for k in result["escalation_kinds"]}


@pytest.mark.parametrize(
    "body, kinds",
    [
        ("This is the third time I'm writing about this order and nobody has answered.", {"repeat_contact"}),
        ("I want to speak to your supervisor right now.", {"manager"}),
        ("I'm leaving a one-star review on Trustpilot and telling everyone on Facebook.", {"public"}),
        ("I've reported you to the consumer ombudsman.", {"legal"}),
        ("Close my account today please, I'm taking my business elsewhere.", {"churn"}),
        ("I've called five times now about the same refund. Get me a manager.", {"manager", "repeat_contact"}),
    ],
)
def test_escalation_kinds_name_only_the_threats_made(classify_one, body, kinds):
    """A repeat contact is not also a public, legal and manager threat (kinds are learnt given escalation)."""
    result = classify_one(body)
    assert "escalation_risk" in result["flags"]
    assert {k["kind"] for k in result["escalation_kinds"]} == kinds


@pytest.mark.parametrize(
    "body",
    [
        "This update is terrible, how do I roll back to the old version?",
        "Could you cancel order 4411 please? I ordered the wrong size.",
        "My account manager said I should write to you about the invoice address.",
    ],
)
def test_hard_negatives_are_not_escalation(classify_one, body):
    assert "escalation_risk" not in classify_one(body)["flags"]


def test_blame_only_in_quoted_history_does_not_count(classify_one):
    body = ("Thanks, the replacement arrived today and works.\n\n"
            "On Tue, 4 Mar 2026, Support <help@acme.test> wrote:\n> You clearly didn't read the manual.")
    assert "blame" not in classify_one(body, "customer")["flags"]
    agent = classify_one("Happy it's sorted!\n\nOn Tue, Dana wrote:\n> Your useless staff broke it, I'm calling my lawyer", "agent")
    assert agent["flags"] == []


def test_ticket_history_raises_escalation(analyzer):
    messages = [{"author_role": "customer", "body": "Any update on my refund?"}]
    calm = analyzer.analyze(load_ticket({"id": "1", "messages": messages}))
    repeated = analyzer.analyze(load_ticket({
        "id": "1", "messages": messages,
        "history": {"prior_contacts": 4, "reopened": 2, "days_open": 30, "prior_deflections": 2},
    }))
    assert repeated["scores"]["escalation_risk"] > calm["scores"]["escalation_risk"]
    assert "escalation_risk" in repeated["flags"] and "escalation_risk" not in calm["flags"]
    assert "repeat_contact" in {k["kind"] for k in repeated["escalation_kinds"]}


def test_a_calm_message_carries_no_repeat_contact_signal(analyzer):
    """The ticket model reads each message's repeat-contact signal: the message must escalate, and that way."""
    context = analyzer.context(load_ticket({"id": "1", "messages": [
        {"author_role": "customer", "body": "Thanks, that fixed it. Have a good weekend!"},
        {"author_role": "customer", "body": "This is the third time I'm writing about this order and nobody has answered."},
    ]}))
    calm, repeated = context.signals
    assert calm.repeat_contact <= calm.escalation < 0.2
    assert repeated.repeat_contact > 0.5
