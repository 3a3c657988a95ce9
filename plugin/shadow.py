"""Shadow mode: run a candidate model beside the active one on new analyses, and compare their flags.

The candidate is a runtime setting (`shadow`: {"version"}), so every worker and
the job consumer follow it. Its analyses are never shown to agents: only the
flags of both models are kept (`shadow_results`), one row per analysis, for the
admin page's agreement figures. The candidate uses its own thresholds (the
admin's overrides were tuned for the active model).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.predict import Analyzer
from models.ticket import TicketError, load_ticket

from .ledger import history_for, merged_history
from .runtime import read_setting, write_setting
from .storage import Analysis, Message, ModelVersion, ShadowResult, Ticket
from .versions import VersionError, active, check_loadable

log = logging.getLogger("trustdesk.shadow")
SHADOW = "shadow"
LABELS = ("blame", "deflection", "escalation_risk")
_loaded: dict[str, Analyzer] = {}
_lock = threading.Lock()


def candidate(session: Session) -> str | None:
    """The version running in shadow, or None."""
    return (read_setting(session, SHADOW) or {}).get("version")


def set_candidate(session: Session, version: str | None, actor: str) -> None:
    """Start shadowing a version (None stops it); the active version cannot shadow itself (audited)."""
    if version is not None:
        row = session.scalars(select(ModelVersion).where(ModelVersion.version == version)).one_or_none()
        if row is None:
            raise VersionError(f"no model version {version!r}", 404)
        current = active(session)
        if current is not None and current.version == version:
            raise VersionError(f"{version} is the active model: pick another one to compare with it")
        check_loadable(row.path)
    write_setting(session, SHADOW, {"version": version}, actor)


def flagged(analysis: dict[str, Any]) -> list[str]:
    """The labels an analysis flags anywhere: on the ticket or on any of its messages."""
    found = set(analysis.get("flags") or []) | {f for m in analysis.get("messages") or [] for f in m.get("flags") or []}
    return [label for label in LABELS if label in found]


def _analyzer(session: Session, version: str) -> Analyzer | None:
    """The candidate's analyzer, loaded once per process."""
    with _lock:
        if version not in _loaded:
            path = session.scalar(select(ModelVersion.path).where(ModelVersion.version == version))
            if path is None:
                return None
            _loaded.clear()  # one candidate at a time is enough
            _loaded[version] = Analyzer.load(path)
        return _loaded[version]


def _stored_ticket(session: Session, ticket: Ticket) -> dict[str, Any] | None:
    """The ticket as stored, in the normalized shape, with its ledger history (None when its text was purged)."""
    messages = session.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.position)).all()
    if not messages or any(m.body is None for m in messages):
        return None
    try:
        return load_ticket({"id": ticket.external_id, "subject": ticket.subject,
                            "history": merged_history(None, history_for(session, ticket.customer_id, ticket.id)),
                            "messages": [{"author_role": m.author_role, "body": m.body} for m in messages]})
    except TicketError:
        return None


def compare(session: Session, analysis: Analysis, version: str) -> ShadowResult | None:
    """Score an analysed ticket with the candidate and store both models' flags (once per analysis)."""
    if session.scalar(select(ShadowResult.id).where(ShadowResult.analysis_id == analysis.id)) is not None:
        return None
    ticket = session.get(Ticket, analysis.ticket_id)
    normalized = _stored_ticket(session, ticket)
    analyzer = _analyzer(session, version)
    if normalized is None or analyzer is None:
        return None
    theirs, ours = flagged(analyzer.analyze(normalized)), flagged(analysis.result)
    row = ShadowResult(ticket_id=ticket.id, analysis_id=analysis.id, active_version=analysis.model_version,
                       candidate_version=version, active_flags=ours, candidate_flags=theirs, agree=ours == theirs)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another worker compared it first
        return None
    return row


def compare_latest(services: Any, ticket_id: int) -> None:
    """Compare a ticket's latest analysis, when a candidate is in shadow (the after-analysis job calls this)."""
    with services.sessions.begin() as session:
        version = candidate(session)
        if version is None:
            return
        latest = session.scalars(select(Analysis).where(Analysis.ticket_id == ticket_id)
                                 .order_by(Analysis.id.desc()).limit(1)).first()
        if latest is not None and latest.model_version != version:
            compare(session, latest, version)


def compare_recent(services: Any, limit: int = 100) -> int:
    """Compare the latest analyses of the most recent tickets now, so the page has figures at once; how many."""
    done = 0
    with services.sessions.begin() as session:
        version = candidate(session)
        if version is None:
            return 0
        newest = select(func.max(Analysis.id)).group_by(Analysis.ticket_id).order_by(func.max(Analysis.id).desc()).limit(limit)
        for analysis in session.scalars(select(Analysis).where(Analysis.id.in_(newest.scalar_subquery()))):
            if analysis.model_version != version and compare(session, analysis, version) is not None:
                done += 1
    return done


def report(session: Session, version: str | None) -> dict[str, Any]:
    """Agreement between the active model and a candidate: overall, and per label who flags what."""
    if version is None:
        return {"version": None, "n": 0}
    rows = session.scalars(select(ShadowResult).where(ShadowResult.candidate_version == version)
                           .order_by(ShadowResult.id.desc())).all()
    labels = {}
    for label in LABELS:
        both = sum(label in r.active_flags and label in r.candidate_flags for r in rows)
        only_active = sum(label in r.active_flags and label not in r.candidate_flags for r in rows)
        only_candidate = sum(label in r.candidate_flags and label not in r.active_flags for r in rows)
        labels[label] = {"both": both, "only_active": only_active, "only_candidate": only_candidate}
    agree = sum(r.agree for r in rows)
    return {"version": version, "n": len(rows), "agree": agree, "agreement": round(agree / len(rows), 3) if rows else None,
            "labels": labels,
            "disagreements": [{"ticket_id": r.ticket_id, "active": r.active_flags, "candidate": r.candidate_flags}
                              for r in rows if not r.agree][:20]}
