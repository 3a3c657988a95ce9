"""Persist models as joblib artifacts with a manifest, and load them safely.

A joblib file is code: unpickling runs whatever it names. So an artifact is
loaded only after its manifest's sha256 matches the bytes on disk, its format
version is one we read, and the scikit-learn that made it is the one installed
(pickles across scikit-learn versions can load and then silently mispredict).
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib

FORMAT_VERSION = 1
ARTIFACT = "model.joblib"
MANIFEST = "manifest.json"
DEFAULT_MODEL_DIR = Path(__file__).parent / "artifacts" / "default"
_LIBRARIES = ("scikit-learn", "numpy", "scipy", "joblib", "py3langid")


class ModelError(RuntimeError):
    """An artifact that cannot be loaded; the message says why and what to do."""


@dataclass
class StoredModel:
    """A loaded artifact: the fitted objects and the manifest that describes them."""

    objects: dict[str, Any]
    manifest: dict[str, Any]
    path: Path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose behaviour the artifact depends on."""
    return {name: metadata.version(name) for name in _LIBRARIES} | {"python": platform.python_version()}


def save(directory: Path, objects: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """Write the artifact and its manifest into `directory`; returns the manifest."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    artifact = directory / ARTIFACT
    joblib.dump(objects, artifact, compress=("zlib", 3))
    digest = _sha256(artifact)
    full = {
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "libraries": library_versions(),
        **manifest,
        # Named after its bytes: the same corpus, seed and code give the same version.
        "model_version": manifest.get("model_version") or f"td{FORMAT_VERSION}-{digest[:12]}",
        "artifacts": {ARTIFACT: {"sha256": digest, "bytes": artifact.stat().st_size}},
    }
    (directory / MANIFEST).write_text(json.dumps(full, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return full


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of an artifact directory, or ModelError."""
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no {MANIFEST} in {directory}: not a Trustdesk model directory") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"{path} is not a JSON object")
    return manifest


def verify(directory: Path, manifest: dict[str, Any]) -> None:
    """Refuse an artifact whose format, library version or bytes do not match its manifest."""
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"model format {manifest.get('format_version')!r} is not {FORMAT_VERSION}: retrain it with `trustdesk train`"
        )
    made_with = (manifest.get("libraries") or {}).get("scikit-learn")
    installed = metadata.version("scikit-learn")
    if made_with != installed:
        raise ModelError(
            f"model was trained with scikit-learn {made_with}, but {installed} is installed: "
            f"install scikit-learn=={made_with} or retrain with `trustdesk train`"
        )
    for name, info in (manifest.get("artifacts") or {}).items():
        path = Path(directory) / name
        if not path.is_file():
            raise ModelError(f"{path} is missing")
        actual = _sha256(path)
        if actual != info.get("sha256"):
            raise ModelError(f"{path} does not match its manifest (sha256 {actual[:12]}...): refusing to load it")
    if ARTIFACT not in (manifest.get("artifacts") or {}):
        raise ModelError(f"manifest in {directory} lists no {ARTIFACT}")


def load(directory: Path | str | None = None) -> StoredModel:
    """Load a verified artifact; `directory` may also name the joblib file itself."""
    directory = Path(directory) if directory else DEFAULT_MODEL_DIR
    if directory.is_file():
        directory = directory.parent
    manifest = read_manifest(directory)
    verify(directory, manifest)
    try:
        objects = joblib.load(directory / ARTIFACT)
    except Exception as exc:  # a verified file that still fails is a packaging bug; say so plainly
        raise ModelError(f"cannot load {directory / ARTIFACT}: {exc}") from None
    return StoredModel(objects=objects, manifest=manifest, path=directory)
