"""Verify and parse Zendesk webhooks, fetch whole tickets, and write an internal note and tags back.

Two kinds of delivery reach /webhooks/zendesk, both signed the same way
(`X-Zendesk-Webhook-Signature` = base64 HMAC-SHA256 of timestamp + raw body,
keyed with the webhook's signing secret):

- event subscriptions (`zen:event-type:ticket.comment_added`, `...ticket.created`),
  with a fixed schema carrying one comment;
- trigger webhooks, whose JSON body is the template in doc.md (Zulip's older
  templates parse too, with fewer facts).

Both carry a single message, so every event is partial (`complete=False`) and
the service fetches the whole conversation through the Ticketing API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import quote

from ..base import (Adapter, BadPayload, Delivery, Event, NotConfigured, Note, Unauthorized, UnsupportedEvent,
                    check_fresh, is_ours, same)
from ..http import ApiClient
from ..payloads import digest, load, normalized_ticket, read_json, utc_z
from .schemas import CommentEventSchema, EnvelopeSchema, TriggerSchema

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
REPLAY_WINDOW = 300
# What {{current_user.role}} renders for customers; every other role is staff.
END_USER_ROLES = frozenset({"end-user", "end user", "enduser", "end_user"})
PAGE_SIZE = 100


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Zendesk's signature: base64 of HMAC-SHA256(secret, timestamp + raw body)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def _sent_at(timestamp: str) -> float:
    """Unix seconds of an ISO 8601 signature timestamp such as 2021-03-25T05:09:27Z."""
    moment = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


# --- event subscriptions -----------------------------------------------------

def _staff_role(author: dict, detail: dict) -> str:
    """Agent when Zendesk says the author is staff; without the flag, the requester is the customer."""
    if author.get("is_staff") is not None:
        return "agent" if author["is_staff"] else "customer"
    if author.get("id") and detail.get("requester_id"):
        return "customer" if author["id"] == detail["requester_id"] else "agent"
    raise BadPayload("event.comment.author.is_staff: missing",
                     {"event": {"comment": {"author": {"is_staff": ["Missing data for required field."]}}}})


def _detail_ticket(detail: dict, message: dict) -> dict:
    """A normalized ticket from an event's `detail` snapshot and its one message."""
    return normalized_ticket(ZendeskAdapter.name, {
        "id": detail["id"], "subject": detail.get("subject"), "status": (detail.get("status") or "").lower() or None,
        "tags": detail.get("tags") or [],
        "created_at": detail.get("created_at"), "updated_at": detail.get("updated_at"),
        "requester": {"id": detail.get("requester_id")},
        "assignee": {"id": detail.get("assignee_id")} if detail.get("assignee_id") else None,
        "messages": [message],
    })


def _comment_added(data: dict) -> Event:
    """One new comment; our own notes come back this way and are ignored."""
    envelope = load(EnvelopeSchema(), data)
    comment = load(CommentEventSchema(), envelope["event"], "event")["comment"]
    if is_ours(comment["body"]):
        raise UnsupportedEvent("zendesk: the comment is Trustdesk's own note")
    author = comment["author"]
    message = {"id": comment["id"], "author_role": _staff_role(author, envelope["detail"]),
               "author": {"id": author.get("id"), "name": author.get("name")},
               "body": comment["body"], "public": comment["is_public"]}
    return Event(envelope["id"], "ticket.comment_added", _detail_ticket(envelope["detail"], message), complete=False)


def _ticket_created(data: dict) -> Event:
    """A new ticket: its description is the first message, written by its submitter."""
    envelope = load(EnvelopeSchema(), data)
    detail = envelope["detail"]
    if not (detail.get("description") or "").strip():
        raise UnsupportedEvent("zendesk: the new ticket has no description")
    submitter = detail.get("submitter_id")
    role = "customer" if submitter in (None, detail.get("requester_id")) else "agent"
    message = {"author_role": role, "author": {"id": submitter}, "body": detail["description"]}
    return Event(envelope["id"], "ticket.created", _detail_ticket(detail, message), complete=False)


# --- trigger webhooks ----------------------------------------------------------

def _trigger_role(fields: dict) -> str:
    """The author's role: {{current_user.role}}, else author vs requester, else customer (Zulip templates)."""
    role = (fields.get("current_user_role") or "").strip().lower()
    if role:
        return "customer" if role in END_USER_ROLES else "agent"
    if fields.get("comment_author_id") and fields.get("requester_id"):
        return "customer" if fields["comment_author_id"] == fields["requester_id"] else "agent"
    # Zulip's templates send the ticket description or a summary of it: the requester's words.
    return "customer"


