"""Verify and parse Help Scout webhooks, and write notes and tags back through the Mailbox API 2.0.

Signature: `X-HelpScout-Signature` = base64 of HMAC-SHA1 over the raw body, keyed
with the webhook's secret (TRUSTDESK_HELPSCOUT_WEBHOOK_SECRET). Help Scout sends
no timestamp, so there is no replay window.

The event name travels in `X-HelpScout-Event`, outside the signed body. When the
header is there it wins; when it is missing (a replayed body, a test harness) the
event is inferred from the conversation itself: its newest thread says whether a
customer or an agent replied or a note was added, and a newest thread that is a
line item (status, assignment, tag changes) means there is nothing to read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping

from marshmallow import Schema

from ..base import (Adapter, BadPayload, Delivery, Event, NotConfigured, Note, Unauthorized, UnsupportedEvent,
                    is_ours, same)
from ..http import ApiClient
from ..payloads import digest, load, normalized_ticket, read_json, utc_z
from .schemas import ConversationPageSchema, ConversationSchema, ThreadPageSchema

DEFAULT_BASE_URL = "https://api.helpscout.net"
SIGNATURE_HEADER = "X-HelpScout-Signature"
EVENT_HEADER = "X-HelpScout-Event"
# Event -> the kinds of thread whose arrival it announces (the dispatch table).
EVENTS: dict[str, frozenset[str]] = {
    "convo.created": frozenset({"customer", "agent", "note"}),
    "convo.customer.reply.created": frozenset({"customer"}),
    "convo.agent.reply.created": frozenset({"agent"}),
    "convo.note.created": frozenset({"note"}),
}
_INFERRED = {"customer": "convo.customer.reply.created", "agent": "convo.agent.reply.created",
             "note": "convo.note.created"}
# Threads written by whoever `createdBy` names, rather than by their type.
_BY_CREATOR = {"chat", "phone", "beaconchat"}
TOKEN_MARGIN = 60.0


def sign(secret: str, body: bytes) -> str:
    """The X-HelpScout-Signature value for a body."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha1).digest()).decode("ascii")


def thread_kind(thread: Mapping[str, Any]) -> str | None:
    """customer, agent (a public reply) or note for a thread with a message; None for line items and forwards."""
    kind = thread.get("type")
    if kind == "customer":
        return "customer"
    if kind in ("message", "reply"):
        return "agent"
    if kind == "note":
        return "note"
    if kind in _BY_CREATOR:
        return "customer" if (thread.get("createdBy") or {}).get("type") == "customer" else "agent"
    return None


def _is_message(thread: Mapping[str, Any]) -> bool:
    """A published thread with a body that a person wrote (drafts, line items and forwards are not)."""
    return thread_kind(thread) is not None and thread.get("state") in (None, "published") and bool(thread.get("body"))


