"""Verify and parse Zammad trigger webhooks, and write an internal note and tags back through the REST API.

Signature: `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the raw body>` keyed with the
webhook's "HMAC SHA1 Signature Token" (TRUSTDESK_ZAMMAD_WEBHOOK_SECRET); Zammad
sends no timestamp, so there is no replay window. `X-Zammad-Delivery` is the id of
the delivery job and stays the same when Zammad retries it, so it is the event id.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator

from ..base import Adapter, Delivery, Event, NotConfigured, Note, Unauthorized, UnsupportedEvent, is_ours, same
from ..http import ApiClient
from ..payloads import load, normalized_ticket, read_json, utc_z
from .schemas import SENDER_ROLES, ArticleDeliverySchema, ArticleSchema, TicketSchema

SIGNATURE_HEADER = "X-Hub-Signature"
DELIVERY_HEADER = "X-Zammad-Delivery"
TRIGGER_HEADER = "X-Zammad-Trigger"
SECRET_SETTING = "TRUSTDESK_ZAMMAD_WEBHOOK_SECRET"
ARTICLE_CREATED = "article_created"
# Zammad's user 1 ("-") stands for "nobody": an owner of 1 means unassigned.
NOBODY = "1"
SEARCH_PAGE = 50


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature value Zammad sends for a body."""
    return "sha1=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def author_role(sender: str) -> str:
    """Customer articles are the customer's; Agent and System articles (auto-replies too) are the company's."""
    return SENDER_ROLES[sender]


def person_name(ref: dict | None) -> str | None:
    """A readable name for a user record (webhook object) or login (expanded API answer)."""
    if not ref:
        return None
    full = " ".join(p for p in (ref.get("firstname"), ref.get("lastname")) if p).strip()
    return full or ref.get("name") or ref.get("login") or ref.get("email")


def display_name(address: str | None) -> str | None:
    """"Emily Adams <emily@example.com>" -> "Emily Adams" (the name in an article's `from`)."""
    if not address:
        return None
    name = address.split("<", 1)[0].strip().strip('"')
    return name or address.strip()


def message(article: dict) -> dict:
    """One loaded article as a normalized message (HTML bodies are reduced to text by load_ticket)."""
    by = article["origin_by"] or article["created_by"]
    role = author_role(article["sender"])
    # A customer's name is best in `from` (an agent may have typed the article for them);
    # an agent's `from` reads "Agent via Group", so their user record names them better.
    sent, user = display_name(article["from_"]), person_name(by)
    return {
        "id": article["id"],
        "author_role": role,
        "author": {"id": article["origin_by_id"] or article["created_by_id"] or (by or {}).get("id"),
                   "name": (sent or user) if role == "customer" else (user or sent)},
        "body": article["body"] or "",
        "created_at": article["created_at"],
        "public": not article["internal"],
    }


def ticket_fields(ticket: dict) -> dict:
    """The normalized ticket's fields (all but messages) from a loaded Zammad ticket."""
    customer, owner, organization = ticket["customer"] or {}, ticket["owner"] or {}, ticket["organization"] or {}
    login = customer.get("login") or ""
    owner_id = ticket["owner_id"] or (str(owner["id"]) if owner.get("id") is not None else None)
    unassigned = not owner or owner_id == NOBODY or owner.get("login") == "-"
    return {
        "id": ticket["id"],
        "subject": ticket["title"],
        "status": (ticket["state"] or {}).get("name"),
        "tags": ticket["tags"],
        "created_at": ticket["created_at"],
        "updated_at": ticket["updated_at"],
        "requester": {"id": ticket["customer_id"] or customer.get("id"), "name": person_name(customer),
                      "email": customer.get("email") or (login if "@" in login else None),
                      "organization": organization.get("name") or customer.get("organization")},
        "assignee": None if unassigned else {"id": owner_id, "name": person_name(owner),
                                             "team": (ticket["group"] or {}).get("name")},
    }


def _numeric(ticket_id: str) -> int | str:
    """Zammad ids are integers; send them as JSON numbers where they look like one."""
    return int(ticket_id) if str(ticket_id).isdigit() else ticket_id


