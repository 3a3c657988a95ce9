"""Check a draft reply against a stored ticket while the agent types: fast, because the ticket is scored once.

The stored conversation is scored the first time a draft is checked against
it and kept in a small per-process cache keyed by the ticket's latest analysis
(a new delivery makes a new analysis, so the cache never serves an old
conversation). Each check then scores only the draft and the ticket model's
few features. Rewrites, the slow part, are made only for a flagged draft and
remembered for drafts checked again unchanged.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Hashable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guidance.engine import Context, rewrite_last
from models.predict import Analyzer, TicketContext

from .ledger import history_for, merged_history
from .storage import Analysis, Message, Ticket, as_utc

CONTEXTS_KEPT = 256
REWRITES_KEPT = 256


class _Lru:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_contexts = _Lru(CONTEXTS_KEPT)
_rewrites = _Lru(REWRITES_KEPT)


@dataclass(frozen=True)
class StoredTicket:
    """What a check needs to know about a stored ticket."""

    id: int
    external_id: str
    customer_id: int | None


def find_ticket(session: Session, source: str, ticket_id: str) -> tuple[StoredTicket, int | None] | None:
    """The stored ticket and the id of its latest analysis (None when never analysed), or None.

    One plain query, no ORM objects: a live check runs it on every keystroke pause.
    """
    row = session.execute(
        select(Ticket.id, Ticket.external_id, Ticket.customer_id, func.max(Analysis.id))
        .outerjoin(Analysis, Analysis.ticket_id == Ticket.id)
        .where(Ticket.source == source, Ticket.external_id == ticket_id)
        .group_by(Ticket.id, Ticket.external_id, Ticket.customer_id)).first()
    return None if row is None else (StoredTicket(row[0], row[1], row[2]), row[3])


def _conversation(session: Session, ticket: StoredTicket) -> dict:
    """The stored ticket as the analyzer reads it (purged messages left out), with its ledger history."""
    rows = session.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.position)).all()
    messages = [{"author_role": m.author_role, "body": m.body,
                 "created_at": as_utc(m.created_at) if m.created_at else None} for m in rows if m.body]
    history = merged_history(None, history_for(session, ticket.customer_id, ticket.id))
    return {"id": ticket.external_id, "messages": messages, "history": history}


def context_for(session: Session, analyzer: Analyzer, ticket: StoredTicket, analysis_id: int | None) -> TicketContext:
    """The scored conversation, from the cache when the ticket has not changed since."""
    key = (ticket.id, analysis_id, analyzer.version)
    found = _contexts.get(key)
    if found is None:
        found = analyzer.context(_conversation(session, ticket))
        _contexts.put(key, found)
    return found


def check(analyzer: Analyzer, guidance: Context, context: TicketContext, draft: str, with_rewrite: bool) -> dict:
    """The draft's scores and flags as the next agent message, the ticket's with it, and a rewrite if flagged."""
    result = analyzer.analyze_next(context, {"author_role": "agent", "body": draft,
                                             "created_at": datetime.now(timezone.utc)})
    message = result["message"]
    flagged = [f for f in message["flags"] if f in ("blame", "deflection")]
    return {
        "model_version": analyzer.version,
        "draft": {k: message[k] for k in ("language", "abstained", "scores", "flags", "spans")},
        "scores": result["scores"], "flags": result["flags"],
        "rewrite": rewrite(analyzer, guidance, draft) if flagged and with_rewrite else None,
        "thresholds": dict(analyzer.thresholds),
    }


def rewrite(analyzer: Analyzer, guidance: Context, draft: str) -> dict | None:
    """A verified rewrite of a flagged draft, or None when no rewrite passes the checks."""
    key = (analyzer.version, tuple(sorted(analyzer.thresholds.items())), tuple(guidance.partners), draft)
    found = _rewrites.get(key)
    if found is None:
        # No language model here: a live check cannot wait on a network call.
        ctx = Context(analyzer, guidance.playbooks, guidance.partners, None)
        made = rewrite_last({"id": "draft", "messages": [{"author_role": "agent", "body": draft}]}, ctx)
        found = (made if made and made.pop("verified") and made["changes"] else {},)
        _rewrites.put(key, found)
    return found[0] or None
