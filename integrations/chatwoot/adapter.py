"""Verify and parse Chatwoot webhooks, and write a private note and labels back through the API.

Signature (Chatwoot releases with per-webhook secrets):
`X-Chatwoot-Signature: sha256=<hex HMAC-SHA256 of "<X-Chatwoot-Timestamp>.<raw body>">`
keyed with the webhook's secret, `X-Chatwoot-Timestamp` in unix seconds (refused when
more than five minutes off) and `X-Chatwoot-Delivery`, a delivery id kept across
retries. Older releases do not sign: then, and only when no signature header is
present, the shared secret is accepted as the HTTP Basic password in the webhook URL
or in X-Trustdesk-Token.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import datetime
from typing import Callable, Iterable, Iterator

from ..base import (Adapter, Delivery, Event, NotConfigured, Note, Unauthorized, UnsupportedEvent, check_fresh,
                    hmac_sha256_hex, is_ours, same, verify_shared_secret)
from ..http import ApiClient
from ..payloads import load, normalized_ticket, read_json
from .schemas import ConversationSchema, MessageCreatedSchema, MessageSchema

SIGNATURE_HEADER = "X-Chatwoot-Signature"
TIMESTAMP_HEADER = "X-Chatwoot-Timestamp"
DELIVERY_HEADER = "X-Chatwoot-Delivery"
SECRET_SETTING = "TRUSTDESK_CHATWOOT_WEBHOOK_SECRET"
DEFAULT_BASE_URL = "https://app.chatwoot.com"
TOLERANCE_SECONDS = 300
MESSAGE_CREATED = "message_created"
# Who wrote a message, by its type; activity (status changes) and template (bot forms) are not conversation.
ROLES = {"incoming": "customer", "outgoing": "agent"}


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Chatwoot-Signature value for a body sent at `timestamp`."""
    return "sha256=" + hmac_sha256_hex(secret, f"{timestamp}.".encode("ascii") + body)


def author_role(message_type: str) -> str | None:
    """Incoming messages are the contact's, outgoing ones (agents, bots, private notes) the company's."""
    return ROLES.get(message_type)


def message(loaded: dict) -> dict:
    """One loaded message as a normalized message; a private note is not public."""
    sender = loaded["sender"] or {}
    return {"id": loaded["id"], "author_role": ROLES[loaded["message_type"]],
            "author": {"id": sender.get("id"), "name": sender.get("name")},
            "body": loaded["content"] or "", "created_at": loaded["created_at"], "public": not loaded["private"]}


def conversation_id(conversation: dict) -> str:
    """The id the API uses in paths (upstream sends it as `id`; some builds add `display_id`)."""
    return conversation["display_id"] or conversation["id"]


def ticket_fields(conversation: dict) -> dict:
    """The normalized ticket's fields (all but messages) from a loaded conversation."""
    meta = conversation["meta"] or {}
    contact, assignee, team = meta.get("sender") or {}, meta.get("assignee"), meta.get("team") or {}
    return {
        "id": conversation_id(conversation),
        "status": conversation["status"], "tags": conversation["labels"] or [],
        "created_at": conversation["created_at"], "updated_at": conversation["timestamp"],
        "requester": {"id": contact.get("id"), "name": contact.get("name"), "email": contact.get("email")},
        "assignee": {"id": assignee.get("id"), "name": assignee.get("name"), "team": team.get("name")} if assignee else None,
    }


