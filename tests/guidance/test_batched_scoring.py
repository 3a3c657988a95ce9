"""Guidance scores its candidates in batches; the guidance is exactly what one-at-a-time scoring gives."""

import json
from pathlib import Path

import numpy as np
import pytest

from guidance import engine, partners, playbooks
from guidance.engine import Context, guide
from guidance.scoring import Scores
from models.corpus import load_messages, load_tickets
from models.reference import ReferenceFeatures
from models.ticket import load_ticket

SAMPLES = Path(__file__).parents[2] / "models" / "samples" / "tickets.jsonl"


class OneAtATime:
    """The unbatched scorer: every request goes straight to the classifier."""

    def __init__(self, analyzer):
        self.analyzer = analyzer
        self.thresholds = analyzer.thresholds

    def prefetch(self, texts):
        pass

    def score_texts(self, texts, roles):
        return self.analyzer.score_texts(texts, roles)


def _tickets():
    tickets = [load_ticket(json.loads(line)) for line in SAMPLES.read_text().splitlines() if line.strip()]
    tickets += [load_ticket({k: v for k, v in t.items() if k != "labels"}) for t in load_tickets()[:40]]
    # Agent drafts last, so rewrites (and their fallbacks) are exercised too.
    agent = [e.text for e in load_messages() if e.role == "agent"]
    agent = agent[:60] + agent[345:346]  # with the shipped model, this rewrite drops a name and is not offered
    tickets += [load_ticket({"id": f"d{i}", "messages": [
        {"author_role": "customer", "body": "Where is my refund? This is the second time I ask."},
        {"author_role": "agent", "body": body}]}) for i, body in enumerate(agent)]
    return tickets


@pytest.fixture(scope="module")
def ctx(analyzer):
    return Context(analyzer, playbooks.load_dir(), partners.configured({}))


@pytest.fixture(scope="module")
def tickets():
    return _tickets()


def test_guidance_equals_one_at_a_time_scoring_on_the_reference_features(analyzer, ctx, tickets, monkeypatch):
    analyses = [analyzer.analyze(t) for t in tickets]
    fast = [guide(t, a, ctx) for t, a in zip(tickets, analyses)]
    monkeypatch.setattr(engine, "Scores", OneAtATime)
    monkeypatch.setattr(analyzer, "_features", ReferenceFeatures(analyzer._features))
    slow = [guide(t, a, ctx) for t, a in zip(tickets, analyses)]
    assert fast == slow
    assert any(g["rewrite"] and g["rewrite"]["changes"] for g in fast)  # rewrites were exercised


def test_a_customer_last_ticket_is_scored_in_one_classifier_call(analyzer, ctx, monkeypatch):
    ticket = load_ticket({"id": "1", "messages": [
        {"author_role": "customer", "body": "My parcel never arrived and the courier says to contact you. Order 55121."}]})
    analysis = analyzer.analyze(ticket)
    calls = []
    original = analyzer.score_texts
    monkeypatch.setattr(analyzer, "score_texts", lambda texts, roles: calls.append(len(texts)) or original(texts, roles))
    out = guide(ticket, analysis, ctx)
    assert len(out["suggestions"]) == 3
    assert len(calls) == 1


def test_scores_are_the_analyzers_and_each_text_is_scored_once(analyzer, monkeypatch):
    texts = ["Please contact your bank.", "I'll sort this out today.", "Please contact your bank."]
    scores = Scores(analyzer)
    calls = []
    original = analyzer.score_texts
    monkeypatch.setattr(analyzer, "score_texts", lambda t, r: calls.append(list(t)) or original(t, r))
    scores.prefetch(texts[:2])
    got = scores.score_texts(texts, ["agent"] * 3)
    assert calls == [texts[:2]]
    assert np.array_equal(got, original(texts, ["agent"] * 3))
    assert scores.score_texts([], []).shape == (0, got.shape[1])
    with pytest.raises(ValueError):
        scores.score_texts(["Where is my order?"], ["customer"])
