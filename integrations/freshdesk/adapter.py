"""Accept Freshdesk automation-rule webhooks, fetch whole tickets, and write a private note and tags back.

Freshdesk does not sign webhooks: the rule's "Trigger webhook" action presents
the shared secret as the HTTP Basic password (or an X-Trustdesk-Token header).
The body is the JSON template in doc.md; Freshdesk says what happened in
`{{triggered_event}}` (`{ticket_action:created}`, `{note_type:private}`,
`{status:{from:2,to:3}}`) but not who did it, so each rule names its performer
in `trustdesk_author_role`. Bodies from Zulip's template parse too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import quote

from ..base import (Adapter, BadPayload, Delivery, Event, NotConfigured, Note, UnsupportedEvent, is_ours,
                    shared_secret_headers, verify_shared_secret)
from ..http import ApiClient, link_next
from ..payloads import digest, load, normalized_ticket, read_json, utc_z
from .schemas import WebhookSchema

PER_PAGE = 100
OUTBOUND_EMAIL = 10  # ticket `source`: the description was written by an agent
# Freshdesk's built-in statuses; custom ones are reported by number.
STATUSES = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
# (key, value) of {{triggered_event}} -> event type; "*" matches any value.
TRIGGERED = {("ticket_action", "created"): "ticket_created", ("note_type", "*"): "note_added"}


def _triggered(text: str | None) -> tuple[str, str]:
    """`{note_type:private}` -> ("note_type", "private"); `{status:{from:4,to:6}}` -> ("status", ...)."""
    inner = (text or "").strip()
    inner = inner[1:-1] if inner.startswith("{") and inner.endswith("}") else inner
    key, _, value = inner.partition(":")
    return key.strip().lower(), value.strip().lower()


def _event_type(fields: dict) -> str:
    """Our per-rule `trustdesk_event`, else the type Freshdesk's {{triggered_event}} maps to."""
    if fields.get("trustdesk_event"):
        return fields["trustdesk_event"]
    key, value = _triggered(fields.get("triggered_event"))
    return TRIGGERED.get((key, value)) or TRIGGERED.get((key, "*")) or key or "unknown"


def _description(fields: dict) -> list[dict]:
    """The ticket description as the first message (the requester's words, unless the rule says otherwise)."""
    body = fields.get("ticket_description")
    if not body:
        return []
    return [{"id": f"{fields['ticket_id']}:description", "author_role": "customer", "body": body,
             "author": {"name": fields.get("requester_name")}}]


def _ticket(fields: dict, messages: list[dict]) -> dict:
    """The normalized ticket, or BadPayload naming the field that does not fit."""
    return normalized_ticket(FreshdeskAdapter.name, {
        "id": fields["ticket_id"], "subject": fields.get("ticket_subject"),
        "status": (fields.get("ticket_status") or "").lower() or None,
        "tags": [t.strip() for t in (fields.get("ticket_tags") or "").split(",") if t.strip()],
        "requester": {"name": fields.get("requester_name"), "email": fields.get("requester_email")},
        "messages": messages,
    })


def _created(fields: dict) -> Event:
    """A new ticket: its description is the whole conversation so far."""
    messages = _description(fields)
    if not messages:
        raise UnsupportedEvent("freshdesk: the new ticket has no description")
    messages[0]["author_role"] = fields.get("trustdesk_author_role") or "customer"
    return Event(f"{fields['ticket_id']}:created", "ticket_created", _ticket(fields, messages))


