"""Training and evaluation end to end, on a small slice of the corpus to stay fast."""

import json
import shutil

import pytest

from models import corpus, store
from models.evaluate import evaluate, format_report
from models.predict import Analyzer
from models.train import train


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    for sub in ("messages", "tickets"):
        (root / sub).mkdir()
    for path in corpus.message_files()[:6]:
        shutil.copy(path, root / "messages" / path.name)
    for path in corpus.ticket_files()[:4]:
        shutil.copy(path, root / "tickets" / path.name)
    return root


@pytest.fixture(scope="module")
def trained(small_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    manifest = train(small_corpus, out, seed=3)
    return out, manifest


def test_training_writes_a_loadable_artifact(trained, small_corpus):
    out, manifest = trained
    assert manifest["training_data"]["sha256"] == corpus.corpus_hash(small_corpus)
    for label in ("blame", "deflection", "escalation_risk", "ticket_escalation_risk"):
        assert 0.0 < manifest["thresholds"][label] < 1.0
    assert set(manifest["metrics"]) >= {"blame", "deflection", "escalation_risk"}
    assert store.load(out).manifest["model_version"] == manifest["model_version"]


def test_training_is_reproducible(trained, small_corpus, tmp_path):
    out, manifest = trained
    again = train(small_corpus, tmp_path / "again", seed=3)
    assert again["thresholds"] == manifest["thresholds"]
    assert again["artifacts"]["model.joblib"]["sha256"] == manifest["artifacts"]["model.joblib"]["sha256"]
    texts = ["please contact your bank about this", "I'm calling my lawyer", "thanks, all sorted"]
    a = Analyzer.load(out).score_texts(texts, ["agent", "customer", "customer"])
    b = Analyzer.load(tmp_path / "again").score_texts(texts, ["agent", "customer", "customer"])
    assert (a == b).all()


def test_probabilities_are_calibrated_on_held_out(trained):
    _, manifest = trained
    for label in ("blame", "deflection", "escalation_risk"):
        assert manifest["metrics"][label]["model"]["brier"] < 0.2


def test_evaluate_reports_model_and_lexicon_per_slice(trained, small_corpus):
    out, _ = trained
    report = evaluate(out, small_corpus, real=False)
    for label in ("blame", "deflection", "escalation_risk"):
        entry = report["messages"]["labels"][label]
        assert {"precision", "recall", "f1", "roc_auc", "brier", "confusion"} <= set(entry["model"])
        assert "f1" in entry["lexicon"]
    assert {"role", "register", "industry", "non_native"} <= set(report["messages"]["slices"])
    text = format_report(report)
    assert "lexicon" in text and "role=agent" in text
    json.dumps(report)


def test_bad_corpus_line_is_named(small_corpus, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(small_corpus, broken)
    with open(next((broken / "messages").glob("*.jsonl")), "a") as fh:
        fh.write('{"id": "zz", "text": "x", "role": "robot"}\n')
    with pytest.raises(corpus.CorpusError, match="'role' must be one of"):
        train(broken, None)