class ZammadAdapter(Adapter):
    """Zammad (self-hosted or hosted): trigger webhooks in, internal notes and tags out."""

    name = "zammad"
    event_types = (ARTICLE_CREATED,)

    # --- inbound ------------------------------------------------------------------

    def verify(self, delivery: Delivery) -> None:
        """Refuse unless X-Hub-Signature is the HMAC-SHA1 of the raw body under our secret."""
        if not self.secret:
            raise NotConfigured(f"{SECRET_SETTING} is not set: Zammad deliveries are refused")
        signature = delivery.header(SIGNATURE_HEADER)
        if not signature:
            raise Unauthorized(f"missing {SIGNATURE_HEADER} header (set the webhook's HMAC SHA1 Signature Token)")
        if not same(signature.strip().lower(), sign(self.secret, delivery.body)):
            raise Unauthorized("signature does not match")

    @classmethod
    def signature_headers(cls, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """The headers of a genuine delivery (the delivery id is derived from the body, so it is stable)."""
        return {SIGNATURE_HEADER: sign(secret, body), TRIGGER_HEADER: "Trustdesk",
                DELIVERY_HEADER: str(uuid.uuid5(uuid.NAMESPACE_URL, hashlib.sha256(body).hexdigest())),
                "User-Agent": "Zammad User Agent", "Content-Type": "application/json"}

    def parse(self, delivery: Delivery) -> Event:
        """Dispatch on what the delivery carries; only a delivery with an article is a message event."""
        data = read_json(delivery.body)
        kind = delivery_kind(data)
        handler = self._handlers().get(kind)
        if handler is None:
            raise UnsupportedEvent(f"zammad: {kind} deliveries carry no article to analyse")
        return handler(delivery, data)

    def _handlers(self) -> dict[str, Callable[[Delivery, dict], Event]]:
        return {ARTICLE_CREATED: self._article_event}

    def _article_event(self, delivery: Delivery, data: dict) -> Event:
        """The ticket with the one article that fired the trigger (the rest is fetched later)."""
        loaded = load(ArticleDeliverySchema(), data)
        ticket, article = loaded["ticket"], loaded["article"]
        if is_ours(article["body"]):
            raise UnsupportedEvent("zammad: the article is Trustdesk's own note")
        event_id = delivery.header(DELIVERY_HEADER) or f"{ticket['id']}:{article['id']}"
        normal = normalized_ticket(self.name, {**ticket_fields(ticket), "messages": [message(article)]})
        return Event(event_id.strip(), ARTICLE_CREATED, normal, complete=False)

    # --- the REST API ---------------------------------------------------------------

    @property
    def can_write_back(self) -> bool:
        """Write-back needs the instance URL and an API token."""
        return bool(self.setting("BASE_URL") and self.setting("API_TOKEN"))

    def _api(self) -> ApiClient:
        base, token = self.setting("BASE_URL"), self.setting("API_TOKEN")
        if not base or not token:
            raise NotConfigured("TRUSTDESK_ZAMMAD_BASE_URL and TRUSTDESK_ZAMMAD_API_TOKEN are needed for the API")
        return ApiClient(base, headers={"Authorization": f"Token token={token}"})

    def _articles(self, api: ApiClient, ticket_id: str) -> list[dict]:
        """Every article of a ticket: Zammad answers with all of them at once (the endpoint has no pages)."""
        answer = api.json("GET", f"/api/v1/ticket_articles/by_ticket/{ticket_id}", params={"expand": "true"})
        return [a for a in answer or [] if isinstance(a, dict)]

    def fetch_ticket(self, ticket_id: str) -> dict:
        """The ticket, all its articles except our notes, and its tags."""
        api = self._api()
        raw = api.json("GET", f"/api/v1/tickets/{ticket_id}", params={"expand": "true"}) or {}
        tags = api.json("GET", "/api/v1/tags", params={"object": "Ticket", "o_id": ticket_id}) or {}
        ticket = load(TicketSchema(), {**raw, "tags": tags.get("tags") or []})
        articles = [load(ArticleSchema(), a) for a in self._articles(api, ticket_id)]
        messages = [message(a) for a in articles if not is_ours(a["body"])]
        if not messages:
            raise UnsupportedEvent(f"zammad ticket {ticket_id} has no articles besides ours")
        return normalized_ticket(self.name, {**ticket_fields(ticket), "messages": messages}, f"ticket {ticket_id}")

    def recent_tickets(self, since: datetime) -> Iterable[str]:
        """Ids of tickets updated since `since`, newest first, page by page (needs Zammad's Elasticsearch)."""
        return self._search_pages(self._api(), since)

    def _search_pages(self, api: ApiClient, since: datetime) -> Iterator[str]:
        """Each page's new ids, until a page holds fewer than a full page of them."""
        seen: set[str] = set()
        params = {"query": f"updated_at:[{utc_z(since)} TO *]", "sort_by": "updated_at", "order_by": "desc",
                  "per_page": SEARCH_PAGE}
        for answer in api.numbered_pages("/api/v1/tickets/search", params):
            ids = [i for i in search_ids(answer) if i not in seen]
            seen.update(ids)
            yield from ids
            if len(ids) < SEARCH_PAGE:
                return

    def write_back(self, note: Note) -> None:
        """One internal HTML note (unless its marker is there already), then each tag through tags/add."""
        api = self._api()
        if not any(note.marker in (a.get("body") or "") for a in self._articles(api, note.ticket_id)):
            api.request("POST", "/api/v1/ticket_articles", json={
                "ticket_id": _numeric(note.ticket_id), "body": note.html, "content_type": "text/html",
                "type": "note", "internal": True})
        for tag in note.tags:  # tags/add adds one tag and keeps the others
            api.request("POST", "/api/v1/tags/add", json={"object": "Ticket", "o_id": _numeric(note.ticket_id),
                                                           "item": tag})


def delivery_kind(data: Any) -> str:
    """What a delivery is: an article event, a ticket change without an article, or something else."""
    if not isinstance(data, dict) or not isinstance(data.get("ticket"), dict):
        return "unknown"
    return ARTICLE_CREATED if data.get("article") else "ticket_updated"


def search_ids(answer: Any) -> list[str]:
    """Ticket ids from a search answer: `{"tickets": [ids], ...}`, or a list of tickets with expand=true."""
    if isinstance(answer, dict):
        return [str(i) for i in answer.get("tickets") or []]
    if isinstance(answer, list):
        return [str(t["id"]) for t in answer if isinstance(t, dict) and t.get("id") is not None]
    return []