def _note(fields: dict) -> Event:
    """A note (only agents write notes); a private note without its text could be our own, so it is ignored."""
    private = _triggered(fields.get("triggered_event"))[1] == "private"
    text = fields.get("latest_private_comment" if private else "latest_public_comment")
    if is_ours(text):
        raise UnsupportedEvent("freshdesk: the note is Trustdesk's own")
    if private and not text:
        raise UnsupportedEvent("freshdesk: a private note without latest_private_comment cannot be told from "
                               "Trustdesk's own note; use the template in doc.md")
    note = [{"author_role": fields.get("trustdesk_author_role") or "agent", "body": text, "public": not private}]
    messages = _description(fields) + (note if text else [])
    if not messages:
        raise UnsupportedEvent("freshdesk: the note event carries no text")
    kind = "private" if private else "public"
    event_id = f"{fields['ticket_id']}:note-{kind}:{digest(text or messages[0]['body'])}"
    return Event(event_id, "note_added", _ticket(fields, messages), complete=False)


def _reply(fields: dict) -> Event:
    """A reply (customer or agent, as the rule that sent it says) with the ticket description before it."""
    role, text = fields.get("trustdesk_author_role"), fields.get("latest_public_comment")
    if not role:
        raise BadPayload("freshdesk_webhook.trustdesk_author_role: set it to customer or agent in this rule",
                         {"freshdesk_webhook": {"trustdesk_author_role": ["Missing data for required field."]}})
    if not text:
        raise UnsupportedEvent("freshdesk: the reply event carries no latest_public_comment")
    if is_ours(text):
        raise UnsupportedEvent("freshdesk: the reply is Trustdesk's own")
    messages = _description(fields) + [{"author_role": role, "body": text, "public": True}]
    event_id = f"{fields['ticket_id']}:reply:{digest(text)}"
    return Event(event_id, "reply_added", _ticket(fields, messages), complete=False)


_PARSERS: dict[str, Callable[[dict], Event]] = {
    "ticket_created": _created,
    "note_added": _note,
    "reply_added": _reply,
}


