"""Facts a rewrite must keep, and partner names."""


from guidance.facts import extract, missing
from guidance.partners import configured, recognise


def test_extracts_every_kind_of_fact():
    text = ("Hi Sam, your refund of $54.20 for order #55-1290 (EXP-77120) went out on 3 May at 9am; "
            "see https://acme.test/r/1 or email lee@acme.test by Friday. Your Kelvo Barista is covered.")
    facts = extract(text)
    for fact in ["Sam", "$54.20", "#55-1290", "EXP-77120", "3 May", "9am", "https://acme.test/r/1", "lee@acme.test",
                 "Friday", "Kelvo Barista"]:
        assert fact in facts
    assert "Your" not in facts and "Hi" not in facts


def test_multiword_names_handles_and_titles():
    facts = extract("@dana_k Dear Mr. Papadakis, Northern Grid Networks owns the cables. Please call them.")
    assert {"@dana_k", "Papadakis", "Northern Grid Networks"} <= set(facts)
    assert "Please" not in facts and "Dear" not in facts


def test_missing_facts_are_reported():
    assert missing("Order 55-1290 ships to Leeds on 3 May", "Your order ships soon") == ["55-1290", "Leeds", "3 May"]
    assert missing("Order 55-1290 ships to Leeds", "order 55-1290 is going to leeds") == []


def test_partners_are_recognised_by_name_and_by_referral():
    assert recognise("please contact Expedia for further investigation") == ["Expedia"]
    assert recognise("The item was sold by Gadget Hub Ltd, reach out to them.") == ["Gadget Hub Ltd"]
    assert recognise("Acme Rentals is an independent company") == ["Acme Rentals"]


def test_configured_partners_come_first():
    names = configured({"TRUSTDESK_PARTNERS": "Acme Travel, Zippy Couriers"})
    assert names[:2] == ["Acme Travel", "Zippy Couriers"] and "Expedia" in names
    assert recognise("Zippy Couriers lost it", names) == ["Zippy Couriers"]
