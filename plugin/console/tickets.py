"""The ticket page's facts and actions: conversation with flagged spans marked, guidance and its use, lead actions.

Confirm flag and mark wrong are stored as Feedback (flag_confirmed, flag_wrong)
with the label and message index, the rows training data is built from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import runtime
from ..storage import Analysis, CoachingNote, Customer, Feedback, GuidanceGiven, Message, Ticket, TicketReview, utcnow
from .review import LABELS, flagged_labels, strongest_span

FLAG_KINDS = ("flag_confirmed", "flag_wrong")
SUGGESTION_KINDS = ("suggestion_used", "suggestion_edited", "suggestion_dismissed")
MAX_NOTE = 4000


class ActionError(ValueError):
    """A lead action with a bad value (the page answers 400 naming it)."""


def find(session: Session, source: str, external_id: str) -> Ticket | None:
    """A stored ticket by its integration and the helpdesk's id."""
    return session.scalars(select(Ticket).where(Ticket.source == source, Ticket.external_id == external_id)).one_or_none()


def segments(body: str, spans: list[dict]) -> list[tuple[str, str | None]]:
    """A message body cut into (text, label or None) pieces, so flagged spans can be highlighted.

    Offsets come from the analysis; a span whose offsets do not match the stored
    text (the text changed since) is found by its text, or left unmarked.
    """
    marks = []
    for span in spans:
        start, end, text = span.get("start"), span.get("end"), span.get("text") or ""
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(body)
                and (not text or body[start:end] == text)):
            start = body.find(text) if text else -1
            if start < 0:
                continue
            end = start + len(text)
        marks.append((start, end, span.get("label")))
    pieces, cursor = [], 0
    for start, end, label in sorted(marks):
        if start < cursor:  # overlapping spans: the first one wins
            continue
        if start > cursor:
            pieces.append((body[cursor:start], None))
        pieces.append((body[start:end], label))
        cursor = end
    if cursor < len(body):
        pieces.append((body[cursor:], None))
    return pieces


@dataclass
class TicketPage:
    """Everything the ticket page shows."""

    ticket: Ticket
    customer: Customer | None
    analysis: dict[str, Any] | None
    analyzed_at: Any
    model_version: str | None
    risk: str | None
    labels: list[str]
    why: dict[str, Any] | None
    messages: list[dict[str, Any]]
    guidance: dict[str, Any]
    suggestion_feedback: list[Feedback]
    flag_feedback: list[Feedback]
    notes: list[CoachingNote]
    review: TicketReview | None


def page(session: Session, ticket: Ticket, thresholds: dict[str, float]) -> TicketPage:
    """The ticket page's content, flags recomputed with the thresholds in force."""
    stored = session.scalars(select(Analysis).where(Analysis.ticket_id == ticket.id)
                             .order_by(Analysis.id.desc()).limit(1)).one_or_none()
    analysis = runtime.flags_for(stored.result, thresholds) if stored else None
    by_index = {m["index"]: m for m in analysis["messages"]} if analysis else {}
    messages = []
    for m in session.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.position)):
        result = by_index.get(m.position) or {}
        messages.append({"index": m.position, "role": m.author_role, "author": m.author_name, "at": m.created_at,
                         "public": m.public, "purged": m.body is None, "flags": result.get("flags") or [],
                         "scores": result.get("scores") or {},
                         "segments": segments(m.body or "", result.get("spans") or [])})
    given = session.scalars(select(GuidanceGiven).where(GuidanceGiven.analysis_id == stored.id)).first() if stored else None
    advice = dict(given.payload) if given else {}
    feedback = session.scalars(select(Feedback).where(Feedback.ticket_id == ticket.id).order_by(Feedback.id)).all()
    return TicketPage(
        ticket, session.get(Customer, ticket.customer_id) if ticket.customer_id else None, analysis,
        stored.created_at if stored else None, stored.model_version if stored else None,
        runtime.risk_for(analysis, thresholds) if analysis else None, flagged_labels(analysis) if analysis else [],
        strongest_span(analysis) if analysis else None, messages, advice,
        [f for f in feedback if f.kind in SUGGESTION_KINDS], [f for f in feedback if f.kind in FLAG_KINDS],
        session.scalars(select(CoachingNote).where(CoachingNote.ticket_id == ticket.id).order_by(CoachingNote.id)).all(),
        session.get(TicketReview, ticket.id))


def judge_flag(session: Session, ticket: Ticket, kind: str, label: str, message_index: str | int | None,
               actor: str) -> Feedback:
    """Store a lead's verdict on a flag (flag_confirmed or flag_wrong) for one label and message."""
    if kind not in FLAG_KINDS:
        raise ActionError(f"verdict: must be one of {', '.join(FLAG_KINDS)}")
    if label not in LABELS:
        raise ActionError(f"label: must be one of {', '.join(LABELS)}")
    index = None
    if message_index not in (None, ""):
        try:
            index = int(message_index)
        except (TypeError, ValueError):
            raise ActionError("message_index: must be a whole number") from None
        if session.scalar(select(Message.id).where(Message.ticket_id == ticket.id, Message.position == index)) is None:
            raise ActionError(f"message_index: the ticket has no message {index}")
    row = Feedback(ticket_id=ticket.id, kind=kind, value={"label": label, "message_index": index, "text": None},
                   actor=actor)
    session.add(row)
    session.flush()
    return row


def add_note(session: Session, ticket: Ticket, text: str, author: str) -> CoachingNote:
    """A coaching note on the ticket (1 to MAX_NOTE characters)."""
    text = (text or "").strip()
    if not text:
        raise ActionError("note: write something first")
    if len(text) > MAX_NOTE:
        raise ActionError(f"note: at most {MAX_NOTE} characters")
    row = CoachingNote(ticket_id=ticket.id, author=author, text=text)
    session.add(row)
    session.flush()
    return row


def set_handled(session: Session, ticket: Ticket, handled: bool, actor: str) -> None:
    """Mark the ticket handled (it leaves the open queue) or open again."""
    row = session.get(TicketReview, ticket.id)
    if handled and row is None:
        session.add(TicketReview(ticket_id=ticket.id, status="handled", handled_by=actor, handled_at=utcnow()))
    elif not handled and row is not None:
        session.delete(row)
    session.flush()
