"""Personal data over time: retention purges old message text; one customer's data is exported or erased.

Retention clears message bodies (and the stored webhook answers, which quote
them) older than TRUSTDESK_RETENTION_DAYS, keeping scores and ledger events,
which hold no text. Export returns everything stored about one customer; erase
removes it and records who did it in the audit log.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from .storage import (Analysis, AuditEntry, Customer, GuidanceGiven, LedgerEvent, Message, Ticket, WebhookEvent,
                      utcnow)


def purge_old_text(session: Session, days: int, now: datetime | None = None) -> int:
    """Clear message text older than `days`; returns how many messages were purged."""
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    old_tickets = select(Ticket.id).where(Ticket.stored_at < cutoff)
    result = session.execute(
        update(Message)
        .where(Message.body.is_not(None),
               or_(Message.created_at < cutoff, Message.created_at.is_(None) & Message.ticket_id.in_(old_tickets)))
        .values(body=None, purged_at=utcnow()))
    session.execute(update(WebhookEvent).where(WebhookEvent.received_at < cutoff, WebhookEvent.response.is_not(None))
                    .values(response=None))
    return result.rowcount or 0


def _customer(session: Session, external_id: str, source: str) -> Customer | None:
    return session.scalars(select(Customer).where(Customer.source == source, Customer.external_id == external_id)).one_or_none()


def export(session: Session, external_id: str, source: str = "generic") -> dict[str, Any] | None:
    """Everything stored about one customer, as JSON-ready data (None if unknown)."""
    customer = _customer(session, external_id, source)
    if customer is None:
        return None
    tickets = session.scalars(select(Ticket).where(Ticket.customer_id == customer.id)).all()
    return {
        "customer": {"id": customer.external_id, "source": customer.source, "name": customer.name,
                     "email": customer.email, "organization": customer.organization, "value": customer.value},
        "tickets": [{
            "id": t.external_id, "subject": t.subject, "status": t.status,
            "messages": [{"author_role": m.author_role, "author_name": m.author_name, "body": m.body,
                          "created_at": m.created_at.isoformat() if m.created_at else None} for m in t.messages],
            "analyses": [a.result for a in session.scalars(select(Analysis).where(Analysis.ticket_id == t.id))],
        } for t in tickets],
        "ledger": [{"kind": e.kind, "weight": e.weight, "at": e.created_at.isoformat()}
                   for e in session.scalars(select(LedgerEvent).where(LedgerEvent.customer_id == customer.id))],
    }


def erase(session: Session, external_id: str, source: str = "generic", actor: str = "cli") -> bool:
    """Remove one customer and everything about them; False if unknown."""
    customer = _customer(session, external_id, source)
    if customer is None:
        return False
    ticket_ids = select(Ticket.id).where(Ticket.customer_id == customer.id)
    session.execute(update(WebhookEvent).where(WebhookEvent.ticket_id.in_(ticket_ids)).values(response=None))
    for model in (GuidanceGiven, Analysis, Message):
        session.execute(delete(model).where(model.ticket_id.in_(ticket_ids)))
    session.execute(delete(LedgerEvent).where(LedgerEvent.customer_id == customer.id))
    session.execute(delete(Ticket).where(Ticket.customer_id == customer.id))
    session.execute(delete(Customer).where(Customer.id == customer.id))
    session.add(AuditEntry(actor=actor, action="customer.erase", detail={"source": source, "customer": external_id}))
    return True
