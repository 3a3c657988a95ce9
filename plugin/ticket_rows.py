"""A delivered ticket, its customer and its messages, read and written as plain rows.

Every webhook delivery stores one ticket; the ORM's unit of work (identity map,
flush planning, object state) cost about as much per delivery as the model's scoring.
These functions speak SQLAlchemy Core on the session's own connection, inside
its transaction, and write only what is new or differs from what is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from .storage import Customer, Message, Ticket

TICKETS, CUSTOMERS, MESSAGES = Ticket.__table__, Customer.__table__, Message.__table__
# Built once: a statement object carries its compiled form's cache key, computed on first use.
_TICKET = select(TICKETS).where(TICKETS.c.source == bindparam("source"), TICKETS.c.external_id == bindparam("external_id"))
_MESSAGES = select(MESSAGES).where(MESSAGES.c.ticket_id == bindparam("ticket_id")).order_by(MESSAGES.c.position)
_CUSTOMER = select(CUSTOMERS).where(CUSTOMERS.c.source == bindparam("source"),
                                    CUSTOMERS.c.external_id == bindparam("external_id"))
_NEW_TICKET = insert(TICKETS).returning(TICKETS.c.id)
_NEW_CUSTOMER = insert(CUSTOMERS).returning(CUSTOMERS.c.id)
_NEW_MESSAGES = insert(MESSAGES)


def find_ticket(session: Session, source: str, external_id: str) -> Row | None:
    """The stored ticket row of a helpdesk ticket, or None."""
    return session.connection().execute(_TICKET, {"source": source, "external_id": external_id}).first()


def stored_messages(session: Session, ticket_id: int) -> list[Row]:
    """A stored ticket's message rows, in conversation order."""
    return list(session.connection().execute(_MESSAGES, {"ticket_id": ticket_id}))


def find_customer(session: Session, source: str, requester: dict | None) -> Row | None:
    """The stored customer row of a requester with an id, or None (not stored yet, or no id)."""
    if not requester or not requester.get("id"):
        return None
    return session.connection().execute(_CUSTOMER, {"source": source, "external_id": requester["id"]}).first()


def store_ticket(session: Session, source: str, ticket: dict, row: Row | None, customer: Row | None,
                 stored: list[Row]) -> tuple[int, int | None]:
    """Insert or update the ticket, its customer and its messages (the latest delivery wins): (ticket id, customer id).

    `row`, `customer` and the `stored` messages are those found before (None
    and [] when new).
    """
    connection = session.connection()
    customer_id = _store_customer(session, source, ticket.get("requester"), customer)  # first: the ticket refers to it
    assignee = ticket.get("assignee") or {}
    values = {"subject": ticket.get("subject"), "status": ticket.get("status"), "created_at": ticket.get("created_at"),
              "updated_at": ticket.get("updated_at"), "assignee_name": assignee.get("name"),
              "assignee_team": assignee.get("team"), "customer_id": customer_id}
    if row is None:
        ticket_id = connection.execute(_NEW_TICKET, {"source": source, "external_id": ticket["id"], **values}).scalar_one()
    else:
        ticket_id = row.id
        _update_changed(session, TICKETS, row, values)
    wanted = [message_values(m) for m in ticket["messages"]]
    changed = [{"_id": message.id, **values, "purged_at": None} for message, values in zip(stored, wanted)
               if message.purged_at is not None or _changes(message, values)]
    if changed:
        connection.execute(update(MESSAGES).where(MESSAGES.c.id == bindparam("_id")), changed)
    if len(stored) > len(wanted):  # the delivery has fewer messages than stored: the tail went away
        connection.execute(delete(MESSAGES).where(MESSAGES.c.id.in_([m.id for m in stored[len(wanted):]])))
    fresh = [{"ticket_id": ticket_id, "position": position, **values}
             for position, values in enumerate(wanted) if position >= len(stored)]
    if fresh:
        connection.execute(_NEW_MESSAGES, fresh)
    return ticket_id, customer_id


def message_values(message: dict) -> dict:
    """A delivered message as the columns it is stored in."""
    return {"external_id": message.get("id"), "author_role": message["author_role"],
            "author_name": (message.get("author") or {}).get("name"), "body": message["body"],
            "public": message.get("public", True), "created_at": message.get("created_at")}


def _store_customer(session: Session, source: str, requester: dict | None, row: Row | None) -> int | None:
    """The customer id of a requester with an id (inserted on first sight, else updated where changed), else None."""
    if not requester or not requester.get("id"):
        return None
    values = {"name": requester.get("name"), "email": requester.get("email"),
              "organization": requester.get("organization"), "value": requester.get("value")}
    if row is None:
        return session.connection().execute(_NEW_CUSTOMER,
                                            {"source": source, "external_id": requester["id"], **values}).scalar_one()
    _update_changed(session, CUSTOMERS, row, values)
    return row.id


def _update_changed(session: Session, table: Any, row: Row, values: dict) -> None:
    """UPDATE a stored row with the values that differ from it; nothing when none does."""
    changed = _changes(row, values)
    if changed:
        session.connection().execute(update(table).where(table.c.id == row.id).values(**changed))


def _changes(row: Row, values: dict) -> dict:
    """The values that would store differently from the row's."""
    return {key: value for key, value in values.items() if differs(getattr(row, key), value)}


def differs(stored: Any, wanted: Any) -> bool:
    """Whether a delivered value would store differently; when unsure, it differs (and is written again)."""
    if isinstance(stored, datetime) and isinstance(wanted, datetime):
        if stored.tzinfo is None:  # SQLite keeps the wall time and drops the offset
            return stored != wanted.replace(tzinfo=None)
        return wanted.tzinfo is None or stored != wanted or stored.utcoffset() != wanted.utcoffset()
    return stored != wanted
