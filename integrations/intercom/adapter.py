"""Verify and parse Intercom webhook notifications, and write admin notes and tags back through the REST API.

Signature: `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the raw body>`, keyed with the
app's client secret (TRUSTDESK_INTERCOM_WEBHOOK_SECRET). Intercom sends no
timestamp, so there is no replay window; redeliveries keep their notification
id and are deduplicated by it.

Tickets (ticket.* topics) live behind /tickets endpoints with their own ids, so
their normalized id is `ticket-<id>`; conversations keep their plain id.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Callable, Iterator
from urllib.parse import quote

from ..base import (Adapter, AdapterError, Delivery, Event, NotConfigured, Note, Unauthorized, UnsupportedEvent,
                    is_ours, same)
from ..http import ApiClient
from ..payloads import iso_from_unix, load, normalized_ticket, read_json
from .schemas import ConversationSchema, NotificationSchema, TicketReplySchema, TicketSchema

SIGNATURE_HEADER = "X-Hub-Signature"
DEFAULT_BASE_URL = "https://api.intercom.io"
# Pinned so response shapes do not change under us when the app's default version moves.
API_VERSION = "2.11"
TICKET_PREFIX = "ticket-"
ROLES = {"user": "customer", "lead": "customer", "contact": "customer",
         "admin": "agent", "bot": "agent", "team": "agent"}
SEARCH_PAGE_SIZE = 150


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature value Intercom sends for a body."""
    return "sha1=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def _message(part: dict, fallback_id: str | None = None) -> dict | None:
    """A normalized message from a part or opening message; None for parts without text or a known author."""
    author = part.get("author") or {}
    role = ROLES.get(author.get("type") or "")
    body = (part.get("body") or "").strip()
    if not role or not body:
        return None
    return {"id": part.get("id") or fallback_id, "author_role": role, "body": body,
            "author": {"id": author.get("id"), "name": author.get("name") or author.get("email")},
            "created_at": iso_from_unix(part.get("created_at")), "public": part.get("part_type") != "note"}


def _messages(candidates: list[dict | None]) -> list[dict]:
    """Messages in order, once each, without our own notes."""
    seen: set[str] = set()
    out = []
    for message in candidates:
        if not message or is_ours(message["body"]) or message["id"] in seen:
            continue
        seen.add(message["id"])
        out.append(message)
    return out


def _requester(conv: dict) -> dict | None:
    """The customer: `user` in older payloads, the first of `contacts` in newer ones."""
    contacts = (conv.get("contacts") or {}).get("contacts") or []
    person = conv.get("user") or (contacts[0] if contacts else None)
    if not person:
        return None
    return {"id": person.get("id"), "name": person.get("name") or None, "email": person.get("email") or None}


def _tags(obj: dict) -> list[str]:
    """Tag names of a conversation or ticket (`{"type": "tag.list", "tags": [...]}`, or a bare list)."""
    tags = obj.get("tags") or []
    tags = tags.get("tags") or [] if isinstance(tags, dict) else tags
    return [str(t["name"]) for t in tags if isinstance(t, dict) and t.get("name")]


def conversation_ticket(conv: dict) -> dict:
    """The normalized ticket of a loaded conversation (webhook item or REST object)."""
    opening = conv.get("source") or conv.get("conversation_message") or {}
    parts = (conv.get("conversation_parts") or {}).get("conversation_parts") or []
    first = _message({**opening, "created_at": conv.get("created_at")}, fallback_id=f"{conv['id']}:source")
    assignee = conv.get("assignee") or {}
    assignee_id = assignee.get("id") if assignee.get("type") == "admin" else conv.get("admin_assignee_id")
    return {"id": conv["id"], "subject": opening.get("subject") or conv.get("title") or None,
            "status": conv.get("state"), "tags": _tags(conv), "created_at": iso_from_unix(conv.get("created_at")),
            "updated_at": iso_from_unix(conv.get("updated_at")), "requester": _requester(conv),
            "assignee": {"id": assignee_id, "name": assignee.get("name")} if assignee_id not in (None, "0") else None,
            "messages": _messages([first, *(_message(p) for p in parts)])}


