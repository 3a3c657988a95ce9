"""Verify and parse Front webhook events, and write internal comments and tags back through the Core API.

Application webhooks (primary): `X-Front-Signature` is the base64 HMAC-SHA256 of
`"<X-Front-Request-Timestamp>:" + raw body`, keyed with the app's signing key
(TRUSTDESK_FRONT_WEBHOOK_SECRET); the timestamp is in milliseconds and more than
five minutes off is refused. Saving the webhook sends a signed `sync` request
with `X-Front-Challenge`, answered by `handshake`.

Rule webhooks (opt-in): no timestamp, `X-Front-Signature` is the base64
HMAC-SHA1 of the raw body keyed with the API secret of Front's Webhooks
integration (TRUSTDESK_FRONT_RULE_SECRET). Without that setting a delivery
without a timestamp is refused, so the replay-protected scheme cannot be
bypassed by dropping the timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime
from functools import partial
from typing import Any, Callable, Iterator
from urllib.parse import quote

from ..base import (Adapter, AdapterError, Delivery, Event, Handshake, NotConfigured, Note, Unauthorized,
                    UnsupportedEvent, check_fresh, is_ours, same)
from ..http import ApiClient
from ..payloads import iso_from_unix, load, normalized_ticket, read_json
from .schemas import CommentSchema, ConversationSchema, EventSchema, MessageSchema, TagSchema

SIGNATURE_HEADER = "X-Front-Signature"
TIMESTAMP_HEADER = "X-Front-Request-Timestamp"
CHALLENGE_HEADER = "X-Front-Challenge"
DEFAULT_BASE_URL = "https://api2.frontapp.com"
TOLERANCE_SECONDS = 300
# Application webhooks name their deliveries after the app event; the event object inside keeps Front's type.
APP_TYPES = {"inbound_received": "inbound", "outbound_sent": "outbound", "new_comment_added": "comment"}
# Events that mean a conversation gained a message, for backfill (GET /events allows 15 a page).
MESSAGE_EVENTS = ("inbound", "outbound", "out_reply")
EVENTS_PAGE_SIZE = 15


def _b64_hmac(secret: str, message: bytes, digest: Any) -> str:
    """Base64 of an HMAC, as Front encodes its signatures."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message, digest).digest()).decode("ascii")


def app_signature(secret: str, timestamp: str, body: bytes) -> str:
    """X-Front-Signature of an application webhook sent at `timestamp` (milliseconds)."""
    return _b64_hmac(secret, f"{timestamp}:".encode("ascii") + body, hashlib.sha256)


def rule_signature(secret: str, body: bytes) -> str:
    """X-Front-Signature of a rule webhook."""
    return _b64_hmac(secret, body, hashlib.sha1)


def _teammate(person: dict | None) -> dict | None:
    """A teammate as a normalized person."""
    if not person:
        return None
    full = " ".join(p for p in (person.get("first_name"), person.get("last_name")) if p)
    return {"id": person.get("id"), "name": full or person.get("username") or person.get("email")}


def _contact_id(recipient: dict) -> str | None:
    """The contact id (crd_...) at the end of a recipient's contact link."""
    link = ((recipient.get("links") or {}).get("related") or {}).get("contact")
    return link.rstrip("/").rsplit("/", 1)[-1] if isinstance(link, str) and link else None


def _sender(message: dict) -> dict | None:
    """The customer who sent an inbound message: its `from` recipient."""
    sender = next((r for r in message.get("recipients") or [] if r.get("role") == "from"), None)
    if not sender:
        return None
    return {"id": _contact_id(sender), "name": sender.get("name") or sender.get("handle")}


def message_entry(message: dict, inbound_by_default: bool | None = None) -> dict:
    """A normalized message; `is_inbound` decides the role, the event type when a preview leaves it out."""
    inbound = message["is_inbound"] if message.get("is_inbound") is not None else inbound_by_default
    body = message.get("body") or message.get("text") or message.get("blurb") or ""
    return {"id": message["id"], "author_role": "customer" if inbound else "agent", "body": body,
            "author": _sender(message) if inbound else _teammate(message.get("author")),
            "created_at": iso_from_unix(message.get("created_at")), "public": True}


def comment_entry(comment: dict) -> dict:
    """A normalized internal comment: a private agent note."""
    return {"id": comment["id"], "author_role": "agent", "body": comment.get("body") or "",
            "author": _teammate(comment.get("author")), "created_at": iso_from_unix(comment.get("posted_at")),
            "public": False}


