"""Model versions: the artifacts the service knows, which one is active, activation and rollback.

A version is a directory made by `trustdesk train` (models/store.py), named by
its manifest's `model_version`. The shipped model (or TRUSTDESK_MODEL_PATH) and
every directory under <data_dir>/models/ are registered at start; registering
reads manifests only, loading happens on activation. The active version is the
one activated last: activation stamps `activated_at`, rollback clears the
current one's stamp so the one before it is active again (rollbacks walk back
through the history one activation at a time).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import store

from .storage import AuditEntry, ModelVersion, utcnow

log = logging.getLogger("trustdesk.models")
# Manifest keys kept in the database: enough to compare versions without reading their files.
SUMMARY_KEYS = ("model_version", "created_at", "thresholds", "metrics", "training_data", "libraries", "seed")


class VersionError(ValueError):
    """A version that cannot be activated or rolled back to; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """The part of a manifest stored with a version."""
    return {key: manifest[key] for key in SUMMARY_KEYS if key in manifest}


def register(session: Session, path: Path | str) -> ModelVersion | None:
    """Record a model directory (by its manifest's version); None when it is not a model or the name is taken."""
    path = Path(path).absolute()
    directory = path.parent if path.is_file() else path
    try:
        manifest = store.read_manifest(directory)
    except store.ModelError as exc:
        log.warning("not registering %s: %s", directory, exc)
        return None
    version = str(manifest.get("model_version") or "")[:100]
    if not version:
        return None
    row = session.scalars(select(ModelVersion).where(ModelVersion.version == version)).one_or_none()
    if row is not None:
        if Path(row.path) != directory and Path(row.path).is_dir():
            log.warning("model %s at %s is already registered from %s; keeping that one", version, directory, row.path)
        elif Path(row.path) != directory:
            row.path = str(directory)  # the old directory is gone: the same bytes moved
        return row
    row = ModelVersion(version=version, path=str(directory), manifest=summary(manifest))
    try:
        with session.begin_nested():  # two workers starting together may both insert it
            session.add(row)
    except IntegrityError:
        return session.scalars(select(ModelVersion).where(ModelVersion.version == version)).one_or_none()
    return row


def scan(session: Session, data_dir: Path) -> list[ModelVersion]:
    """Register every model directory under <data_dir>/models/."""
    root = Path(data_dir) / "models"
    if not root.is_dir():
        return []
    found = (register(session, d) for d in sorted(root.iterdir()) if (d / store.MANIFEST).is_file())
    return [row for row in found if row is not None]


def active(session: Session) -> ModelVersion | None:
    """The version in use: the one activated last."""
    return session.scalars(select(ModelVersion).where(ModelVersion.activated_at.is_not(None))
                           .order_by(ModelVersion.activated_at.desc(), ModelVersion.id.desc()).limit(1)).first()


def listing(session: Session) -> list[ModelVersion]:
    """Every known version, newest registration first."""
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.registered_at.desc(), ModelVersion.id.desc())))


def check_loadable(path: str) -> None:
    """Refuse a version whose files no longer verify (moved, edited, other scikit-learn)."""
    directory = Path(path)
    try:
        store.verify(directory, store.read_manifest(directory))
    except store.ModelError as exc:
        raise VersionError(f"cannot activate: {exc}") from None


def activate(session: Session, version: str, actor: str) -> ModelVersion:
    """Make a version the active one (audited)."""
    row = session.scalars(select(ModelVersion).where(ModelVersion.version == version)).one_or_none()
    if row is None:
        raise VersionError(f"no model version {version!r}", 404)
    check_loadable(row.path)
    before = active(session)
    row.activated_at = utcnow()
    session.add(AuditEntry(actor=actor, action="model.activate",
                           detail={"version": version, "previous": before.version if before else None}))
    session.flush()
    return row


def rollback(session: Session, actor: str) -> ModelVersion:
    """Go back to the version that was active before the current one (audited)."""
    current = active(session)
    previous = session.scalars(select(ModelVersion).where(ModelVersion.activated_at.is_not(None),
                                                          ModelVersion.id != (current.id if current else -1))
                               .order_by(ModelVersion.activated_at.desc(), ModelVersion.id.desc()).limit(1)).first()
    if current is None or previous is None:
        raise VersionError("there is no earlier activation to roll back to")
    check_loadable(previous.path)
    current.activated_at = None
    session.add(AuditEntry(actor=actor, action="model.rollback", detail={"from": current.version, "to": previous.version}))
    session.flush()
    return previous


def at_start(session: Session, configured: Path | str, data_dir: Path, configured_key: str = "configured_model") -> None:
    """Register the configured model and the data dir's models; activate the configured one when it is new.

    The database's choice wins over the configuration, except when the operator
    points TRUSTDESK_MODEL_PATH at a different model than at the last start.
    """
    from .runtime import read_setting, write_setting

    row = register(session, configured)
    scan(session, data_dir)
    if row is None:
        return
    last = (read_setting(session, configured_key) or {}).get("version")
    if active(session) is None or last != row.version:
        if last != row.version:
            write_setting(session, configured_key, {"version": row.version}, actor="config", audit=False)
        row.activated_at = utcnow()
        session.add(AuditEntry(actor="config", action="model.activate", detail={"version": row.version, "previous": None}))
