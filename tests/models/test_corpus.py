"""The training corpus meets the bar the product promises (size, spread, realism)."""

from collections import Counter

import pytest

from models.corpus import KINDS, LABELS, REGISTERS, load_messages, load_tickets, parse_message, CorpusError


@pytest.fixture(scope="module")
def messages():
    return load_messages()


@pytest.fixture(scope="module")
def tickets():
    return load_tickets()


def test_size(messages, tickets):
    assert len(messages) >= 4000
    assert len(tickets) >= 300
    assert all(len(t["messages"]) >= 2 for t in tickets)


def test_spread(messages):
    assert len({m.industry for m in messages} - {"general"}) >= 12
    assert {m.role for m in messages} == {"agent", "customer"}
    assert {m.register for m in messages} == set(REGISTERS)
    assert sum(m.non_native for m in messages) >= 0.1 * len(messages)
    for label in LABELS:
        assert sum(m.labels[label] for m in messages) >= 300, label
    kinds = Counter(k for m in messages for k in m.kinds)
    assert all(kinds[k] >= 50 for k in KINDS), kinds


def test_hard_negatives_and_templates(messages):
    assert sum(m.hard_negative for m in messages) >= len(messages) / 3
    assert sum(m.source == "template" for m in messages) <= len(messages) / 10


def test_real_text_is_part_of_training(messages):
    sources = Counter(m.source for m in messages)
    assert sources["ibm-dev"] >= 500 and sources["bitext"] >= 100
    assert sources["politeness-wiki"] + sources["politeness-se"] >= 200


def test_no_evaluation_only_text_in_training(messages):
    assert not {m.source for m in messages} & {"twcs", "ibm-test", "xci"}


def test_social_posts_fit_in_a_tweet(messages):
    assert all(len(m.text) <= 280 for m in messages if m.register == "social")


@pytest.mark.parametrize(
    "line, problem",
    [
        ({"id": "a", "text": "x", "role": "agent", "blame": 2, "deflection": 0, "escalation": 0}, "'blame' must be 0 or 1"),
        ({"id": "a", "text": "x", "role": "agent", "blame": 0, "deflection": 0, "escalation": 1}, "no 'kinds'"),
        ({"id": "a", "text": "x", "role": "agent", "blame": 1, "deflection": 0, "escalation": 0,
          "evidence": {"blame": ["y"]}}, "not an exact substring"),
    ],
)
def test_validation_names_the_problem(line, problem):
    with pytest.raises(CorpusError, match=problem):
        parse_message(line, "f:1")