def conversation_fields(conv: dict) -> dict:
    """Everything of a normalized ticket but its messages."""
    recipient = conv.get("recipient") or {}
    handle = recipient.get("handle")
    requester = ({"id": _contact_id(recipient), "name": recipient.get("name"),
                  "email": handle if handle and "@" in handle else None} if recipient else None)
    return {"id": conv["id"], "subject": conv.get("subject"), "status": conv.get("status"),
            "tags": [t["name"] for t in conv.get("tags") or [] if t.get("name")],
            "created_at": iso_from_unix(conv.get("created_at")), "requester": requester,
            "assignee": _teammate(conv.get("assignee"))}


def _on_message(event: dict, inbound: bool) -> dict:
    """inbound / outbound / out_reply: the conversation with the one message the event is about."""
    message = load(MessageSchema(), event["target"].get("data"), "target.data")
    return {**conversation_fields(event["conversation"]), "messages": [message_entry(message, inbound)]}


def _on_comment(event: dict) -> dict:
    """comment: a teammate's internal comment; ours coming back is ignored."""
    comment = load(CommentSchema(), event["target"].get("data"), "target.data")
    if is_ours(comment.get("body")):
        raise UnsupportedEvent("our own comment came back")
    return {**conversation_fields(event["conversation"]), "messages": [comment_entry(comment)]}


def _next_page(page: Any, response: Any) -> str | None:
    """A list's next page: `_pagination.next`, an absolute URL with its query."""
    return ((page or {}).get("_pagination") or {}).get("next")


HANDLERS: dict[str, Callable[[dict], dict]] = {
    "inbound": partial(_on_message, inbound=True),
    "outbound": partial(_on_message, inbound=False),
    "out_reply": partial(_on_message, inbound=False),
    "comment": _on_comment,
}


def _unwrap(data: Any) -> tuple[dict, str | None]:
    """The event object and its type, from a rule webhook (the event) or an application webhook (the envelope)."""
    if not isinstance(data, dict):
        raise UnsupportedEvent("a Front delivery is a JSON object")
    if isinstance(data.get("payload"), dict):
        event = data["payload"]
        return event, event.get("type") or APP_TYPES.get(data.get("type"))
    if data.get("type") == "sync":
        raise UnsupportedEvent("Front's validation request carries no event")
    return data, data.get("type")


