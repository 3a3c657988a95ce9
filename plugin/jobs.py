"""The durable job queue and the write-back job: claimed once, retried with backoff, dead-lettered.

Huey keeps the queue: SQLite in the data dir by default, Redis when
TRUSTDESK_REDIS_URL is set. The write-back's own state lives in the database
(`write_backs`), so the queue may lose or duplicate a message without harm:

- A worker claims a row with one conditional UPDATE (pending, or running with
  an expired lease, becomes running with a new lease); of two workers handed
  the same event, exactly one wins and the other does nothing.
- A worker killed mid-job leaves its row running; when the lease runs out the
  sweeper (every minute) queues it again, as it does any pending row whose
  retry time has passed without a worker picking it up (a restart between
  receiving and writing back, a queue message lost).
- Each helpdesk note carries a marker and the adapter looks for it before
  posting, so a job that posted and then died before marking its row done
  does not post twice. The window that remains: a crash after the platform
  accepted the note and before the platform shows it in the ticket's notes
  (a second or so), or, for the generic callback, any crash after the POST
  was accepted; the callback carries `event_id` for the receiver to
  deduplicate.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Callable, NamedTuple

from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import and_, func, or_, select, update

from integrations.base import Adapter, AdapterError, NotConfigured, RetryLater, UnsupportedEvent
from models.ticket import TicketError, load_ticket

from . import runtime
from .config import Settings
from .metrics import record_write_back_failure
from .notes import render
from .pipeline import analyse
from .privacy import purge_old_text
from .services import Services
from .storage import Analysis, GuidanceGiven, Ticket, WebhookEvent, WriteBack, utcnow

log = logging.getLogger("trustdesk.jobs")
MAX_ATTEMPTS = 8
BASE_DELAY = 5.0
MAX_DELAY = 3600.0
# Longer than any one job can take (a few API calls, each with its own timeout).
LEASE = timedelta(minutes=5)
# A pending row this late past its retry time has lost its queue message.
STALE_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 500


def make_queue(settings: Settings) -> Huey:
    """The queue for these settings (Redis when configured, else SQLite in the data dir)."""
    if settings.redis_url:
        return RedisHuey("trustdesk", url=settings.redis_url)
    return SqliteHuey("trustdesk", filename=str(settings.data_dir / "queue.db"))


def backoff(attempt: int, retry_after: float | None = None, rng: Callable[[], float] = random.random) -> float:
    """Seconds before the next attempt: exponential with jitter, never sooner than Retry-After."""
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** max(attempt - 1, 0)) * (0.5 + rng())
    return max(delay, retry_after or 0.0)


def write_back(services: Services, source: str, event_id: str, now: datetime | None = None) -> float | None:
    """Claim and run one event's write-back; returns the delay before a retry, or None when finished."""
    claimed = claim(services, source, event_id, now)
    if claimed is None:
        return None  # done, dead, or another worker holds it
    job_id = claimed.job_id
    runtime.refresh(services)  # follow model activations and threshold changes made since the last job
    adapter = services.adapters[source]
    try:
        if claimed.refresh:
            _refresh(services, adapter, source, event_id, job_id)
        note = _note(services, adapter, source, event_id)
        if note is not None:
            adapter.write_back(note)
    except RetryLater as exc:
        return _failed(services, job_id, str(exc), exc.retry_after, source)
    except UnsupportedEvent as exc:  # the ticket is gone or is no longer one we handle
        return _finish(services, job_id, "done", f"skipped: {exc}")
    except (NotConfigured, AdapterError) as exc:
        return _failed(services, job_id, str(exc), None, source, final=True)
    return _finish(services, job_id, "done", None)


class Claimed(NamedTuple):
    """A write-back this worker holds: its row, and whether the whole conversation must be fetched first."""

    job_id: int
    refresh: bool


def claim(services: Services, source: str, event_id: str, now: datetime | None = None) -> Claimed | None:
    """Take the row for this event with a lease, if it is free; None when it is done, dead or held."""
    now = now or utcnow()
    with services.sessions.begin() as session:
        found = session.execute(select(WriteBack.id, WriteBack.refresh)
                                .where(WriteBack.source == source, WriteBack.event_id == event_id)).one_or_none()
        if found is None:
            return None
        job_id, refresh = found
        claimed = session.execute(
            update(WriteBack)
            .where(WriteBack.id == job_id,
                   or_(WriteBack.status == "pending", and_(WriteBack.status == "running", WriteBack.lease_until < now)))
            .values(status="running", lease_until=now + LEASE, attempts=WriteBack.attempts + 1)
            .execution_options(synchronize_session=False))
        # Only the holder of the claim clears `refresh`, so the value read here is still current.
        return Claimed(job_id, bool(refresh)) if claimed.rowcount == 1 else None


def _refresh(services: Services, adapter: Adapter, source: str, event_id: str, job_id: int) -> None:
    """Fetch the whole conversation the delivery left out, and classify the ticket again with it."""
    with services.sessions() as session:
        event = session.scalars(select(WebhookEvent).where(WebhookEvent.source == source,
                                                           WebhookEvent.event_id == event_id)).one()
        ticket_id = (event.response or {}).get("ticket_id")
    try:
        fetched = load_ticket({**adapter.fetch_ticket(str(ticket_id)), "source": source})
    except TicketError as exc:
        raise AdapterError(f"the fetched ticket does not match the normalized schema: {exc}") from None
    with services.sessions.begin() as session:
        analyse(session, services, source, fetched)
        session.get(WriteBack, job_id).refresh = False