def _state(ticket: dict) -> str | None:
    """A ticket's state, whether Intercom sends it as an object or a string."""
    state = ticket.get("ticket_state")
    return state.get("category") or state.get("internal_label") if isinstance(state, dict) else state


def ticket_ticket(ticket: dict, extra: list[dict] = ()) -> dict:
    """The normalized ticket of a loaded Intercom ticket; its description counts as the customer's message."""
    attributes = ticket.get("ticket_attributes") or {}
    requester = _requester(ticket)
    description = _message({"id": f"{ticket['id']}:description", "body": attributes.get("_default_description_"),
                            "author": {"type": "contact", "id": (requester or {}).get("id")},
                            "created_at": ticket.get("created_at")})
    parts = (ticket.get("ticket_parts") or {}).get("ticket_parts") or []
    assignee_id = ticket.get("admin_assignee_id")
    return {"id": TICKET_PREFIX + ticket["id"], "subject": attributes.get("_default_title_"),
            "status": _state(ticket), "tags": _tags(ticket), "created_at": iso_from_unix(ticket.get("created_at")),
            "updated_at": iso_from_unix(ticket.get("updated_at")), "requester": requester,
            "assignee": {"id": assignee_id} if assignee_id not in (None, "0") else None,
            "messages": _messages([description, *(_message(p) for p in [*parts, *extra])])}


def _newest_is_ours(parts: list[dict]) -> bool:
    """Whether the part that caused this notification is a note we wrote."""
    return bool(parts) and is_ours(parts[-1].get("body"))


def _conversation_event(item: dict, created: bool) -> tuple[dict, bool]:
    """A conversation topic: whole when just created, else only the newest part is in the delivery."""
    conv = load(ConversationSchema(), item, "data.item")
    parts = (conv.get("conversation_parts") or {}).get("conversation_parts") or []
    if _newest_is_ours(parts):
        raise UnsupportedEvent("our own note came back")
    return conversation_ticket(conv), created and not parts


def _ticket_created(item: dict) -> tuple[dict, bool]:
    """ticket.created: the item is the ticket with its parts so far."""
    ticket = load(TicketSchema(), item, "data.item")
    listed = (ticket.get("ticket_parts") or {})
    complete = len(listed.get("ticket_parts") or []) >= (listed.get("total_count") or 0)
    return ticket_ticket(ticket), complete


def _ticket_replied(item: dict) -> tuple[dict, bool]:
    """ticket.contact.replied: the ticket plus the new part."""
    reply = load(TicketReplySchema(), item, "data.item")
    ticket, listed = reply["ticket"], (reply["ticket"].get("ticket_parts") or {})
    complete = len(listed.get("ticket_parts") or []) >= (listed.get("total_count") or 0)
    return ticket_ticket(ticket, [reply["ticket_part"]]), complete


TOPICS: dict[str, Callable[[dict], tuple[dict, bool]]] = {
    "conversation.user.created": lambda item: _conversation_event(item, created=True),
    "conversation.user.replied": lambda item: _conversation_event(item, created=False),
    "conversation.admin.replied": lambda item: _conversation_event(item, created=False),
    "conversation.admin.noted": lambda item: _conversation_event(item, created=False),
    "ticket.created": _ticket_created,
    "ticket.contact.replied": _ticket_replied,
}


def _next_search(query: dict, page: dict) -> dict | None:
    """The search's next request: the same query, starting after the answer's cursor."""
    cursor = ((page.get("pages") or {}).get("next") or {}).get("starting_after")
    return {**query, "pagination": {"per_page": SEARCH_PAGE_SIZE, "starting_after": cursor}} if cursor else None


def _split(ticket_id: str) -> tuple[str, str]:
    """("tickets", id) for a ticket, ("conversations", id) for a conversation; ids are URL-quoted."""
    if ticket_id.startswith(TICKET_PREFIX):
        return "tickets", quote(ticket_id[len(TICKET_PREFIX):], safe="")
    return "conversations", quote(ticket_id, safe="")


