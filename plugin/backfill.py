"""Import a helpdesk's recent tickets, so the ledger and history are not empty on day one.

Each ticket is fetched whole through the adapter, stored and classified like a
delivery, and its events go into the customer's ledger; nothing is written
back (these tickets were handled before Trustdesk was there). A ticket already
imported is refreshed, and its ledger events are not counted twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import select

from integrations.base import Adapter, AdapterError, RetryLater
from models.ticket import TicketError, load_ticket

from .pipeline import analyse
from .services import Services
from .storage import Ticket

log = logging.getLogger("trustdesk.backfill")
MAX_WAITS = 5  # rate-limit waits per ticket before giving up on it
LONGEST_WAIT = 300.0


@dataclass
class Report:
    """What a backfill did."""

    imported: int = 0
    refreshed: int = 0
    failed: list[str] = field(default_factory=list)


def backfill(services: Services, adapter: Adapter, since: datetime, limit: int | None = None,
             sleep: Callable[[float], None] = time.sleep, progress: Callable[[str], None] = lambda _: None) -> Report:
    """Fetch, store and classify the tickets updated since `since` (at most `limit`)."""
    report = Report()
    for count, ticket_id in enumerate(_with_waits(lambda: list(adapter.recent_tickets(since)), sleep), start=1):
        if limit is not None and count > limit:
            break
        try:
            ticket = load_ticket({**_with_waits(lambda: adapter.fetch_ticket(str(ticket_id)), sleep),
                                  "source": adapter.name})
        except (AdapterError, TicketError) as exc:
            report.failed.append(f"{ticket_id}: {exc}")
            continue
        with services.sessions.begin() as session:
            known = session.scalar(select(Ticket.id).where(Ticket.source == adapter.name,
                                                           Ticket.external_id == ticket["id"])) is not None
            _, analysis, _ = analyse(session, services, adapter.name, ticket)  # ledger events: what is new
        if known:
            report.refreshed += 1
        else:
            report.imported += 1
        progress(f"{adapter.name} ticket {ticket['id']}: {', '.join(analysis['flags']) or 'nothing flagged'}")
    return report


def _with_waits(call: Callable, sleep: Callable[[float], None]):
    """Run an API call, waiting as the platform asks when it rate-limits us."""
    for attempt in range(MAX_WAITS + 1):
        try:
            return call()
        except RetryLater as exc:
            if attempt == MAX_WAITS:
                raise
            wait = min(exc.retry_after or 2.0 ** (attempt + 1), LONGEST_WAIT)
            log.info("rate-limited, waiting %.0f s: %s", wait, exc)
            sleep(wait)
