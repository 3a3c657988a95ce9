"""The review queue: flagged tickets, flags recomputed from stored scores with the thresholds in force now.

Each row carries why it was flagged (the strongest evidence span of a flagged
message), its risk (high, medium, low as guidance says it) and the value at
risk of its customer (their value times the share of trust they have lost).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import ledger, runtime
from ..storage import Analysis, Customer, LedgerEvent, Ticket, TicketReview, as_utc

LABELS = ("blame", "deflection", "escalation_risk")
LABEL_NAMES = {"blame": "Blame", "deflection": "Third-party deflection", "escalation_risk": "Escalation risk"}
RISK_RANK = {"high": 2, "medium": 1, "low": 0}
SORTS = ("risk", "value")
STATUSES = ("open", "handled", "all")
MAX_ROWS = 200


class FilterError(ValueError):
    """A filter value the queue cannot use (the page answers 400 naming it)."""


@dataclass(frozen=True)
class Filters:
    """What the lead narrowed the queue to; empty strings mean 'any'."""

    label: str = ""
    agent: str = ""
    team: str = ""
    integration: str = ""
    since: date | None = None
    until: date | None = None
    status: str = "open"
    sort: str = "risk"


def _day(raw: str, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FilterError(f"{name}: expected a date as YYYY-MM-DD, got {raw[:40]!r}") from None


def parse_filters(args: dict[str, str]) -> Filters:
    """Filters from query parameters, checked; a bad value raises FilterError naming it."""
    text = {k: (args.get(k) or "").strip()[:300] for k in ("label", "agent", "team", "integration", "since", "until",
                                                           "status", "sort")}
    if text["label"] and text["label"] not in LABELS:
        raise FilterError(f"label: must be one of {', '.join(LABELS)}")
    status = text["status"] or "open"
    if status not in STATUSES:
        raise FilterError(f"status: must be one of {', '.join(STATUSES)}")
    sort = text["sort"] or "risk"
    if sort not in SORTS:
        raise FilterError(f"sort: must be one of {', '.join(SORTS)}")
    since, until = _day(text["since"], "since"), _day(text["until"], "until")
    if since and until and since > until:
        raise FilterError("since: must not be after until")
    return Filters(text["label"], text["agent"], text["team"], text["integration"], since, until, status, sort)


@dataclass
class Row:
    """One flagged ticket in the queue."""

    ticket_id: int
    source: str
    external_id: str
    subject: str | None
    agent: str | None
    team: str | None
    customer: str | None
    organization: str | None
    risk: str
    labels: list[str]
    top_score: float
    why: dict[str, Any] | None
    value_at_risk: float
    analyzed_at: datetime
    handled: bool


def strongest_span(analysis: dict) -> dict[str, Any] | None:
    """The evidence to show first: the highest-scoring span of a flagged message, else the top flagged message."""
    best = None
    for message in analysis["messages"]:
        for span in message.get("spans") or []:
            if best is None or (span.get("score") or 0) > best["score"]:
                best = {"label": span["label"], "text": span.get("text") or "", "score": span.get("score") or 0,
                        "message_index": message["index"], "author_role": message["author_role"]}
    if best is None:
        for message in analysis["messages"]:
            for label in message["flags"]:
                score = message["scores"].get(label) or 0
                if best is None or score > best["score"]:
                    best = {"label": label, "text": "", "score": score, "message_index": message["index"],
                            "author_role": message["author_role"]}
    return best


def flagged_labels(analysis: dict) -> list[str]:
    """Every label flagged on the ticket or one of its messages, in a stable order."""
    found = set(analysis["flags"]) | {f for m in analysis["messages"] for f in m["flags"]}
    return [label for label in LABELS if label in found]


def _latest_analyses(session: Session, f: Filters):
    """(ticket, analysis, customer, review) for each ticket's latest analysis, narrowed by the SQL-able filters."""
    latest = select(func.max(Analysis.id).label("id")).group_by(Analysis.ticket_id).subquery()
    query = (select(Ticket, Analysis, Customer, TicketReview)
             .join(Analysis, Analysis.ticket_id == Ticket.id).join(latest, latest.c.id == Analysis.id)
             .outerjoin(Customer, Customer.id == Ticket.customer_id)
             .outerjoin(TicketReview, TicketReview.ticket_id == Ticket.id))
    if f.agent:
        query = query.where(Ticket.assignee_name == f.agent)
    if f.team:
        query = query.where(Ticket.assignee_team == f.team)
    if f.integration:
        query = query.where(Ticket.source == f.integration)
    if f.since:
        query = query.where(Analysis.created_at >= datetime.combine(f.since, time.min, timezone.utc))
    if f.until:
        query = query.where(Analysis.created_at < datetime.combine(f.until + timedelta(days=1), time.min, timezone.utc))
    if f.status == "open":
        query = query.where(TicketReview.ticket_id.is_(None))
    elif f.status == "handled":
        query = query.where(TicketReview.ticket_id.is_not(None))
    return session.execute(query).all()


def customer_value_at_risk(session: Session, customer_ids: set[int], default_value: float) -> dict[int, float]:
    """Each customer's value at risk: their value times the share of trust their ledger has lost."""
    events: dict[int, list[LedgerEvent]] = {}
    if customer_ids:
        for event in session.scalars(select(LedgerEvent).where(LedgerEvent.customer_id.in_(customer_ids))):
            events.setdefault(event.customer_id, []).append(event)
    values = dict(session.execute(select(Customer.id, Customer.value).where(Customer.id.in_(customer_ids))).all()) \
        if customer_ids else {}
    out = {}
    for cid in customer_ids:
        value = values.get(cid) if values.get(cid) is not None else default_value
        out[cid] = round(value * (100 - ledger.trust_score(events.get(cid, []))) / 100, 2)
    return out


def queue(session: Session, thresholds: dict[str, float], f: Filters, default_value: float = 0.0) -> list[Row]:
    """Flagged tickets matching the filters, riskiest first (or by value at risk), at most MAX_ROWS."""
    found = _latest_analyses(session, f)
    at_risk = customer_value_at_risk(session, {c.id for _, _, c, _ in found if c is not None}, default_value)
    rows = []
    for ticket, stored, customer, review in found:
        analysis = runtime.flags_for(stored.result, thresholds)
        labels = flagged_labels(analysis)
        if not labels or (f.label and f.label not in labels):
            continue
        scores = [(analysis.get("scores") or {}).get(label) or 0 for label in labels]
        rows.append(Row(ticket.id, ticket.source, ticket.external_id, ticket.subject, ticket.assignee_name,
                        ticket.assignee_team, customer.name if customer else None,
                        customer.organization if customer else None, runtime.risk_for(analysis, thresholds), labels,
                        max(scores), strongest_span(analysis), at_risk.get(customer.id, 0.0) if customer else 0.0,
                        as_utc(stored.created_at), review is not None))
    if f.sort == "value":
        rows.sort(key=lambda r: (-r.value_at_risk, -RISK_RANK[r.risk], -r.top_score))
    else:
        rows.sort(key=lambda r: (-RISK_RANK[r.risk], -r.top_score, -r.value_at_risk))
    return rows[:MAX_ROWS]


def filter_choices(session: Session) -> dict[str, list[str]]:
    """The agents, teams and integrations seen on analysed tickets, for the filter menus."""
    def distinct(column) -> list[str]:
        return [v for v in session.scalars(select(column).where(column.is_not(None)).distinct().order_by(column))]

    return {"agent": distinct(Ticket.assignee_name), "team": distinct(Ticket.assignee_team),
            "integration": distinct(Ticket.source)}
