"""Customers and organisations at risk, with the ledger events that moved each, for the customers page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..storage import Customer, LedgerEvent, Ticket, as_utc

ORDERS = ("worst", "best")
SORTS = ("risk", "value")
EVENTS_SHOWN = 8
EVENT_NAMES = {"deflected": "Deflected to a third party", "blamed": "Blamed", "escalation_signal": "Escalation signal",
               "owned_reply": "Owned reply", "resolved": "Resolved", "reopened": "Reopened"}


def _events(session: Session, customer_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The latest ledger events of each customer, newest first, with the ticket they came from."""
    out: dict[int, list[dict[str, Any]]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return out
    query = (select(LedgerEvent, Ticket.source, Ticket.external_id)
             .outerjoin(Ticket, Ticket.id == LedgerEvent.ticket_id)
             .where(LedgerEvent.customer_id.in_(customer_ids)).order_by(LedgerEvent.created_at.desc()))
    for event, source, external_id in session.execute(query):
        shown = out[event.customer_id]
        if len(shown) < EVENTS_SHOWN:
            shown.append({"kind": event.kind, "name": EVENT_NAMES.get(event.kind, event.kind), "weight": event.weight,
                          "at": as_utc(event.created_at), "source": source, "ticket": external_id})
    return out


def listing(session: Session, default_value: float, sort: str = "risk", order: str = "worst",
            limit: int = 100) -> dict[str, list[dict[str, Any]]]:
    """Customers and organisations by trust or value at risk, worst first or best first, with their events."""
    if sort not in SORTS or order not in ORDERS:
        raise ValueError(f"sort must be one of {SORTS} and order one of {ORDERS}")
    people = ledger.at_risk(session, default_value, sort, limit=1_000_000)
    orgs = ledger.organizations_at_risk(session, default_value, sort, limit=1_000_000)
    if order == "best":
        people, orgs = people[::-1], orgs[::-1]
    people, orgs = people[:limit], orgs[:limit]
    events = _events(session, [p.customer_id for p in people])
    sources = dict(session.execute(select(Customer.id, Customer.source).where(
        Customer.id.in_([p.customer_id for p in people]))).all()) if people else {}
    customers = [{**p.__dict__, "source": sources.get(p.customer_id), "events": events[p.customer_id]} for p in people]
    org_events = _org_events(session, [o.organization for o in orgs])
    organizations = [{**o.__dict__, "events": org_events.get(o.organization, [])} for o in orgs]
    return {"customers": customers, "organizations": organizations}


def _org_events(session: Session, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The latest events of each organisation's customers taken together."""
    if not names:
        return {}
    members = dict(session.execute(select(Customer.id, Customer.organization).where(Customer.organization.in_(names))).all())
    out: dict[str, list[dict[str, Any]]] = {}
    for cid, shown in _events(session, list(members)).items():
        out.setdefault(members[cid], []).extend(shown)
    return {name: sorted(evs, key=lambda e: e["at"], reverse=True)[:EVENTS_SHOWN] for name, evs in out.items()}
