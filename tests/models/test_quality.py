"""The shipped model's held-out metrics (recorded in its manifest at training time)."""

import pytest

from models import corpus, store


@pytest.fixture(scope="module")
def manifest():
    return store.load().manifest


@pytest.mark.parametrize("label", ["blame", "deflection", "escalation_risk"])
def test_model_clearly_beats_the_lexicon(manifest, label):
    metrics = manifest["metrics"][label]
    assert metrics["model"]["f1"] >= metrics["lexicon"]["f1"] + 0.2
    assert metrics["model"]["roc_auc"] >= 0.9


@pytest.mark.parametrize("label", ["blame", "deflection", "escalation_risk"])
def test_held_out_probabilities_are_calibrated(manifest, label):
    assert manifest["metrics"][label]["model"]["brier"] <= 0.08


def test_ticket_escalation(manifest):
    assert manifest["metrics"]["ticket_escalation_risk"]["f1"] >= 0.85


def test_shipped_model_was_trained_on_the_committed_corpus(manifest):
    assert manifest["training_data"]["sha256"] == corpus.corpus_hash(), (
        "the corpus changed since the shipped model was trained: run `trustdesk train`"
    )