class ChatwootAdapter(Adapter):
    """Chatwoot (cloud or self-hosted): account webhooks in, private notes and labels out."""

    name = "chatwoot"
    event_types = (MESSAGE_CREATED,)
    replay_window = TOLERANCE_SECONDS

    # --- inbound ------------------------------------------------------------------

    def verify(self, delivery: Delivery) -> None:
        """A signed delivery must carry a fresh timestamp and a matching signature; an unsigned one the secret."""
        if not self.secret:
            raise NotConfigured(f"{SECRET_SETTING} is not set: Chatwoot deliveries are refused")
        signature = delivery.header(SIGNATURE_HEADER)
        if signature is None:  # a release that does not sign: the shared secret instead
            verify_shared_secret(delivery, self.secret, SECRET_SETTING)
            return
        timestamp = (delivery.header(TIMESTAMP_HEADER) or "").strip()
        if not timestamp.isdigit():
            raise Unauthorized(f"a signed delivery needs {TIMESTAMP_HEADER} in unix seconds")
        check_fresh(delivery, int(timestamp), TIMESTAMP_HEADER, TOLERANCE_SECONDS)
        if not same(signature.strip(), sign(self.secret, timestamp, delivery.body)):
            raise Unauthorized("signature does not match")

    @classmethod
    def signature_headers(cls, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """The headers of a genuine signed delivery (the delivery id is derived from the body, so it is stable)."""
        timestamp = str(int(time.time() if now is None else now))
        return {SIGNATURE_HEADER: sign(secret, timestamp, body), TIMESTAMP_HEADER: timestamp,
                DELIVERY_HEADER: str(uuid.uuid5(uuid.NAMESPACE_URL, hashlib.sha256(body).hexdigest())),
                "Content-Type": "application/json"}

    def parse(self, delivery: Delivery) -> Event:
        """Dispatch on the `event` field; only new conversation messages are analysed."""
        data = read_json(delivery.body)
        event = data.get("event") if isinstance(data, dict) else None
        handler = self._handlers().get(event) if isinstance(event, str) else None
        if handler is None:
            raise UnsupportedEvent(f"chatwoot: {event or 'an unknown'} event carries no new message to analyse")
        return handler(delivery, data)

    def _handlers(self) -> dict[str, Callable[[Delivery, dict], Event]]:
        return {MESSAGE_CREATED: self._message_created}

    def _message_created(self, delivery: Delivery, data: dict) -> Event:
        """The conversation with its one new message (the rest is fetched later)."""
        msg = load(MessageCreatedSchema(), data)
        if author_role(msg["message_type"]) is None:
            raise UnsupportedEvent(f"chatwoot: {msg['message_type']} messages are not part of the conversation")
        if is_ours(msg["content"]):
            raise UnsupportedEvent("chatwoot: the message is Trustdesk's own private note")
        account = self.setting("ACCOUNT_ID")
        if account and msg["account"] and msg["account"]["id"] != account:
            raise UnsupportedEvent(f"chatwoot: account {msg['account']['id']} is not the configured account")
        ticket_id = conversation_id(msg["conversation"])
        event_id = delivery.header(DELIVERY_HEADER) or f"{ticket_id}:{msg['id']}:{MESSAGE_CREATED}"
        ticket = normalized_ticket(self.name, {**ticket_fields(msg["conversation"]), "messages": [message(msg)]},
                                   "conversation")
        return Event(event_id.strip(), MESSAGE_CREATED, ticket, complete=False)

    # --- the API ------------------------------------------------------------------------

    @property
    def can_write_back(self) -> bool:
        """Write-back needs the account id and a user access token (the base URL has a default)."""
        return bool(self.setting("ACCOUNT_ID") and self.setting("API_TOKEN"))

    def _api(self) -> tuple[ApiClient, str]:
        account, token = self.setting("ACCOUNT_ID"), self.setting("API_TOKEN")
        if not account or not token:
            raise NotConfigured("TRUSTDESK_CHATWOOT_ACCOUNT_ID and TRUSTDESK_CHATWOOT_API_TOKEN are needed for the API")
        client = ApiClient(self.setting("BASE_URL") or DEFAULT_BASE_URL, headers={"api_access_token": token})
        return client, f"/api/v1/accounts/{account}/conversations"

    def _pages(self, api: ApiClient, path: str) -> Iterator[list[dict]]:
        """The conversation's messages, newest page first, following the `before` cursor."""
        before: int | None = None
        while True:
            answer = api.json("GET", f"{path}/messages", params={"before": before} if before else None) or {}
            page = [m for m in answer.get("payload") or [] if isinstance(m, dict) and str(m.get("id", "")).isdigit()]
            oldest = min((int(m["id"]) for m in page), default=None)
            if oldest is None or (before is not None and oldest >= before):
                return
            yield page
            before = oldest

    def fetch_ticket(self, ticket_id: str) -> dict:
        """The conversation with all its messages (every page), without activities, templates and our notes."""
        api, conversations = self._api()
        path = f"{conversations}/{ticket_id}"
        conversation = load(ConversationSchema(), api.json("GET", path) or {})
        raw = [m for page in self._pages(api, path) for m in page]
        msgs = sorted((load(MessageSchema(), m) for m in raw), key=lambda m: (m["created_at"] or "", int(m["id"])))
        kept = [message(m) for m in msgs if author_role(m["message_type"]) and not is_ours(m["content"])]
        if not kept:
            raise UnsupportedEvent(f"chatwoot conversation {ticket_id} has no messages besides ours")
        return normalized_ticket(self.name, {**ticket_fields(conversation), "messages": kept},
                                 f"conversation {ticket_id}")

    def recent_tickets(self, since: datetime) -> Iterable[str]:
        """Ids of conversations active since `since`; the list is sorted by last activity, newest first."""
        return self._recent(*self._api(), since.timestamp())

    def _recent(self, api: ApiClient, conversations: str, since: float) -> Iterator[str]:
        seen: set[str] = set()
        for answer in api.numbered_pages(conversations, {"status": "all"}):
            items = [c for c in ((answer or {}).get("data") or {}).get("payload") or [] if isinstance(c, dict)]
            ids = [str(c.get("display_id") or c.get("id")) for c in items]
            if not items or seen.issuperset(ids):  # the end, or a server that ignores `page`
                return
            for item, ticket_id in zip(items, ids):
                active = item.get("last_activity_at") or item.get("timestamp") or 0
                if isinstance(active, (int, float)) and active < since:
                    return
                if ticket_id not in seen:
                    seen.add(ticket_id)
                    yield ticket_id

    def write_back(self, note: Note) -> None:
        """One private note (unless its marker is there), then the labels: read, merge, write the whole set."""
        api, conversations = self._api()
        path = f"{conversations}/{note.ticket_id}"
        # Newest pages first: a note we posted for this event is near the end, so the scan stops early.
        if not any(note.marker in (m.get("content") or "") for page in self._pages(api, path) for m in page):
            api.request("POST", f"{path}/messages",
                        json={"content": note.text, "message_type": "outgoing", "private": True})
        current = (api.json("GET", f"{path}/labels") or {}).get("payload") or []
        merged = [*current, *(t for t in note.tags if t not in current)]
        if merged != current:  # POST replaces the conversation's labels with this list
            api.request("POST", f"{path}/labels", json={"labels": merged})