class IntercomAdapter(Adapter):
    """Intercom: app webhooks in, admin notes and workspace tags out."""

    name = "intercom"
    event_types = tuple(TOPICS)

    @classmethod
    def signature_headers(cls, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """Headers of a genuine Intercom notification."""
        return {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}

    def verify(self, delivery: Delivery) -> None:
        """Refuse unless X-Hub-Signature is the HMAC-SHA1 of the raw body with the client secret."""
        if not self.secret:
            raise NotConfigured("TRUSTDESK_INTERCOM_WEBHOOK_SECRET is not set: Intercom deliveries are refused")
        signature = delivery.header(SIGNATURE_HEADER)
        if not signature:
            raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
        if not same(signature.strip(), sign(self.secret, delivery.body)):
            raise Unauthorized("signature does not match")

    def parse(self, delivery: Delivery) -> Event:
        """The notification's event through the topic table; other topics and our own notes are ignored."""
        data = read_json(delivery.body)
        topic = data.get("topic") if isinstance(data, dict) else None
        handler = TOPICS.get(topic) if isinstance(topic, str) else None
        if handler is None:
            raise UnsupportedEvent(f"Intercom topic {topic!r} is not handled")
        envelope = load(NotificationSchema(), data)
        ticket, complete = handler(envelope["data"].get("item"))
        return Event(envelope["id"], topic, normalized_ticket(self.name, ticket, "data.item"), complete=complete)

    # --- REST API -------------------------------------------------------------------

    @property
    def can_write_back(self) -> bool:
        """Notes need an access token and the admin they are written as."""
        return bool(self.setting("API_TOKEN") and self.setting("ADMIN_ID"))

    def _api(self) -> ApiClient:
        """A client for the workspace's API host (US by default; EU and AU hosts through BASE_URL)."""
        token = self.setting("API_TOKEN")
        if not token:
            raise NotConfigured("TRUSTDESK_INTERCOM_API_TOKEN is not set")
        return ApiClient(self.setting("BASE_URL") or DEFAULT_BASE_URL,
                         headers={"Authorization": f"Bearer {token}",
                                  "Intercom-Version": self.setting("API_VERSION") or API_VERSION})

    def _get(self, api: ApiClient, ticket_id: str) -> tuple[str, str, dict]:
        """The conversation or ticket behind a normalized id, as loaded."""
        kind, raw = _split(ticket_id)
        obj = api.json("GET", f"/{kind}/{raw}") or {}
        schema = TicketSchema() if kind == "tickets" else ConversationSchema()
        return kind, raw, load(schema, obj, kind)

    def fetch_ticket(self, ticket_id: str) -> dict:
        """The whole conversation (up to the 500 parts Intercom returns) without our notes."""
        kind, _, obj = self._get(self._api(), ticket_id)
        ticket = ticket_ticket(obj) if kind == "tickets" else conversation_ticket(obj)
        return {"source": self.name, **ticket}

    def recent_tickets(self, since: datetime) -> Iterator[str]:
        """Conversations updated since `since`, through POST /conversations/search and its cursor."""
        api = self._api()
        query = {"query": {"field": "updated_at", "operator": ">", "value": int(since.timestamp())},
                 "pagination": {"per_page": SEARCH_PAGE_SIZE}}
        for page in api.searched_pages("/conversations/search", query, _next_search):
            for conversation in page.get("conversations") or []:
                yield str(conversation["id"])

    def write_back(self, note: Note) -> None:
        """One admin note (unless its marker is there already), then each missing tag attached by id."""
        admin_id = self.setting("ADMIN_ID")
        if not admin_id:
            raise NotConfigured("TRUSTDESK_INTERCOM_ADMIN_ID is needed to write notes")
        api = self._api()
        kind, raw, obj = self._get(api, note.ticket_id)
        parts_key = "ticket_parts" if kind == "tickets" else "conversation_parts"
        parts = (obj.get(parts_key) or {}).get(parts_key) or []
        if not any(note.marker in (part.get("body") or "") for part in parts):
            api.request("POST", f"/{kind}/{raw}/reply",
                        json={"message_type": "note", "type": "admin", "admin_id": admin_id, "body": note.html})
        present = set(_tags(obj))
        for name in note.tags:
            if name in present:
                continue
            tag = api.json("POST", "/tags", json={"name": name}) or {}
            if not tag.get("id"):
                raise AdapterError(f"POST /tags answered without a tag id for {name!r}")
            api.request("POST", f"/{kind}/{raw}/tags", json={"id": str(tag["id"]), "admin_id": admin_id})