def _flag(value: str | None, default: bool) -> bool:
    """A placeholder rendered as true/false text."""
    text = (value or "").strip().lower()
    return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(text, default)


def _trigger(data: dict) -> Event:
    """A trigger webhook with our template (or Zulip's): the ticket and its latest comment."""
    fields = load(TriggerSchema(), data)
    body = fields["comment_body"] or fields["message"] or fields["ticket_description"]
    if not body:
        raise UnsupportedEvent("zendesk: the trigger webhook carries no comment")
    if is_ours(body):
        raise UnsupportedEvent("zendesk: the comment is Trustdesk's own note")
    ticket_id, comment_id = fields["ticket_id"], fields["comment_id"]
    message = {"id": comment_id, "author_role": _trigger_role(fields), "body": body,
               "author": {"id": fields["comment_author_id"], "name": fields["comment_author_name"]},
               "public": _flag(fields["comment_public"], True)}
    ticket = normalized_ticket(ZendeskAdapter.name, {
        "id": ticket_id, "subject": fields["ticket_title"], "status": (fields["ticket_status"] or "").lower() or None,
        "tags": (fields["tags"] or "").split(),
        "requester": {"id": fields["requester_id"], "name": fields["requester_name"] or fields["requester_full_name"],
                      "email": fields["requester_email"], "organization": fields["organization_name"]},
        "assignee": {"name": fields["assignee_name"], "team": fields["group_name"]},
        "messages": [message],
    })
    return Event(f"{ticket_id}:{comment_id or digest(body)}", "trigger", ticket, complete=False)


def _next_comments(page: Any, response: Any) -> str | None:
    """The next page of comments: `links.next` while `meta.has_more`."""
    page = page or {}
    return (page.get("links") or {}).get("next") if (page.get("meta") or {}).get("has_more") else None


def _next_export(page: Any, response: Any) -> str | None:
    """The next page of the incremental export: `after_url` until `end_of_stream`."""
    page = page or {}
    return None if page.get("end_of_stream") else page.get("after_url")


# Full event type (or "trigger" for our template) -> its parser.
_PARSERS: dict[str, Callable[[dict], Event]] = {
    "zen:event-type:ticket.comment_added": _comment_added,
    "zen:event-type:ticket.created": _ticket_created,
    "trigger": _trigger,
}


def _kind(data: dict) -> str | None:
    """An event subscription's `type`; a body with a ticket id and no type is a trigger webhook."""
    kind = data.get("type")
    if isinstance(kind, str):
        return kind
    return "trigger" if "ticket_id" in data else None


