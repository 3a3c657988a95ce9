"""The trust ledger: what each analysis did to a customer's trust, and the history it implies.

Every analysis adds events (deflected, blamed, escalation signal, owned reply,
resolved) to the customer's ledger. The trust score starts at 100 and each
event moves it by its weight, fading with a half-life, so an old deflection
matters less than yesterday's. The ledger also feeds classification: contacts
about other tickets and earlier deflections become the ticket's `history`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from .storage import Customer, LedgerEvent, Ticket, as_utc

WEIGHTS = {"deflected": -15.0, "blamed": -20.0, "escalation_signal": -10.0, "owned_reply": 8.0, "resolved": 12.0,
           "reopened": -10.0}
HALF_LIFE_DAYS = 45.0
HISTORY_WINDOW_DAYS = 60
RESOLVED_STATUSES = frozenset({"solved", "resolved", "closed"})
_NEW_EVENTS = insert(LedgerEvent.__table__)
UNSTORED = 0  # the id history_for is given for a row not inserted yet; ids start at 1


@dataclass(frozen=True)
class Before:
    """What was stored of a ticket before this analysis: so events count what changed, not what is repeated.

    Each delivery of a conversation carries its earlier messages again; a
    deflection already counted must not cost the customer's trust once more
    every time they write.
    """

    message_ids: frozenset[str]
    message_texts: frozenset[tuple[str, str]]  # (author role, body), for platforms that give messages no id
    status: str | None
    flags: frozenset[str]  # the ticket's flags in its latest analysis

    def knows(self, message: dict) -> bool:
        """Whether a delivered message was stored already (by its id, else by role and text)."""
        ident = message.get("id")
        return (bool(ident) and ident in self.message_ids) or \
            (message.get("author_role"), message.get("body") or "") in self.message_texts


def events_for(analysis: dict, ticket: dict, before: Before | None = None) -> list[str]:
    """The ledger events an analysis of a ticket implies (all of them the first time; else what is new).

    With `before`, a deflection or blame counts only when a new agent message
    carries it, an escalation signal when a new customer message brings a
    ticket not flagged for it before over the line, an owned reply when the
    last message is new, and resolution when the ticket was not resolved
    already.
    """
    flags = set(analysis["flags"])
    fresh = analysis["messages"] if before is None else \
        [m for m, raw in zip(analysis["messages"], ticket.get("messages") or []) if not before.knows(raw)]

    def newly(flag: str) -> bool:
        return flag in flags and (before is None or any(m["author_role"] == "agent" and flag in m["flags"] for m in fresh))

    events = []
    if newly("deflection"):
        events.append("deflected")
    if newly("blame"):
        events.append("blamed")
    if "escalation_risk" in flags and (before is None or ("escalation_risk" not in before.flags
                                                          and any(m["author_role"] == "customer" for m in fresh))):
        events.append("escalation_signal")
    last = analysis["messages"][-1]
    if last["author_role"] == "agent" and not last["abstained"] and not last["flags"] and flags - {"escalation_risk"} == set() \
            and (before is None or (fresh and fresh[-1] is last)):
        events.append("owned_reply")
    if (ticket.get("status") or "").lower() in RESOLVED_STATUSES and \
            (before is None or (before.status or "").lower() not in RESOLVED_STATUSES):
        events.append("resolved")
    return events


def record(session: Session, customer_id: int | None, ticket_id: int, events: list[str]) -> None:
    """Add the events to the customer's ledger (nothing for an unknown customer)."""
    if customer_id is None or not events:
        return
    session.connection().execute(_NEW_EVENTS, [
        {"customer_id": customer_id, "ticket_id": ticket_id, "kind": kind, "weight": WEIGHTS[kind]} for kind in events])


def trust_score(events: list[LedgerEvent], now: datetime | None = None) -> float:
    """100 moved by each event's weight, halved every HALF_LIFE_DAYS; kept within 0-100."""
    now = now or datetime.now(timezone.utc)
    total = 100.0
    for event in events:
        age = max((now - as_utc(event.created_at)).total_seconds() / 86400, 0.0)
        total += event.weight * 0.5 ** (age / HALF_LIFE_DAYS)
    return round(min(max(total, 0.0), 100.0), 1)


