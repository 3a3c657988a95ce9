"""The durable job queue and the write-back job: retried with backoff, done once, dead-lettered.

Huey keeps the queue: SQLite in the data dir by default, Redis when
TRUSTDESK_REDIS_URL is set. The write-back's own state lives in the database
(`write_backs`): a row marked done is never posted again, so a job retried after
a crash does not post twice, except in one window: a crash after the platform
accepted the post and before the row was marked done. Then the next attempt
posts again; receivers should deduplicate by `event_id` (the generic callback
carries it), and helpdesk adapters look for their marker in existing notes.
"""

from __future__ import annotations

import logging
import random
from typing import Callable

from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import select

from integrations.base import AdapterError, NotConfigured, RetryLater

from .config import Settings
from .privacy import purge_old_text
from .services import Services
from .storage import WebhookEvent, WriteBack, utcnow

log = logging.getLogger("trustdesk.jobs")
MAX_ATTEMPTS = 8
BASE_DELAY = 5.0
MAX_DELAY = 3600.0


def make_queue(settings: Settings) -> Huey:
    """The queue for these settings (Redis when configured, else SQLite in the data dir)."""
    if settings.redis_url:
        return RedisHuey("trustdesk", url=settings.redis_url)
    return SqliteHuey("trustdesk", filename=str(settings.data_dir / "queue.db"))


def backoff(attempt: int, retry_after: float | None = None, rng: Callable[[], float] = random.random) -> float:
    """Seconds before the next attempt: exponential with jitter, never sooner than Retry-After."""
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** max(attempt - 1, 0)) * (0.5 + rng())
    return max(delay, retry_after or 0.0)


def write_back(services: Services, source: str, event_id: str) -> float | None:
    """Post one event's result back; returns the delay before a retry, or None when finished."""
    with services.sessions() as session:
        job = session.scalars(select(WriteBack).where(WriteBack.source == source,
                                                      WriteBack.event_id == event_id)).one_or_none()
        if job is None or job.status != "pending":
            return None  # done already (or dead, waiting for an admin): never post twice
        event = session.scalars(select(WebhookEvent).where(WebhookEvent.source == source,
                                                           WebhookEvent.event_id == event_id)).one()
        adapter = services.adapters[source]
        job.attempts += 1
        delay = None
        try:
            adapter.write_back(event.response or {})
            job.status, job.done_at, job.last_error = "done", utcnow(), None
        except RetryLater as exc:
            job.last_error = str(exc)
            if job.attempts >= MAX_ATTEMPTS:
                job.status = "dead"
            else:
                delay = backoff(job.attempts, exc.retry_after)
        except (NotConfigured, AdapterError) as exc:
            job.status, job.last_error = "dead", str(exc)
        session.commit()
        if job.status == "dead":
            log.warning("write-back of %s/%s is dead after %d attempt(s): %s", source, event_id, job.attempts, job.last_error)
        return delay


def register(queue: Huey, services: Callable[[], Services]) -> Callable:
    """Register the write-back task on a queue; returns the task to enqueue with (source, event_id)."""

    @queue.task(name="write_back")
    def write_back_task(source: str, event_id: str) -> None:
        delay = write_back(services(), source, event_id)
        if delay is not None:
            write_back_task.schedule((source, event_id), delay=delay)

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


def retry_dead(services: Services, job_id: int, enqueue: Callable[[str, str], object]) -> None:
    """Give a dead write-back a fresh set of attempts."""
    with services.sessions.begin() as session:
        job = session.get(WriteBack, job_id)
        if job is None or job.status != "dead":
            raise ValueError(f"no dead write-back with id {job_id}")
        job.status, job.attempts = "pending", 0
        source, event_id = job.source, job.event_id
    enqueue(source, event_id)
