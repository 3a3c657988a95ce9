"""Real public text (kept in ../shared): the shipped model is measured on it, never trained on it."""

import pytest

from models.evaluate import evaluate_real, shared_dir

pytestmark = pytest.mark.skipif(
    not (shared_dir() / "data" / "external").is_dir(),
    reason=f"real public text not found at {shared_dir()}/data/external (its licences keep it out of the repo)",
)


def test_real_text_evaluation(analyzer):
    report = evaluate_real(analyzer)
    gold = report["gold"]
    assert gold["n"] >= 300 and gold["missing"] == 0
    for label in ("blame", "deflection", "escalation_risk"):
        assert gold["labels"][label]["model"]["positives"] > 0
        assert gold["labels"][label]["model"]["roc_auc"] > 0.7
    xci = report["xci"]
    assert xci["blame_roc_auc_sev34_vs_rest"] > 0.7
    assert xci["escalation_fpr_calm_sev12"] < 0.15
