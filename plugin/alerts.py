"""Tell team leads when a ticket turns high-risk: by email (SMTP) and/or a Slack-compatible incoming webhook.

At most once per ticket per risk level: `alerts_sent` has one row per (ticket,
level), inserted before anything is sent, so of two jobs racing on one ticket
only the one whose insert wins sends. Sending happens in a job of its own,
retried by the queue on failure; each channel's outcome is kept on the row, so a
retry resends only the channel that failed (an email is not sent twice because
the webhook was down).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any, Callable

import requests
from huey import Huey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .config import Settings
from .notes import ticket_link
from .storage import AlertSent, Analysis, GuidanceGiven, Ticket, utcnow

log = logging.getLogger("trustdesk.alerts")
HIGH = "high"
SEND_RETRIES = 6
SEND_RETRY_DELAY = 30  # seconds between attempts (the queue's scheduler waits them out)
TIMEOUT = 10.0
EVIDENCE_SHOWN = 3


class AlertFailed(RuntimeError):
    """At least one channel failed; raised so the queue retries the job."""


class NoSuchAlert(LookupError):
    """No alert has that id."""


class NotFailed(RuntimeError):
    """The alert is pending or sent: only a failed one is sent again by hand."""


def alert_level(analysis: dict[str, Any], guidance: dict[str, Any] | None) -> str | None:
    """The alert level of an analysis: "high" when guidance says high risk or escalation is flagged, else None."""
    if (guidance or {}).get("risk") == HIGH or "escalation_risk" in (analysis.get("flags") or []):
        return HIGH
    return None


def channels(settings: Settings) -> list[str]:
    """The configured channels: email when SMTP and recipients are set, webhook when its URL is set."""
    found = []
    if settings.smtp_host and settings.alert_emails:
        found.append("email")
    if settings.alert_webhook_url:
        found.append("webhook")
    return found


def claim(session: Session, ticket_id: int, level: str) -> int | None:
    """Record that leads are to hear of this ticket at this level; the row id, or None when they already did."""
    try:
        with session.begin_nested():
            row = AlertSent(ticket_id=ticket_id, level=level, status="pending", channels={}, attempts=0)
            session.add(row)
    except IntegrityError:
        return None
    return row.id


def compose(ticket: Ticket, level: str, guidance: dict[str, Any], public_url: str | None) -> tuple[str, str]:
    """The alert's subject and plain text: which ticket, who handles it, why it was flagged, and the link."""
    subject = f"[Trustdesk] {level}-risk ticket {ticket.source}/{ticket.external_id}: {ticket.subject or '(no subject)'}"
    lines = [f"Ticket {ticket.external_id} ({ticket.source}) turned {level}-risk.",
             f"Subject: {ticket.subject or '(no subject)'}",
             f"Assignee: {ticket.assignee_name or 'unassigned'}" + (f" ({ticket.assignee_team})" if ticket.assignee_team else "")]
    if guidance.get("summary"):
        lines.append(f"Summary: {guidance['summary']}")
    reasons = guidance.get("reasons") or []
    if reasons:
        lines.append("Why:")
        lines += [f"- {r.get('label')}: \"{str(r.get('evidence') or '')[:200]}\"" for r in reasons[:EVIDENCE_SHOWN]]
    link = ticket_link(public_url, ticket.source, ticket.external_id)
    if link:
        lines.append(f"Review it: {link}")
    return subject, "\n".join(lines)


def send_email(settings: Settings, subject: str, text: str) -> None:
    """Send the alert to TRUSTDESK_ALERT_EMAILS through the configured SMTP server."""
    message = EmailMessage()
    message["Subject"], message["To"] = subject, ", ".join(settings.alert_emails)
    message["From"] = settings.smtp_from or f"trustdesk@{settings.smtp_host}"
    message.set_content(text)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def send_webhook(url: str, subject: str, text: str) -> None:
    """Post the alert to a Slack-compatible incoming webhook ({"text": ...})."""
    response = requests.post(url, json={"text": f"*{subject}*\n{text}"}, timeout=TIMEOUT)
    response.raise_for_status()