class ZendeskAdapter(Adapter):
    """Zendesk Support: signed webhooks in; internal comment and added tags out."""

    name = "zendesk"
    event_types = ("ticket.comment_added", "ticket.created", "trigger")
    replay_window = REPLAY_WINDOW

    @classmethod
    def signature_headers(cls, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """The headers Zendesk sends with a delivery of `body` at `now`."""
        timestamp = utc_z(datetime.fromtimestamp(time.time() if now is None else now, tz=timezone.utc))
        return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body),
                "Content-Type": "application/json"}

    def verify(self, delivery: Delivery) -> None:
        """Refuse unless the signature over timestamp + raw body matches and is at most five minutes old."""
        if not self.secret:
            raise NotConfigured("TRUSTDESK_ZENDESK_WEBHOOK_SECRET is not set: Zendesk deliveries are refused")
        timestamp, signature = delivery.header(TIMESTAMP_HEADER), delivery.header(SIGNATURE_HEADER)
        if not timestamp or not signature:
            raise Unauthorized(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header")
        try:
            sent_at = _sent_at(timestamp)
        except ValueError:
            raise Unauthorized(f"{TIMESTAMP_HEADER} is not an ISO 8601 time") from None
        check_fresh(delivery, sent_at, TIMESTAMP_HEADER, REPLAY_WINDOW)
        if not same(signature.strip(), sign(self.secret, timestamp, delivery.body)):
            raise Unauthorized("signature does not match")

    def parse(self, delivery: Delivery) -> Event:
        """The event in a verified delivery, dispatched on its type."""
        data = read_json(delivery.body)
        kind = _kind(data) if isinstance(data, dict) else None
        parser = _PARSERS.get(kind or "")
        if parser is None:
            raise UnsupportedEvent(f"zendesk: {kind or 'a body of unknown shape'} is not handled")
        return parser(data)

    # --- Ticketing API ---------------------------------------------------------

    @property
    def can_write_back(self) -> bool:
        """The API needs the account's URL, an agent's email and an API token."""
        return all(self.setting(key) for key in ("BASE_URL", "EMAIL", "API_TOKEN"))

    def _api(self) -> ApiClient:
        """A client authenticated as `<email>/token` with the API token."""
        if not self.can_write_back:
            raise NotConfigured("TRUSTDESK_ZENDESK_BASE_URL, _EMAIL and _API_TOKEN are needed for the Zendesk API")
        return ApiClient(self.setting("BASE_URL"), auth=(f"{self.setting('EMAIL')}/token", self.setting("API_TOKEN")))

    def _comment_pages(self, api: ApiClient, ticket_id: str) -> Iterator[dict]:
        """Every page of the ticket's comments (cursor pagination), with their authors side-loaded."""
        path = f"/api/v2/tickets/{quote(ticket_id, safe='')}/comments.json"
        for page in api.pages(path, _next_comments, {"page[size]": PAGE_SIZE, "include": "users"}):
            yield page or {}

    def fetch_ticket(self, ticket_id: str) -> dict:
        """The ticket with every comment in order, roles from the authors' Zendesk roles, without our notes."""
        api = self._api()
        path = f"/api/v2/tickets/{quote(str(ticket_id), safe='')}.json"
        data = api.json("GET", path, params={"include": "users"}) or {}
        ticket = data.get("ticket") or {}
        users = {str(u.get("id")): u for u in data.get("users") or []}
        comments: list[dict] = []
        for page in self._comment_pages(api, str(ticket_id)):
            users.update({str(u.get("id")): u for u in page.get("users") or []})
            comments.extend(page.get("comments") or [])
        requester = users.get(str(ticket.get("requester_id")), {})
        messages = [self._message(c, users, ticket.get("requester_id")) for c in comments
                    if not is_ours(c.get("body")) and not is_ours(c.get("html_body"))]
        return normalized_ticket(self.name, {
            "id": ticket.get("id", ticket_id), "subject": ticket.get("subject"),
            "status": ticket.get("status"), "tags": ticket.get("tags") or [],
            "created_at": ticket.get("created_at"), "updated_at": ticket.get("updated_at"),
            "requester": {"id": ticket.get("requester_id"), "name": requester.get("name"),
                          "email": requester.get("email")},
            "assignee": {"id": ticket.get("assignee_id")} if ticket.get("assignee_id") else None,
            "messages": messages,
        }, f"zendesk ticket {ticket_id}")

    @staticmethod
    def _message(comment: dict, users: dict, requester_id: Any) -> dict:
        """One comment as a message: end users are customers, agents and admins are agents."""
        author_id = comment.get("author_id")
        user = users.get(str(author_id))
        if user is not None:
            role = "customer" if user.get("role") == "end-user" else "agent"
        else:
            role = "customer" if author_id == requester_id else "agent"
        return {"id": comment.get("id"), "author_role": role,
                "author": {"id": author_id, "name": (user or {}).get("name")},
                "body": comment.get("body") or comment.get("plain_body") or "",
                "created_at": comment.get("created_at"), "public": bool(comment.get("public", True))}

    def recent_tickets(self, since: datetime) -> Iterable[str]:
        """Ids of tickets changed since `since`, from the cursor-based incremental export (admin only)."""
        params = {"start_time": int(since.timestamp()), "exclude_deleted": "true"}
        seen: set[str] = set()
        for page in self._api().pages("/api/v2/incremental/tickets/cursor.json", _next_export, params):
            for ticket in (page or {}).get("tickets") or []:
                if str(ticket.get("id")) not in seen:
                    seen.add(str(ticket.get("id")))
                    yield str(ticket.get("id"))

    def write_back(self, note: Note) -> None:
        """Add one private comment (unless its marker is already there), then add the tags."""
        api = self._api()
        ticket = quote(str(note.ticket_id), safe="")
        if not self._has_marker(api, str(note.ticket_id), note.marker):
            api.request("PUT", f"/api/v2/tickets/{ticket}.json",
                        json={"ticket": {"comment": {"html_body": note.html, "public": False}}})
        if note.tags:
            # PUT on the tags endpoint adds tags; POST would replace the whole set.
            api.request("PUT", f"/api/v2/tickets/{ticket}/tags.json", json={"tags": list(note.tags)})

    def _has_marker(self, api: ApiClient, ticket_id: str, marker: str) -> bool:
        """Whether any comment on the ticket already carries `marker`."""
        return any(marker in (comment.get(key) or "")
                   for page in self._comment_pages(api, ticket_id)
                   for comment in page.get("comments") or []
                   for key in ("body", "html_body", "plain_body"))
