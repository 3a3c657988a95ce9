"""Settings admins change while the service runs, and what each worker does to follow them.

Thresholds and partner names live in `runtime_settings`; the active model in
`model_versions` (plugin/versions.py). Every worker compares the settings'
revisions on each request (one small query) and the active model every
MODEL_CHECK_SECONDS, and swaps in a new analyzer and guidance context when
either changed. Stored analyses keep their scores, so flags are recomputed at
read time with `flags_for(analysis, current_thresholds(...))`.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from guidance.partners import with_common
from models.predict import LABEL_INDEX, Analyzer

from .storage import AuditEntry, RuntimeSetting, utcnow

log = logging.getLogger("trustdesk.runtime")
THRESHOLDS, PARTNERS, PLAYBOOKS = "thresholds", "partners", "playbooks"
# Message-level labels, then the ticket model's own escalation threshold.
THRESHOLD_NAMES = ("blame", "deflection", "escalation_risk", "ticket_escalation_risk")
MODEL_CHECK_SECONDS = 2.0
LOADED_MODELS_KEPT = 2


def read_setting(session: Session, key: str) -> Any:
    """A runtime setting's value, or None when it was never set."""
    row = session.get(RuntimeSetting, key)
    return None if row is None else row.value


def write_setting(session: Session, key: str, value: Any, actor: str, audit: bool = True) -> None:
    """Change a runtime setting (its revision grows, so every worker notices); audited."""
    row = session.get(RuntimeSetting, key)
    before = None if row is None else row.value
    if row is None:
        row = RuntimeSetting(key=key, value=value, revision=1, updated_by=actor)
        session.add(row)
    else:
        row.value, row.revision, row.updated_by, row.updated_at = value, row.revision + 1, actor, utcnow()
    if audit:
        session.add(AuditEntry(actor=actor, action=f"settings.{key}", detail={"before": before, "after": value}))
    session.flush()


def revisions(session: Session | Connection) -> dict[str, int]:
    """Each runtime setting's revision (what a worker compares per request)."""
    return {key: revision for key, revision in session.execute(select(RuntimeSetting.key, RuntimeSetting.revision))}


def current_revisions(engine: Engine) -> dict[str, int]:
    """`revisions`, asked on a bare DB-API connection from the pool: the check every request makes.

    It is one constant statement, so SQLAlchemy's statement compilation and
    result handling (about 0.2 ms, a sizeable share of a webhook delivery) buy
    nothing here. A database error is raised as SQLAlchemy's own DBAPIError.
    """
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(_REVISIONS_SQL)
            return {key: revision for key, revision in cursor.fetchall()}
        finally:
            cursor.close()
    except engine.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(_REVISIONS_SQL, None, exc, engine.dialect.loaded_dbapi.Error) from None
    finally:
        connection.close()


_REVISIONS_SQL = f"SELECT key, revision FROM {RuntimeSetting.__tablename__}"


def threshold_overrides(session: Session) -> dict[str, float]:
    """The thresholds an admin set (labels not set keep the model's own)."""
    value = read_setting(session, THRESHOLDS) or {}
    return {k: float(v) for k, v in value.items() if k in THRESHOLD_NAMES and v is not None}


def current_thresholds(session: Session, analyzer: Analyzer) -> dict[str, float]:
    """The thresholds in force: the active model's, with the admin's overrides on top."""
    return {**analyzer.manifest["thresholds"], **threshold_overrides(session)}


def partner_names(session: Session, configured: tuple[str, ...] | list[str]) -> list[str]:
    """The deployment's own partner names: the admin's list when set, else TRUSTDESK_PARTNERS."""
    value = read_setting(session, PARTNERS)
    return list(value["names"]) if value is not None else list(configured)


def _ticket_threshold(name: str, thresholds: dict[str, float]) -> float:
    return thresholds["ticket_escalation_risk"] if name == "escalation_risk" else thresholds[name]


def flags_for(analysis: dict, thresholds: dict[str, float]) -> dict:
    """A stored analysis with its ticket and message flags recomputed from its scores and `thresholds`.

    Spans and escalation kinds are kept for labels still flagged; a label newly
    flagged by a lower threshold has none until the ticket is analysed again.
    """
    out = dict(analysis)
    scores = analysis.get("scores") or {}
    out["flags"] = [n for n, v in scores.items() if v is not None and n in LABEL_INDEX and v >= _ticket_threshold(n, thresholds)]
    if "escalation_risk" not in out["flags"]:
        out["escalation_kinds"] = []
    messages = []
    for message in analysis.get("messages") or []:
        m = dict(message)
        m["flags"] = [n for n, v in (message.get("scores") or {}).items()
                      if v is not None and n in LABEL_INDEX and v >= thresholds[n]]
        m["spans"] = [s for s in message.get("spans") or [] if s.get("label") in m["flags"]]
        if "escalation_risk" not in m["flags"]:
            m["escalation_kinds"] = []
        messages.append(m)
    out["messages"] = messages
    return out