class FreshdeskAdapter(Adapter):
    """Freshdesk: unsigned automation-rule webhooks in (shared secret); private note and merged tags out."""

    name = "freshdesk"
    event_types = ("ticket_created", "note_added", "reply_added")
    signs_body = False

    @classmethod
    def signature_headers(cls, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """Freshdesk presents the shared secret; it signs nothing."""
        return shared_secret_headers(secret)

    def verify(self, delivery: Delivery) -> None:
        """The shared secret as the Basic password or X-Trustdesk-Token; none configured refuses all."""
        verify_shared_secret(delivery, self.secret, "TRUSTDESK_FRESHDESK_WEBHOOK_SECRET")

    def parse(self, delivery: Delivery) -> Event:
        """The event in a verified delivery, dispatched on its type."""
        data = read_json(delivery.body)
        if not isinstance(data, dict) or not isinstance(data.get("freshdesk_webhook"), dict):
            raise UnsupportedEvent("freshdesk: a body without a freshdesk_webhook object is not handled")
        fields = load(WebhookSchema(), data)["freshdesk_webhook"]
        kind = _event_type(fields)
        parser = _PARSERS.get(kind)
        if parser is None:
            raise UnsupportedEvent(f"freshdesk: {kind} events are not handled")
        return parser(fields)

    # --- REST API v2 -----------------------------------------------------------

    @property
    def can_write_back(self) -> bool:
        """The API needs the account's URL and an API key."""
        return bool(self.setting("BASE_URL") and self.setting("API_TOKEN"))

    def _api(self) -> ApiClient:
        """A client authenticated with the API key as the Basic username and "X" as the password."""
        if not self.can_write_back:
            raise NotConfigured("TRUSTDESK_FRESHDESK_BASE_URL and _API_TOKEN are needed for the Freshdesk API")
        return ApiClient(self.setting("BASE_URL"), auth=(self.setting("API_TOKEN"), "X"))

    @staticmethod
    def _pages(api: ApiClient, path: str, params: dict) -> Iterator[list]:
        """Every page of a list endpoint, following the `Link: <...>; rel="next"` header."""
        for page in api.pages(path, link_next, params):
            yield page if isinstance(page, list) else []

    def _conversations(self, api: ApiClient, ticket_id: str) -> Iterator[dict]:
        """The ticket's replies and notes, oldest first."""
        path = f"/api/v2/tickets/{quote(str(ticket_id), safe='')}/conversations"
        for page in self._pages(api, path, {"per_page": PER_PAGE}):
            yield from page

    def fetch_ticket(self, ticket_id: str) -> dict:
        """The description and every reply and note, customers known by `incoming` or as the requester."""
        api = self._api()
        ticket = api.json("GET", f"/api/v2/tickets/{quote(str(ticket_id), safe='')}",
                          params={"include": "requester"}) or {}
        requester = ticket.get("requester") or {}
        messages = self._opening(ticket) + [
            self._message(c, ticket.get("requester_id")) for c in self._conversations(api, ticket_id)
            if not is_ours(c.get("body")) and not is_ours(c.get("body_text"))]
        return normalized_ticket(self.name, {
            "id": ticket.get("id", ticket_id), "subject": ticket.get("subject"),
            "status": STATUSES.get(ticket.get("status"), str(ticket.get("status") or "")) or None,
            "tags": ticket.get("tags") or [], "created_at": ticket.get("created_at"),
            "updated_at": ticket.get("updated_at"),
            "requester": {"id": ticket.get("requester_id"), "name": requester.get("name"),
                          "email": requester.get("email")},
            "assignee": {"id": ticket.get("responder_id")} if ticket.get("responder_id") else None,
            "messages": messages,
        }, f"freshdesk ticket {ticket_id}")

    @staticmethod
    def _opening(ticket: dict) -> list[dict]:
        """The description as the first message: an agent's for outbound emails, else the requester's."""
        body = ticket.get("description") or ticket.get("description_text")
        if not body:
            return []
        role = "agent" if ticket.get("source") == OUTBOUND_EMAIL else "customer"
        return [{"id": f"{ticket.get('id')}:description", "author_role": role, "body": body,
                 "author": {"id": ticket.get("requester_id") if role == "customer" else None},
                 "created_at": ticket.get("created_at")}]

    @staticmethod
    def _message(conversation: dict, requester_id: Any) -> dict:
        """A reply or note: incoming ones, and the requester's, are the customer's."""
        customer = bool(conversation.get("incoming")) or conversation.get("user_id") == requester_id
        return {"id": conversation.get("id"), "author_role": "customer" if customer else "agent",
                "author": {"id": conversation.get("user_id")},
                "body": conversation.get("body") or conversation.get("body_text") or "",
                "created_at": conversation.get("created_at"), "public": not conversation.get("private", False)}

    def recent_tickets(self, since: datetime) -> Iterable[str]:
        """Ids of tickets updated since `since`, oldest change first (Freshdesk serves at most 300 pages)."""
        params = {"updated_since": utc_z(since),
                  "order_by": "updated_at", "order_type": "asc", "per_page": PER_PAGE}
        seen: set[str] = set()
        for page in self._pages(self._api(), "/api/v2/tickets", params):
            for ticket in page:
                if str(ticket.get("id")) not in seen:
                    seen.add(str(ticket.get("id")))
                    yield str(ticket.get("id"))

    def write_back(self, note: Note) -> None:
        """Post one private note (unless its marker is there), then merge the tags: the API replaces the set."""
        api = self._api()
        ticket = quote(str(note.ticket_id), safe="")
        if not any(note.marker in (c.get("body") or "") + (c.get("body_text") or "")
                   for c in self._conversations(api, str(note.ticket_id))):
            api.request("POST", f"/api/v2/tickets/{ticket}/notes", json={"body": note.html, "private": True})
        if note.tags:
            current = (api.json("GET", f"/api/v2/tickets/{ticket}") or {}).get("tags") or []
            missing = [tag for tag in note.tags if tag not in current]
            if missing:
                api.request("PUT", f"/api/v2/tickets/{ticket}", json={"tags": [*current, *missing]})
