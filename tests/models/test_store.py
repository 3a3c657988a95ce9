"""Loading refuses artifacts that do not match their manifest."""

import json
import shutil

import pytest

from models import store


@pytest.fixture
def model_copy(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(store.DEFAULT_MODEL_DIR, target)
    return target


def _edit_manifest(path, change):
    manifest = json.loads((path / store.MANIFEST).read_text())
    change(manifest)
    (path / store.MANIFEST).write_text(json.dumps(manifest))


def test_shipped_model_loads_with_a_complete_manifest():
    stored = store.load()
    m = stored.manifest
    assert m["format_version"] == store.FORMAT_VERSION
    assert {"blame", "deflection", "escalation_risk", "ticket_escalation_risk"} <= set(m["thresholds"])
    assert m["libraries"]["scikit-learn"] and len(m["training_data"]["sha256"]) == 64
    assert "metrics" in m and m["artifacts"][store.ARTIFACT]["sha256"]


def test_tampered_artifact_is_refused(model_copy):
    with open(model_copy / store.ARTIFACT, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(store.ModelError, match="does not match its manifest"):
        store.load(model_copy)


def test_other_scikit_learn_version_is_refused(model_copy):
    _edit_manifest(model_copy, lambda m: m["libraries"].update({"scikit-learn": "0.24.2"}))
    with pytest.raises(store.ModelError, match="scikit-learn 0.24.2"):
        store.load(model_copy)


def test_unknown_format_is_refused(model_copy):
    _edit_manifest(model_copy, lambda m: m.update({"format_version": 99}))
    with pytest.raises(store.ModelError, match="format"):
        store.load(model_copy)


def test_missing_manifest_is_refused(tmp_path):
    with pytest.raises(store.ModelError, match="not a Trustdesk model"):
        store.load(tmp_path)


def test_path_to_the_joblib_file_works_too():
    assert store.load(store.DEFAULT_MODEL_DIR / store.ARTIFACT).manifest["model_version"]