def _note(services: Services, adapter: Adapter, source: str, event_id: str):
    """The note for the ticket's latest analysis, or None where a helpdesk has nothing flagged to hear about."""
    with services.sessions() as session:
        event = session.scalars(select(WebhookEvent).where(WebhookEvent.source == source,
                                                           WebhookEvent.event_id == event_id)).one()
        response = event.response or {}
        latest = session.execute(
            select(Analysis, GuidanceGiven).join(GuidanceGiven, GuidanceGiven.analysis_id == Analysis.id)
            .where(Analysis.ticket_id == event.ticket_id).order_by(Analysis.id.desc()).limit(1)).first()
        external_id = session.scalar(select(Ticket.external_id).where(Ticket.id == event.ticket_id))
        thresholds = runtime.current_thresholds(session, services.analyzer)
    analysis, guidance = (latest[0].result, latest[1].payload) if latest else (response.get("analysis") or {}, response.get("guidance") or {})
    # Flags as the thresholds stand now, not as they stood when the ticket was scored.
    flags = list(runtime.flags_for(analysis, thresholds).get("flags") or []) if analysis.get("messages") else []
    if not flags and not adapter.writes_every_event:
        return None
    return render(source, event_id, external_id or response.get("ticket_id"), flags, guidance,
                  services.settings.public_url, payload=response)


def _failed(services: Services, job_id: int, error: str, retry_after: float | None, source: str,
            final: bool = False) -> float | None:
    """Record a failed attempt: schedule the next one, or move the row to the dead-letter list."""
    with services.sessions.begin() as session:
        job = session.get(WriteBack, job_id)
        job.last_error, job.lease_until = error[:2000], None
        if final or job.attempts >= MAX_ATTEMPTS:
            job.status, job.next_attempt_at, delay = "dead", None, None
        else:
            delay = backoff(job.attempts, retry_after)
            job.status, job.next_attempt_at = "pending", utcnow() + timedelta(seconds=delay)
        attempts, status, event_id = job.attempts, job.status, job.event_id
    record_write_back_failure(source, "dead" if status == "dead" else "retry")
    if status == "dead":
        log.warning("write-back of %s/%s is dead after %d attempt(s): %s", source, event_id, attempts, error)
    return delay


def _finish(services: Services, job_id: int, status: str, note: str | None) -> None:
    with services.sessions.begin() as session:
        job = session.get(WriteBack, job_id)
        job.status, job.done_at, job.last_error, job.lease_until, job.next_attempt_at = status, utcnow(), note, None, None
    return None


def stale(services: Services, now: datetime | None = None) -> list[tuple[str, str]]:
    """Rows no worker is taking care of: expired leases, and pending rows long past their retry time."""
    now = now or utcnow()
    with services.sessions() as session:
        return [tuple(row) for row in session.execute(
            select(WriteBack.source, WriteBack.event_id).where(or_(
                and_(WriteBack.status == "running", WriteBack.lease_until < now),
                and_(WriteBack.status == "pending",
                     func.coalesce(WriteBack.next_attempt_at, WriteBack.created_at) < now - STALE_AFTER)))
            .order_by(WriteBack.id).limit(SWEEP_BATCH)).all()]


def register(queue: Huey, services: Callable[[], Services]) -> Callable:
    """Register the jobs on a queue; returns the write-back task to enqueue with (source, event_id)."""

    @queue.task(name="write_back")
    def write_back_task(source: str, event_id: str) -> None:
        delay = write_back(services(), source, event_id)
        if delay is not None:
            write_back_task.schedule((source, event_id), delay=delay)

    @queue.periodic_task(crontab(minute="*"), name="sweep_write_backs")
    def sweep_task() -> None:
        for source, event_id in stale(services()):
            write_back_task(source, event_id)  # the claim makes a duplicate harmless

    @queue.periodic_task(crontab(hour="3", minute="17"), name="retention")
    def retention_task() -> None:
        s = services()
        with s.sessions.begin() as session:
            purged = purge_old_text(session, s.settings.retention_days)
        log.info("retention: cleared the text of %d message(s) older than %d days", purged, s.settings.retention_days)

    return write_back_task


def dead(services: Services) -> list[dict]:
    """The dead-letter list, newest first."""
    with services.sessions() as session:
        rows = session.scalars(select(WriteBack).where(WriteBack.status == "dead").order_by(WriteBack.id.desc())).all()
        return [{"id": r.id, "source": r.source, "event_id": r.event_id, "attempts": r.attempts,
                 "last_error": r.last_error} for r in rows]


class NoSuchJob(LookupError):
    """No write-back has that id."""


class NotDead(ValueError):
    """The write-back is not on the dead-letter list (pending, running or done)."""


def retry_dead(services: Services, job_id: int, enqueue: Callable[[str, str], object]) -> None:
    """Give a dead write-back a fresh set of attempts; NoSuchJob or NotDead otherwise."""
    with services.sessions.begin() as session:
        job = session.get(WriteBack, job_id)
        if job is None:
            raise NoSuchJob(f"no write-back with id {job_id}")
        if job.status != "dead":
            raise NotDead(f"write-back {job_id} is {job.status}, not dead")
        job.status, job.attempts, job.next_attempt_at, job.lease_until = "pending", 0, None, None
        source, event_id = job.source, job.event_id
    enqueue(source, event_id)
