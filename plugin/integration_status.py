"""What the integrations page shows per adapter: configured or dry-run, last webhook, failures, dead write-backs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .storage import WebhookEvent, WriteBack, utcnow

RECENT = timedelta(days=7)


def state(adapter: Any) -> str:
    """not configured (no secret: deliveries are refused), dry-run (reads, never writes back) or ready."""
    if not adapter.secret:
        return "not configured"
    return "ready" if adapter.can_write_back else "dry-run"


def overview(session: Session, adapters: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per adapter in the registry, in its order."""
    since = utcnow() - RECENT
    last = dict(session.execute(select(WebhookEvent.source, func.max(WebhookEvent.received_at)).group_by(WebhookEvent.source)).all())
    week = dict(session.execute(select(WebhookEvent.source, func.count()).where(WebhookEvent.received_at >= since)
                                .group_by(WebhookEvent.source)).all())
    counts: dict[tuple[str, str], int] = {(source, status): n for source, status, n in session.execute(
        select(WriteBack.source, WriteBack.status, func.count()).group_by(WriteBack.source, WriteBack.status)).all()}
    retrying = dict(session.execute(select(WriteBack.source, func.count()).where(
        WriteBack.status == "pending", WriteBack.attempts > 0).group_by(WriteBack.source)).all())
    out = []
    for name, adapter in adapters.items():
        error = session.scalar(select(WriteBack.last_error).where(WriteBack.source == name, WriteBack.last_error.is_not(None),
                                                                   WriteBack.status != "done")
                               .order_by(WriteBack.id.desc()).limit(1))
        out.append({"name": name, "state": state(adapter), "last_webhook": last.get(name), "webhooks_7d": week.get(name, 0),
                    "done": counts.get((name, "done"), 0), "retrying": retrying.get(name, 0),
                    "dead": counts.get((name, "dead"), 0), "last_error": error})
    return out
