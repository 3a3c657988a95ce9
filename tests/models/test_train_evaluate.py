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
    kinds = report["messages"]["kinds"]
    assert kinds["messages"] > 0 and {"exact", "precision", "recall", "f1"} <= set(kinds)
    assert set(kinds["per_kind"]) == set(corpus.KINDS)
    text = format_report(report)
    assert "lexicon" in text and "role=agent" in text and "kinds on flagged escalating messages" in text
    json.dumps(report)


def test_kind_metrics_count_only_flagged_escalating_messages():
    from models.evaluate import kind_metrics

    def shown(*kinds, flagged=True):
        return {"flags": ["escalation_risk"] if flagged else [], "escalation_kinds": [{"kind": k} for k in kinds]}

    labelled = [["repeat_contact"], ["manager", "repeat_contact"], ["legal"], [], ["churn"]]
    results = [shown("repeat_contact", "public", "manager"), shown("manager"), shown("legal"), shown("public"),
               shown("churn", flagged=False)]
    got = kind_metrics(labelled, results)
    # Three messages count (the calm one and the unflagged one do not): 3 of 5 kinds shown are right, 3 of 4 found.
    assert got["messages"] == 3 and got["exact"] == round(1 / 3, 3)
    assert (got["precision"], got["recall"]) == (0.6, 0.75)
    assert got["per_kind"]["repeat_contact"] == {"labelled": 2, "precision": 1.0, "recall": 0.5, "f1": 0.667}
    assert got["per_kind"]["public"]["precision"] == 0.0 and got["per_kind"]["churn"]["labelled"] == 0
    assert kind_metrics([], [])["exact"] is None


def test_kinds_learn_from_escalating_rows_only(monkeypatch):
    """Each kind's regression sees the rows labelled escalation, nothing else; the labels see every row."""
    import numpy as np
    import scipy.sparse as sp

    from models import classifier

    seen = {}
    original = classifier.MultiOutputCalibrated._fit_one

    def spy(self, X, y, weight, rows):
        seen.setdefault(tuple(y.tolist()), []).append(None if rows is None else sorted(rows.tolist()))
        return original(self, X, y, weight, rows)

    monkeypatch.setattr(classifier, "N_JOBS", 1)
    monkeypatch.setattr(classifier.MultiOutputCalibrated, "_fit_one", spy)
    rng = np.random.default_rng(0)
    n = 40
    X = sp.csr_matrix(rng.random((n, 6)))
    escalation = np.array([i % 2 for i in range(n)])
    Y = np.zeros((n, len(classifier.OUTPUTS)), int)
    Y[:, classifier.OUTPUTS.index("blame")] = [i % 3 == 0 for i in range(n)]
    Y[:, classifier.OUTPUTS.index("deflection")] = [i % 5 == 0 for i in range(n)]
    Y[:, classifier.OUTPUTS.index("escalation")] = escalation
    Y[:, classifier.OUTPUTS.index("kind:manager")] = escalation * np.array([i % 4 == 1 for i in range(n)])
    Y[:, classifier.OUTPUTS.index("kind:repeat_contact")] = escalation * np.array([i % 4 == 3 for i in range(n)])
    model = classifier.MultiOutputCalibrated(folds=2).fit(X, Y, groups=np.arange(n))
    escalating = np.flatnonzero(escalation).tolist()
    assert seen[tuple(Y[:, classifier.OUTPUTS.index("kind:manager")])] == [escalating]
    assert seen[tuple(Y[:, classifier.OUTPUTS.index("kind:repeat_contact")])] == [escalating]
    assert None in seen[tuple(escalation)]  # the escalation label itself learns from every row
    assert model.predict_proba(X).shape == (n, len(classifier.OUTPUTS))


def test_bad_corpus_line_is_named(small_corpus, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(small_corpus, broken)
    with open(next((broken / "messages").glob("*.jsonl")), "a") as fh:
        fh.write('{"id": "zz", "text": "x", "role": "robot"}\n')
    with pytest.raises(corpus.CorpusError, match="'role' must be one of"):
        train(broken, None)
