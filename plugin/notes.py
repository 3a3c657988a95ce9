"""The internal note Trustdesk writes into a helpdesk ticket, as plain text and as simple HTML.

An agent reads it between two customer messages, so it leads with the risk and
why, then what to avoid, then one reply to send with what must be checked
before sending, and a link to the ticket's page. Every note ends with a marker
unique to the event: a retried write-back finds it and posts nothing more, and
a webhook our own note causes is recognised and ignored.
"""

from __future__ import annotations

import hashlib
from html import escape
from typing import Any, Mapping
from urllib.parse import quote

from integrations.base import MARKER_PREFIX, TAGS, Note

LABEL_NAMES = {"blame": "blame", "deflection": "third-party deflection", "escalation_risk": "escalation risk"}
MAX_REASONS = 4
MAX_EVIDENCE = 220


def marker(source: str, event_id: str) -> str:
    """The reference our note for this event carries (stable, so every retry looks for the same one)."""
    return MARKER_PREFIX + hashlib.sha256(f"{source}\0{event_id}".encode("utf-8")).hexdigest()[:20]


def ticket_link(public_url: str | None, source: str, ticket_id: str) -> str | None:
    """The ticket's page in the console, when the service knows its public address."""
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/console/tickets/{quote(source, safe='')}/{quote(str(ticket_id), safe='')}"


def render(source: str, event_id: str, ticket_id: str, flags: list[str], guidance: Mapping[str, Any],
           public_url: str | None = None, payload: Mapping[str, Any] | None = None) -> Note:
    """The note and tags for one analysed event."""
    sections = _sections(flags, guidance)
    link = ticket_link(public_url, source, ticket_id)
    ref = marker(source, event_id)
    return Note(event_id=event_id, ticket_id=str(ticket_id), marker=ref,
                text=_text(sections, link, ref), html=_html(sections, link, ref),
                tags=tuple(TAGS[f] for f in flags if f in TAGS), payload=dict(payload or {}))


def _sections(flags: list[str], guidance: Mapping[str, Any]) -> dict[str, Any]:
    """What the note says, before it is laid out as text or HTML."""
    labels = ", ".join(LABEL_NAMES.get(f, f) for f in flags) or "nothing flagged"
    reasons = [f"{LABEL_NAMES.get(r.get('label'), r.get('label'))}: \"{_clip(r.get('evidence', ''))}\""
               for r in (guidance.get("reasons") or [])[:MAX_REASONS]]
    advice = guidance.get("advice") or []
    reply = _reply(guidance)
    return {
        "headline": f"Trustdesk: {guidance.get('risk') or 'unknown'} risk ({labels})",
        "summary": guidance.get("summary") or "",
        "why": reasons,
        "avoid": [a["text"] for a in advice if a.get("kind") == "avoid"],
        "do": [a["text"] for a in advice if a.get("kind") == "do"],
        "reply": reply.get("text") if reply else None,
        "confirm": list(reply.get("to_confirm") or []) if reply else [],
    }


def _reply(guidance: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The one reply to offer: the first verified suggestion, else the rewrite of the agent's draft."""
    suggestions = guidance.get("suggestions") or []
    return suggestions[0] if suggestions else guidance.get("rewrite")


def _clip(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_EVIDENCE else text[:MAX_EVIDENCE - 1] + "…"


def _text(s: dict[str, Any], link: str | None, ref: str) -> str:
    lines = [s["headline"]]
    if s["summary"]:
        lines += ["", s["summary"]]
    for title, items in (("Why", s["why"]), ("Avoid", s["avoid"]), ("Do", s["do"])):
        if items:
            lines += ["", f"{title}:"] + [f"- {item}" for item in items]
    if s["reply"]:
        lines += ["", "Suggested reply:", s["reply"]]
        if s["confirm"]:
            lines += ["Before sending, confirm: " + "; ".join(s["confirm"])]
    if link:
        lines += ["", f"Details: {link}"]
    lines += ["", ref]
    return "\n".join(lines)


def _html(s: dict[str, Any], link: str | None, ref: str) -> str:
    parts = [f"<p><strong>{escape(s['headline'])}</strong></p>"]
    if s["summary"]:
        parts.append(f"<p>{escape(s['summary'])}</p>")
    for title, items in (("Why", s["why"]), ("Avoid", s["avoid"]), ("Do", s["do"])):
        if items:
            parts.append(f"<p><strong>{title}:</strong></p><ul>"
                         + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")
    if s["reply"]:
        parts.append(f"<p><strong>Suggested reply:</strong></p><blockquote>{escape(s['reply'])}</blockquote>")
        if s["confirm"]:
            parts.append(f"<p>Before sending, confirm: {escape('; '.join(s['confirm']))}</p>")
    if link:
        parts.append(f'<p><a href="{escape(link, quote=True)}">Details in Trustdesk</a></p>')
    parts.append(f"<p><small>{escape(ref)}</small></p>")
    return "".join(parts)