def history_for(session: Session, customer_id: int | None, ticket_id: int | None, now: datetime | None = None) -> dict:
    """History signals from the ledger: other recent tickets of the customer and earlier deflections.

    A customer or ticket about to be stored is asked about as UNSTORED: no row has that id.
    """
    if customer_id is None:
        return {}
    if customer_id == UNSTORED:  # a customer seen for the first time has no other tickets and no ledger yet
        none = {"prior_contacts": 0, "prior_deflections": 0}
        return none if ticket_id is None else {**none, "reopened": 0}
    since = (now or datetime.now(timezone.utc)) - timedelta(days=HISTORY_WINDOW_DAYS)
    others = select(func.count()).select_from(Ticket).where(Ticket.customer_id == customer_id, Ticket.stored_at >= since)
    deflections = select(func.count()).select_from(LedgerEvent).where(
        LedgerEvent.customer_id == customer_id, LedgerEvent.kind == "deflected", LedgerEvent.created_at >= since)
    if ticket_id is None:
        contacts, deflected = session.execute(select(others.scalar_subquery(), deflections.scalar_subquery())).one()
        return {"prior_contacts": contacts or 0, "prior_deflections": deflected or 0}
    others = others.where(Ticket.id != ticket_id)
    deflections = deflections.where(LedgerEvent.ticket_id != ticket_id)
    reopenings = select(func.count()).select_from(LedgerEvent).where(LedgerEvent.ticket_id == ticket_id,
                                                                     LedgerEvent.kind == "reopened")
    if ticket_id == UNSTORED:  # none by definition, and ledger_events.ticket_id has no index to ask it cheaply
        contacts, deflected = session.execute(select(others.scalar_subquery(), deflections.scalar_subquery())).one()
        return {"prior_contacts": contacts or 0, "prior_deflections": deflected or 0, "reopened": 0}
    contacts, deflected, reopen = session.execute(
        select(others.scalar_subquery(), deflections.scalar_subquery(), reopenings.scalar_subquery())).one()
    return {"prior_contacts": contacts or 0, "prior_deflections": deflected or 0, "reopened": reopen or 0}


def reopened(before: str | None, now: str | None) -> bool:
    """Whether a ticket that was resolved has come back open (the issue was not solved)."""
    return bool(before and now) and before.lower() in RESOLVED_STATUSES and now.lower() not in RESOLVED_STATUSES


def average_value(extra: Mapping[str, str]) -> float:
    """TRUSTDESK_AVERAGE_CUSTOMER_VALUE: the value of a customer whose requester has none (0 when unset or not a number)."""
    try:
        return float(extra.get("TRUSTDESK_AVERAGE_CUSTOMER_VALUE", "0") or 0)
    except ValueError:
        return 0.0


def merged_history(own: dict | None, ledger: dict) -> dict:
    """The ticket's own history with the ledger's, taking the larger of each signal."""
    own = own or {}
    keys = {"prior_contacts", "reopened", "days_open", "prior_deflections"}
    return {k: max(own.get(k, 0) or 0, ledger.get(k, 0) or 0) for k in keys}


@dataclass(frozen=True)
class AtRisk:
    """A customer with their trust score and what is at stake."""

    customer_id: int
    name: str | None
    organization: str | None
    trust: float
    value_at_risk: float


@dataclass(frozen=True)
class OrganizationAtRisk:
    """An organisation: the ledger of all its customers together, and the value of all of them."""

    organization: str
    customers: int
    trust: float
    value_at_risk: float


def _ledgers(session: Session) -> dict[int, list[LedgerEvent]]:
    """Every customer's ledger events, in one query."""
    by_customer: dict[int, list[LedgerEvent]] = {}
    for event in session.scalars(select(LedgerEvent)):
        by_customer.setdefault(event.customer_id, []).append(event)
    return by_customer


def at_risk(session: Session, default_value: float = 0.0, sort: str = "risk", limit: int = 50) -> list[AtRisk]:
    """Customers whose trust has moved, worst first (or by value at risk)."""
    ledgers = _ledgers(session)
    rows = []
    for customer in session.scalars(select(Customer).where(Customer.id.in_(list(ledgers)))).all():
        trust = trust_score(ledgers[customer.id])
        value = customer.value if customer.value is not None else default_value
        rows.append(AtRisk(customer.id, customer.name, customer.organization, trust, round(value * (100 - trust) / 100, 2)))
    key = (lambda r: -r.value_at_risk) if sort == "value" else (lambda r: r.trust)
    return sorted(rows, key=key)[:limit]


def organizations_at_risk(session: Session, default_value: float = 0.0, sort: str = "risk",
                          limit: int = 50) -> list[OrganizationAtRisk]:
    """Organisations whose customers' trust has moved, worst first (or by value at risk).

    An organisation's trust is its customers' ledgers taken as one (three people
    of one account each deflected once is one account deflected three times);
    its value is the sum of its customers' values.
    """
    ledgers = _ledgers(session)
    groups: dict[str, tuple[list[LedgerEvent], float, int]] = {}
    for customer in session.scalars(select(Customer).where(Customer.id.in_(list(ledgers)),
                                                           Customer.organization.is_not(None))).all():
        events, value, count = groups.get(customer.organization, ([], 0.0, 0))
        own = customer.value if customer.value is not None else default_value
        groups[customer.organization] = (events + ledgers[customer.id], value + own, count + 1)
    rows = []
    for name, (events, value, count) in groups.items():
        trust = trust_score(events)
        rows.append(OrganizationAtRisk(name, count, trust, round(value * (100 - trust) / 100, 2)))
    key = (lambda r: -r.value_at_risk) if sort == "value" else (lambda r: r.trust)
    return sorted(rows, key=key)[:limit]