def deliver(services: Any, alert_id: int) -> dict[str, str]:
    """Send one alert on every configured channel not yet sent; raises AlertFailed when a channel failed."""
    settings = services.settings
    with services.sessions() as session:
        row = session.get(AlertSent, alert_id)
        if row is None or row.status == "sent":
            return {} if row is None else dict(row.channels)
        ticket = session.get(Ticket, row.ticket_id)
        guidance = session.scalar(select(GuidanceGiven.payload).where(GuidanceGiven.ticket_id == row.ticket_id)
                                  .order_by(GuidanceGiven.id.desc()).limit(1)) or {}
        subject, text = compose(ticket, row.level, guidance, settings.public_url)
        outcome = dict(row.channels)
    senders: dict[str, Callable[[], None]] = {
        "email": lambda: send_email(settings, subject, text),
        "webhook": lambda: send_webhook(settings.alert_webhook_url, subject, text),
    }
    for channel in channels(settings):
        if outcome.get(channel) == "sent":
            continue
        try:
            senders[channel]()
            outcome[channel] = "sent"
        except (OSError, smtplib.SMTPException, requests.RequestException) as exc:
            outcome[channel] = f"failed: {type(exc).__name__}: {exc}"[:500]
            log.warning("alert %s by %s failed: %s", alert_id, channel, exc)
    failed = [c for c, state in outcome.items() if state != "sent"]
    with services.sessions.begin() as session:
        row = session.get(AlertSent, alert_id)
        row.channels, row.attempts = outcome, row.attempts + 1
        row.status = "failed" if failed else "sent"
        row.sent_at = None if failed else utcnow()
    if failed:
        raise AlertFailed(f"alert {alert_id}: {', '.join(failed)} failed")
    return outcome


def check(services: Any, ticket_id: int) -> int | None:
    """Look at a ticket's latest analysis; the id of a new alert to send, or None (not high-risk, or already told)."""
    with services.sessions.begin() as session:
        latest = session.execute(
            select(Analysis.result, GuidanceGiven.payload).join(GuidanceGiven, GuidanceGiven.analysis_id == Analysis.id)
            .where(Analysis.ticket_id == ticket_id).order_by(Analysis.id.desc()).limit(1)).first()
        if latest is None:
            return None
        level = alert_level(latest[0], latest[1])
        if level is None or not channels(services.settings):
            return None
        return claim(session, ticket_id, level)


def retry(services: Any, alert_id: int) -> None:
    """Send a failed alert again (its channels that failed), after the queue's own attempts ran out.

    The queue retries a send for a few minutes; a mail server or chat webhook down
    for longer leaves the alert failed until an admin sends it again here.
    NoSuchAlert or NotFailed otherwise.
    """
    with services.sessions.begin() as session:
        row = session.get(AlertSent, alert_id)
        if row is None:
            raise NoSuchAlert(f"no alert with id {alert_id}")
        if row.status != "failed":
            raise NotFailed(f"alert {alert_id} is {row.status}, not failed")
        row.status = "pending"
        session.flush()
        # Queued inside the transaction: if the queue refuses the job, the alert stays failed (and can be
        # sent again later) rather than pending with nothing to send it.
        if services.send_alert_task is not None:
            services.send_alert_task(alert_id)


def register(queue: Huey, services: Callable[[], Any]) -> tuple[Callable[[int], object], Callable[[int], object]]:
    """Register the alert jobs on the queue: (the task to enqueue with a ticket's id after its analysis,
    the task that sends one alert)."""

    @queue.task(retries=SEND_RETRIES, retry_delay=SEND_RETRY_DELAY, name="send_alert")
    def send_alert_task(alert_id: int) -> None:
        deliver(services(), alert_id)

    @queue.task(name="after_analysis")
    def after_analysis_task(ticket_id: int) -> None:
        s = services()
        alert_id = check(s, ticket_id)
        if alert_id is not None:
            send_alert_task(alert_id)
        from .shadow import compare_latest

        compare_latest(s, ticket_id)

    return after_analysis_task, send_alert_task


def after_analysis(services: Any, ticket_id: int) -> None:
    """Queue the follow-ups of a stored analysis (lead alerts, shadow model); called by the pipeline."""
    task = getattr(services, "after_analysis_task", None)
    if task is None:
        return
    try:
        if not channels(services.settings):
            from .shadow import SHADOW, candidate

            seen = getattr(getattr(services, "live", None), "revisions", None)
            if seen is not None and SHADOW not in seen:
                return  # never set, as of this request's settings check: no candidate to ask about
            with services.sessions() as session:
                if candidate(session) is None:
                    return  # nothing to follow up: no job queued
        task(ticket_id)
    except Exception:  # the queue being down must not fail the delivery that was already stored
        log.exception("could not queue the follow-ups of ticket %s", ticket_id)


def recent(session: Session, limit: int = 20, status: str | None = None) -> list[dict[str, Any]]:
    """The latest alerts (only those in `status` when given), newest first."""
    query = select(AlertSent, Ticket.source, Ticket.external_id).join(Ticket, Ticket.id == AlertSent.ticket_id)
    if status is not None:
        query = query.where(AlertSent.status == status)
    rows = session.execute(query.order_by(AlertSent.id.desc()).limit(limit)).all()
    return [{"id": a.id, "ticket": f"{source}/{external}", "source": source, "external_id": external, "level": a.level,
             "status": a.status, "channels": a.channels, "attempts": a.attempts, "created_at": a.created_at}
            for a, source, external in rows]