def _newest(threads: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The latest thread by creation time (ties: the higher id)."""
    return max(threads, key=lambda t: (t.get("createdAt") or "", t.get("id") or 0), default=None)


def infer_event(data: Any) -> str | None:
    """The event a conversation body most likely announces, for deliveries without X-HelpScout-Event."""
    threads = ((data.get("_embedded") or {}).get("threads") if isinstance(data, dict) else None)
    if not isinstance(threads, list) or not all(isinstance(t, dict) for t in threads):
        return None
    newest = _newest(threads)
    kind = thread_kind(newest) if newest else None
    if kind is None:
        return None
    return "convo.created" if sum(map(_is_message, threads)) == 1 else _INFERRED[kind]


def _name(person: Mapping[str, Any] | None) -> str | None:
    """A person's full name from first/last."""
    parts = [p for p in ((person or {}).get("first"), (person or {}).get("last")) if p]
    return " ".join(parts) or None


def _message(thread: Mapping[str, Any]) -> dict:
    """A normalized message from a thread; notes are the agents' private messages."""
    kind = thread_kind(thread)
    author = thread.get("createdBy") or thread.get("customer") or {}
    return {"id": thread["id"], "author_role": "customer" if kind == "customer" else "agent",
            "author": {"id": author.get("id"), "name": _name(author)}, "body": thread["body"],
            "created_at": thread.get("createdAt"), "public": kind != "note"}


def _hal_pages(api: ApiClient, path: str, params: dict, schema: Schema) -> Iterator[dict]:
    """Each page of a HAL list (loaded with `schema`), up to its `page.totalPages`."""
    for number, answer in enumerate(api.numbered_pages(path, params), start=1):
        page = load(schema, answer)
        yield page
        if number >= (page.get("page") or {}).get("totalPages", 1):
            return


class HelpScoutAdapter(Adapter):
    """Help Scout mailboxes: signed webhooks in, notes and tags out through the Mailbox API 2.0."""

    name = "helpscout"
    event_types = tuple(EVENTS)

    def __init__(self, settings: Mapping[str, str]):
        super().__init__(settings)
        self._token: tuple[str, float] | None = None

    @classmethod
    def signature_headers(cls, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """Headers of a signed delivery (without X-HelpScout-Event, which the body does not determine)."""
        return {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}

    def verify(self, delivery: Delivery) -> None:
        """Refuse unless X-HelpScout-Signature matches the raw body."""
        if not self.secret:
            raise NotConfigured("TRUSTDESK_HELPSCOUT_WEBHOOK_SECRET is not set: Help Scout deliveries are refused")
        signature = delivery.header(SIGNATURE_HEADER)
        if not signature:
            raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
        if not same(signature.strip(), sign(self.secret, delivery.body)):
            raise Unauthorized(f"{SIGNATURE_HEADER} does not match the body")

    def parse(self, delivery: Delivery) -> Event:
        """The conversation of a message event; the event from its header, else inferred from the body."""
        data = read_json(delivery.body)
        event = (delivery.header(EVENT_HEADER) or "").strip() or infer_event(data)
        if event not in EVENTS:
            raise UnsupportedEvent(f"Help Scout event {event or 'unknown'} carries no new message")
        conversation = load(ConversationSchema(), data)
        if not (conversation.get("embedded") or {}).get("threads"):
            return self._from_preview(event, conversation)
        threads = conversation["embedded"]["threads"]
        new = _newest(t for t in threads if _is_message(t) and thread_kind(t) in EVENTS[event])
        if new is None:
            raise BadPayload(f"_embedded.threads: no {event} thread", {"_embedded": {"threads": ["No new message."]}})
        if is_ours(new.get("body")):
            raise UnsupportedEvent("a note Trustdesk wrote")
        count = conversation.get("threads") or conversation.get("threadCount")
        complete = isinstance(count, int) and len(threads) >= count
        return Event(f"{conversation['id']}:{new['id']}", event, self._ticket(conversation, threads), complete)

    def _from_preview(self, event: str, conversation: Mapping[str, Any]) -> Event:
        """A delivery without embedded threads: its preview as the new message, the rest fetched later.

        A note cannot be told apart from ours without its body, so a note event is ignored.
        """
        preview = conversation.get("preview")
        if event == "convo.note.created" or not preview or is_ours(preview):
            raise UnsupportedEvent(f"{event} without embedded threads: nothing to read")
        by_customer = (event == "convo.customer.reply.created" or event == "convo.created"
                       and (conversation.get("createdBy") or {}).get("type") == "customer")
        message = {"id": None, "author_role": "customer" if by_customer else "agent", "body": preview}
        ticket = self._ticket(conversation, [], extra=[message])
        return Event(f"{conversation['id']}:{event}:{digest(preview)}", event, ticket, complete=False)

    def _ticket(self, conversation: Mapping[str, Any], threads: Iterable[Mapping[str, Any]],
                extra: list[dict] | None = None) -> dict:
        """The normalized ticket: the conversation's messages oldest first, without Trustdesk's notes."""
        ordered = sorted((t for t in threads if _is_message(t) and not is_ours(t["body"])),
                         key=lambda t: (t.get("createdAt") or "", t["id"]))
        customer, assignee = conversation.get("primaryCustomer") or {}, conversation.get("assignee")
        return normalized_ticket(self.name, {
            "id": conversation["id"], "subject": conversation.get("subject"),
            "status": conversation.get("status"), "tags": conversation.get("tags") or [],
            "created_at": conversation.get("createdAt"), "updated_at": conversation.get("userUpdatedAt"),
            "requester": {"id": customer.get("id"), "name": _name(customer), "email": customer.get("email")},
            "assignee": {"id": assignee.get("id"), "name": _name(assignee)} if assignee else None,
            "messages": [_message(t) for t in ordered] + (extra or [])})

    # --- Mailbox API 2.0 --------------------------------------------------------------

    @property
    def _base_url(self) -> str:
        """The API host: BASE_URL when set (a proxy, a test double), else Help Scout's."""
        return self.setting("BASE_URL") or DEFAULT_BASE_URL

    @property
    def can_write_back(self) -> bool:
        """An app's client id and secret (client-credentials flow), or a ready-made access token."""
        return bool(self.setting("API_TOKEN") or (self.setting("CLIENT_ID") and self.setting("CLIENT_SECRET")))

    def _access_token(self) -> str:
        """API_TOKEN as is, else a client-credentials token, kept until a minute before it expires."""
        if self.setting("API_TOKEN"):
            return self.setting("API_TOKEN")
        if not self.can_write_back:
            raise NotConfigured("TRUSTDESK_HELPSCOUT_CLIENT_ID and _CLIENT_SECRET (or _API_TOKEN) are needed")
        if self._token and self._token[1] > time.time():
            return self._token[0]
        answer = ApiClient(self._base_url).json("POST", "/v2/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": self.setting("CLIENT_ID"),
            "client_secret": self.setting("CLIENT_SECRET")}) or {}
        token = answer.get("access_token")
        if not token:
            raise NotConfigured("Help Scout issued no access token for these client credentials")
        self._token = (token, time.time() + float(answer.get("expires_in") or 0) - TOKEN_MARGIN)
        return token

    def _api(self) -> ApiClient:
        """A client for the Mailbox API with a Bearer token."""
        return ApiClient(self._base_url, headers={"Authorization": f"Bearer {self._access_token()}"})

    def _threads(self, api: ApiClient, conversation_id: str) -> Iterator[dict]:
        """Every thread of a conversation, following the HAL pages."""
        for page in _hal_pages(api, f"/v2/conversations/{conversation_id}/threads", {}, ThreadPageSchema()):
            yield from (page.get("embedded") or {}).get("threads") or []

    def fetch_ticket(self, ticket_id: str) -> dict:
        """The conversation with all its threads (every page), without Trustdesk's notes."""
        api = self._api()
        conversation = load(ConversationSchema(), api.json("GET", f"/v2/conversations/{ticket_id}"))
        return self._ticket(conversation, list(self._threads(api, ticket_id)))

    def recent_tickets(self, since: datetime) -> Iterable[str]:
        """Ids of conversations modified since `since`, in any status, page by page."""
        params = {"status": "all", "modifiedSince": utc_z(since)}
        for page in _hal_pages(self._api(), "/v2/conversations", params, ConversationPageSchema()):
            yield from (str(c["id"]) for c in (page.get("embedded") or {}).get("conversations") or [])

    def write_back(self, note: Note) -> None:
        """Post one note unless its marker is there, then PUT the merged tag set (the API replaces it)."""
        api = self._api()
        conversation_path = f"/v2/conversations/{note.ticket_id}"
        if not any(note.marker in (t.get("body") or "") for t in self._threads(api, note.ticket_id)):
            api.request("POST", f"{conversation_path}/notes", json={"text": note.html})
        conversation = load(ConversationSchema(), api.json("GET", conversation_path))
        current = list(conversation.get("tags") or [])
        missing = [tag for tag in note.tags if tag not in current]
        if missing:
            api.request("PUT", f"{conversation_path}/tags", json={"tags": current + missing})