def risk_for(analysis: dict, thresholds: dict[str, float]) -> str:
    """high, medium or low, as guidance.summary.risk_level says it, with these thresholds."""
    flags = set(analysis["flags"]) | {f for m in analysis["messages"] for f in m["flags"]}
    risk = (analysis.get("scores") or {}).get("escalation_risk") or 0.0
    if "escalation_risk" in analysis["flags"]:
        return "high"
    return "medium" if flags or risk >= thresholds["ticket_escalation_risk"] / 2 else "low"


class Live:
    """One process's view of the runtime settings and active model; `refresh` brings it up to date."""

    def __init__(self, base: Analyzer, model_path: str | None, configured_partners: tuple[str, ...]):
        self.lock = threading.Lock()
        self.loaded: dict[str, Analyzer] = {base.version: base}
        self.paths: dict[str, str | None] = {base.version: model_path}
        self.version = base.version
        self.configured_partners = configured_partners
        self.revisions: dict[str, int] | None = None
        self.overrides: dict[str, float] = {}
        self.partners: list[str] = list(configured_partners)
        self.checked_model_at = 0.0
        self.playbooks_revision: int | None = None

    def refresh(self, services: Any, force: bool = False) -> None:
        """Follow changed settings and a newly activated model; a database hiccup keeps the current state."""
        try:
            model_due = force or time.monotonic() - self.checked_model_at >= MODEL_CHECK_SECONDS
            if not model_due:
                if current_revisions(services.engine) == self.revisions:  # the per-request check
                    return
            with services.sessions() as session:
                changed = self._settings(session) or force
                if model_due:
                    changed = self._model(session) or changed
        except SQLAlchemyError as exc:
            log.warning("could not check runtime settings (%s); keeping the current ones", type(exc).__name__)
            return
        if changed:
            self.apply(services)

    def _settings(self, session: Session) -> bool:
        seen = revisions(session)
        if seen == self.revisions:
            return False
        self.revisions = seen
        self.overrides = threshold_overrides(session)
        self.partners = partner_names(session, self.configured_partners)
        return True

    def _model(self, session: Session) -> bool:
        from .versions import active

        self.checked_model_at = time.monotonic()
        row = active(session)
        if row is None or row.version == self.version:
            return False
        if not self.lock.acquire(blocking=False):
            return False  # another thread is loading it; this request keeps the current model
        try:
            if row.version not in self.loaded:
                self.loaded[row.version] = Analyzer.load(row.path)
                while len(self.loaded) > LOADED_MODELS_KEPT:
                    self.loaded.pop(next(v for v in self.loaded if v != row.version))
            self.version = row.version
            log.info("model %s is now active in this worker", row.version)
        except Exception as exc:  # a broken artifact must not take the worker down: keep serving the old one
            log.error("could not load model %s from %s: %s", row.version, row.path, exc)
            return False
        finally:
            self.lock.release()
        return True

    def apply(self, services: Any) -> None:
        """Swap in the analyzer and guidance context for the current model, thresholds and partners.

        Attribute assignment is atomic: a request that already holds the old
        analyzer finishes with it, the next one gets the new one.
        """
        base = self.loaded[self.version]
        analyzer = copy.copy(base)
        analyzer.thresholds = {**base.manifest["thresholds"], **self.overrides}
        playbook_list = services.guidance.playbooks
        if (self.revisions or {}).get(PLAYBOOKS) != self.playbooks_revision:  # an admin saved or reverted one
            from .playbook_files import effective

            playbook_list = effective(services.settings.data_dir)
            self.playbooks_revision = (self.revisions or {}).get(PLAYBOOKS)
        services.guidance = dataclasses.replace(services.guidance, analyzer=analyzer, partners=with_common(self.partners),
                                                playbooks=playbook_list, fallbacks=[])
        services.analyzer = analyzer


def refresh(services: Any, force: bool = False) -> None:
    """Bring a process's analyzer and guidance up to date (requests call this; so should the job worker)."""
    live = getattr(services, "live", None)
    if live is not None:
        live.refresh(services, force)


def init_app(app: Any) -> None:
    """Refresh before each request that uses the model or the settings."""
    from flask import request

    from .services import services

    @app.before_request
    def _follow_runtime_settings() -> None:
        blueprint = request.blueprint or ""
        if blueprint in ("api", "webhooks") or blueprint.startswith("console"):
            refresh(services())
