"""One webhook delivery, start to finish: verify, parse, deduplicate, store, classify, guide, answer.

Deduplication is by (integration, event id): a redelivery with the same body is
answered with the stored result and processed no further; the same id with a
different body is a conflict. The event row is written in the same transaction
as the analysis, so two workers racing on one event cannot both record it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guidance.engine import guide
from integrations.base import (Adapter, BadPayload, Delivery, Event, Handshake, NotConfigured, NotJson, Unauthorized,
                               UnsupportedEvent)

from . import ticket_rows as rows
from .ledger import UNSTORED, Before, events_for, history_for, merged_history, record, reopened
from .metrics import record_flags
from .services import Services
from .storage import Analysis, GuidanceGiven, WebhookEvent, WriteBack, as_utc

# Written once per delivery, read back by nothing in its transaction: Core INSERTs, without the ORM's unit of work.
ANALYSES, GUIDANCE, EVENTS, WRITE_BACKS = (Analysis.__table__, GuidanceGiven.__table__, WebhookEvent.__table__,
                                           WriteBack.__table__)
# Built once: a statement object carries its compiled form's cache key, computed on first use.
_SEEN = select(EVENTS.c.body_sha256, EVENTS.c.response).where(EVENTS.c.source == bindparam("source"),
                                                              EVENTS.c.event_id == bindparam("event_id"))
_LATEST_ANALYSIS = select(ANALYSES.c.result).where(ANALYSES.c.ticket_id == bindparam("ticket_id")) \
    .order_by(ANALYSES.c.id.desc()).limit(1)
_NEW_ANALYSIS = insert(ANALYSES).returning(ANALYSES.c.id)
_NEW_GUIDANCE, _NEW_EVENT, _NEW_WRITE_BACK = insert(GUIDANCE), insert(EVENTS), insert(WRITE_BACKS)

log = logging.getLogger("trustdesk.webhooks")


@dataclass(frozen=True)
class Outcome:
    """The HTTP answer to a delivery."""

    status: int
    body: dict[str, Any]
    raw: Handshake | None = None  # a set-up challenge answered as the platform asks, not as JSON


def handle(services: Services, adapter: Adapter, delivery: Delivery) -> Outcome:
    """Process one delivery; every failure becomes a 4xx naming the problem."""
    try:
        adapter.verify(delivery)
    except NotConfigured as exc:
        return Outcome(401, {"error": "integration not configured", "detail": str(exc)})
    except Unauthorized as exc:
        return Outcome(401, {"error": "unauthorized", "detail": str(exc)})
    challenge = adapter.handshake(delivery)
    if challenge is not None:
        return Outcome(200, {}, challenge)
    try:
        event = adapter.parse(delivery)
    except NotJson as exc:
        return Outcome(400, {"error": "invalid JSON", "detail": str(exc)})
    except BadPayload as exc:
        return Outcome(422, {"error": "invalid payload", "detail": str(exc), "fields": exc.fields})
    except UnsupportedEvent as exc:
        _log_ignored(adapter.name, str(exc))
        return Outcome(202, {"status": "ignored", "detail": str(exc)})
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, RecursionError):
        # A payload shape the adapter's schemas let through but its code did not expect:
        # the sender cannot fix our bug, but it must not see a 500 or retry forever.
        log.exception("the %s adapter could not read a delivery", adapter.name)
        return Outcome(422, {"error": "invalid payload", "detail": f"the {adapter.name} payload has a shape we cannot read"})
    return _process(services, adapter, event, hashlib.sha256(delivery.body).hexdigest())


def _process(services: Services, adapter: Adapter, event: Event, body_sha: str) -> Outcome:
    source = adapter.name
    for attempt in range(2):
        with services.sessions() as session:
            seen = _seen(session, source, event.event_id, body_sha)
            if seen is not None:
                return seen
            delivered = event.ticket if event.complete else merge_with_store(session, source, event.ticket)
            try:
                ticket_id, analysis, advice = analyse(session, services, source, delivered)
                body = {"event_id": event.event_id, "ticket_id": event.ticket["id"], "analysis": analysis,
                        "guidance": advice}
                connection = session.connection()
                connection.execute(_NEW_EVENT, {"source": source, "event_id": event.event_id, "body_sha256": body_sha,
                                                "ticket_id": ticket_id, "response": body})
                writes_back = adapter.can_write_back
                if writes_back:  # recorded with the event, so an accepted event is never left without its write-back
                    connection.execute(_NEW_WRITE_BACK, {"source": source, "event_id": event.event_id,
                                                         "refresh": not event.complete})
                session.commit()
            except IntegrityError:
                # Another worker recorded this event first (answer as it did), or stored the same new
                # ticket or customer while this one was classifying it (do it again on what is stored now).
                session.rollback()
                seen = _seen(session, source, event.event_id, body_sha)
                if seen is not None:
                    return seen
                if attempt:
                    return Outcome(409, {"error": "conflict"})
                continue
        break
    record_flags(analysis)
    if writes_back and services.write_back_task is not None:
        services.write_back_task(source, event.event_id)
    # Console (issue 6): queue the follow-ups of the stored analysis: lead alerts and the shadow model.
    from .alerts import after_analysis

    after_analysis(services, ticket_id)
    return Outcome(200, body)


def analyse(session: Session, services: Services, source: str, delivered: dict) -> tuple[int, dict, dict]:
    """Classify the ticket with its ledger history, then store it with the analysis, guidance and ledger events.

    Answers (the stored ticket's id, the analysis, the guidance). Everything is
    read and computed before the first write: on SQLite the first write takes
    the database's one write lock until commit, so classifying after it would
    make every other worker wait for this one's model and guidance.
    """
    stored = rows.find_ticket(session, source, delivered["id"])
    customer = rows.find_customer(session, source, delivered.get("requester"))
    comes_back = reopened(stored.status if stored is not None else None, delivered.get("status"))
    # The ledger knows what this ticket does not: other contacts, earlier deflections, reopenings.
    customer_id = customer.id if customer is not None else UNSTORED if _requester_id(delivered) else None
    ledger = history_for(session, customer_id, stored.id if stored is not None else UNSTORED)
    if comes_back and ledger:
        ledger["reopened"] += 1  # the reopening recorded below
    history = merged_history(delivered.get("history"), ledger)
    scored = {**delivered, "history": history}
    analysis = services.analyzer.analyze(scored)
    advice = guide(scored, analysis, services.guidance)
    kept = [] if stored is None else rows.stored_messages(session, stored.id)
    before = _before(session, stored, kept)
    ticket_id, customer_id = rows.store_ticket(session, source, delivered, stored, customer, kept)
    record(session, customer_id, ticket_id, (["reopened"] if comes_back else []) + events_for(analysis, delivered, before))
    connection = session.connection()
    analysis_id = connection.execute(_NEW_ANALYSIS, {"ticket_id": ticket_id, "model_version": services.analyzer.version,
                                                     "result": analysis}).scalar_one()
    connection.execute(_NEW_GUIDANCE, {"ticket_id": ticket_id, "analysis_id": analysis_id, "payload": advice})
    return ticket_id, analysis, advice


def _before(session: Session, stored: Row | None, messages: list[Row]) -> Before | None:
    """What was stored of the ticket (and its messages) before this delivery; None for a ticket seen for the first time."""
    if stored is None:
        return None
    latest = session.connection().scalar(_LATEST_ANALYSIS, {"ticket_id": stored.id}) or {}
    return Before(frozenset(m.external_id for m in messages if m.external_id),
                  frozenset((m.author_role, m.body or "") for m in messages), stored.status,
                  frozenset(latest.get("flags") or ()))


def merge_with_store(session: Session, source: str, partial: dict) -> dict:
    """A partial delivery (one new message) completed with the conversation stored so far.

    Stored messages come first, then delivered ones not seen before (matched by
    their id, or by role and text where the platform gives none). The job that
    fetches the whole conversation replaces this guess later.
    """
    row = rows.find_ticket(session, source, partial["id"])
    if row is None:
        return partial
    stored = rows.stored_messages(session, row.id)
    messages = [{"id": m.external_id, "author_role": m.author_role, "author": {"name": m.author_name},
                 "body": m.body or "", "public": m.public,
                 "created_at": as_utc(m.created_at) if m.created_at else None} for m in stored]
    seen = {m["id"] for m in messages if m["id"]} | {(m["author_role"], m["body"]) for m in messages}
    fresh = [m for m in partial["messages"] if m.get("id") not in seen and (m["author_role"], m["body"]) not in seen]
    return {**partial, "messages": messages + fresh}


_IGNORED_SEEN: set[tuple[str, str]] = set()


def _log_ignored(source: str, reason: str) -> None:
    """Log an ignored kind of delivery once per process (platforms send the same kind all day)."""
    key = (source, reason[:120])
    if key in _IGNORED_SEEN:
        log.debug("ignored a %s delivery: %s", source, reason)
        return
    if len(_IGNORED_SEEN) < 1000:
        _IGNORED_SEEN.add(key)
    log.info("ignored a %s delivery (logged once): %s", source, reason)


def _seen(session: Session, source: str, event_id: str, body_sha: str) -> Outcome | None:
    """The stored answer for an event already processed, a conflict, or None for a new event."""
    row = session.connection().execute(_SEEN, {"source": source, "event_id": event_id}).first()
    if row is None:
        return None
    if row.body_sha256 != body_sha:
        return Outcome(409, {"error": "conflict", "detail": f"event {event_id!r} was already received with a different body"})
    return Outcome(200, row.response or {})


def _requester_id(ticket: dict) -> str | None:
    return (ticket.get("requester") or {}).get("id") or None