class FrontAdapter(Adapter):
    """Front: application (or rule) webhooks in, internal comments and tags out."""

    name = "front"
    event_types = tuple(HANDLERS)
    replay_window = TOLERANCE_SECONDS

    @property
    def secret(self) -> str | None:
        """The app signing key, or the rule-webhook API secret where only rule webhooks are used."""
        return self.setting("WEBHOOK_SECRET") or self.setting("RULE_SECRET")

    @classmethod
    def signature_headers(cls, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """Headers of a genuine application webhook delivery."""
        timestamp = str(int((time.time() if now is None else now) * 1000))
        return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: app_signature(secret, timestamp, body),
                "Content-Type": "application/json"}

    def verify(self, delivery: Delivery) -> None:
        """Refuse unless the delivery carries a valid application (or enabled rule) webhook signature."""
        if not self.secret:
            raise NotConfigured("TRUSTDESK_FRONT_WEBHOOK_SECRET is not set: Front deliveries are refused")
        signature = (delivery.header(SIGNATURE_HEADER) or "").strip()
        if not signature:
            raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
        timestamp = delivery.header(TIMESTAMP_HEADER)
        if timestamp is None:
            self._verify_rule(delivery, signature)
            return
        key = self.setting("WEBHOOK_SECRET")
        if not key or not timestamp.strip().isdigit():
            raise Unauthorized(f"{TIMESTAMP_HEADER} must be milliseconds, with the app signing key configured")
        check_fresh(delivery, int(timestamp) / 1000, TIMESTAMP_HEADER, TOLERANCE_SECONDS)
        if not same(signature, app_signature(key, timestamp.strip(), delivery.body)):
            raise Unauthorized("signature does not match")

    def _verify_rule(self, delivery: Delivery, signature: str) -> None:
        """A rule webhook: accepted only where its API secret is configured."""
        key = self.setting("RULE_SECRET")
        if not key:
            raise Unauthorized(f"no {TIMESTAMP_HEADER}, and rule webhooks are not enabled (TRUSTDESK_FRONT_RULE_SECRET)")
        if not same(signature, rule_signature(key, delivery.body)):
            raise Unauthorized("signature does not match")

    def handshake(self, delivery: Delivery) -> Handshake | None:
        """Front's validation on saving an application webhook: echo X-Front-Challenge."""
        challenge = delivery.header(CHALLENGE_HEADER)
        if not challenge:
            return None
        return Handshake(json.dumps({"challenge": challenge}), "application/json")

    def parse(self, delivery: Delivery) -> Event:
        """The event through the type table; one message each, so never the whole conversation."""
        raw, event_type = _unwrap(read_json(delivery.body))
        handler = HANDLERS.get(event_type) if isinstance(event_type, str) else None
        if handler is None:
            raise UnsupportedEvent(f"Front event type {event_type!r} is not handled")
        event = load(EventSchema(), {**raw, "type": event_type}, "event")
        ticket = normalized_ticket(self.name, handler(event), "event")
        return Event(event["id"], event_type, ticket, complete=False)

    # --- Core API -------------------------------------------------------------------

    @property
    def can_write_back(self) -> bool:
        """Comments and tags need an API token."""
        return bool(self.setting("API_TOKEN"))

    def _api(self) -> ApiClient:
        """A client for Front's Core API."""
        token = self.setting("API_TOKEN")
        if not token:
            raise NotConfigured("TRUSTDESK_FRONT_API_TOKEN is not set")
        return ApiClient(self.setting("BASE_URL") or DEFAULT_BASE_URL, headers={"Authorization": f"Bearer {token}"})

    @staticmethod
    def _pages(api: ApiClient, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every `_results` item of a list, following `_pagination.next` (an absolute URL with its query)."""
        for page in api.pages(path, _next_page, params):
            yield from (page or {}).get("_results") or []

    def fetch_ticket(self, ticket_id: str) -> dict:
        """The conversation with all its messages and teammates' comments, oldest first, without ours."""
        api, cid = self._api(), quote(ticket_id, safe="")
        conv = load(ConversationSchema(), api.json("GET", f"/conversations/{cid}"), "conversation")
        messages = [message_entry(load(MessageSchema(), m, "message"))
                    for m in self._pages(api, f"/conversations/{cid}/messages") if not m.get("is_draft")]
        comments = [comment_entry(load(CommentSchema(), c, "comment"))
                    for c in self._pages(api, f"/conversations/{cid}/comments")]
        entries = [m for m in messages + comments if not is_ours(m["body"])]
        entries.sort(key=lambda m: m["created_at"] or "")
        return {"source": self.name, **conversation_fields(conv), "messages": entries}

    def recent_tickets(self, since: datetime) -> Iterator[str]:
        """Conversations that gained a message since `since`, from GET /events (q[after], q[types])."""
        params = {"q[after]": f"{since.timestamp():.3f}", "q[types]": list(MESSAGE_EVENTS),
                  "limit": EVENTS_PAGE_SIZE}
        seen: set[str] = set()
        for event in self._pages(self._api(), "/events", params):
            cid = (event.get("conversation") or {}).get("id")
            if cid and cid not in seen:
                seen.add(cid)
                yield str(cid)

    def write_back(self, note: Note) -> None:
        """One internal comment (unless its marker is there already), then the tags added by id."""
        api, cid = self._api(), quote(note.ticket_id, safe="")
        comments = self._pages(api, f"/conversations/{cid}/comments")
        if not any(note.marker in (comment.get("body") or "") for comment in comments):
            comment = {"body": note.text}
            if self.setting("AUTHOR_ID"):
                comment["author_id"] = self.setting("AUTHOR_ID")
            api.request("POST", f"/conversations/{cid}/comments", json=comment)
        if note.tags:
            api.request("POST", f"/conversations/{cid}/tags", json={"tag_ids": self._tag_ids(api, note.tags)})

    def _tag_ids(self, api: ApiClient, names: tuple[str, ...]) -> list[str]:
        """Ids of the named tags, creating company tags that do not exist yet."""
        known = {}
        for raw in self._pages(api, "/tags"):
            tag = load(TagSchema(), raw, "tag")
            known.setdefault(tag.get("name"), tag.get("id"))
        ids = []
        for name in names:
            if not known.get(name):
                created = api.json("POST", "/company/tags", json={"name": name}) or {}
                if not created.get("id"):
                    raise AdapterError(f"POST /company/tags answered without a tag id for {name!r}")
                known[name] = created["id"]
            ids.append(str(known[name]))
        return ids
