"""A fake Freshdesk REST API v2 (on `responses`) that keeps a ticket's conversations and tags.

Shapes follow https://developers.freshdesk.com/api/: View a Ticket (with
`include=requester`), List All Conversations of a Ticket and List All Tickets
(`page`/`per_page`, next page in the `Link` header), Create a Note, and Update
a Ticket whose `tags` replace the whole set. Every call must carry the API key as
the Basic username with "X" as password; anything unknown fails loudly.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

BASE_URL = "https://acme.freshdesk.com"
API_KEY = "fd-api-key-0123"
SETTINGS = {
    "TRUSTDESK_FRESHDESK_WEBHOOK_SECRET": "test-secret-0123456789",
    "TRUSTDESK_FRESHDESK_BASE_URL": BASE_URL,
    "TRUSTDESK_FRESHDESK_API_TOKEN": API_KEY,
}
TICKET_ID = "11"
AUTHORIZATION = "Basic " + base64.b64encode(f"{API_KEY}:X".encode()).decode()
REQUESTER, AGENT = 43000123456, 43000999001


def _conversation(cid: int, user: int, body: str, incoming: bool, private: bool) -> dict:
    """A reply or note as List All Conversations returns it."""
    return {"id": cid, "body": body, "body_text": re.sub(r"<[^>]+>", "", body), "incoming": incoming,
            "private": private, "user_id": user, "support_email": None, "source": 2 if private else 0,
            "category": 2, "ticket_id": int(TICKET_ID), "to_emails": [], "from_email": None,
            "cc_emails": [], "bcc_emails": [], "attachments": [],
            "created_at": f"2025-03-05T10:{cid % 60:02d}:00Z", "updated_at": f"2025-03-05T10:{cid % 60:02d}:00Z"}


class Fake:
    """The fake account: `.notes` (private note bodies), `.tags`, `.requests` (method, url, json)."""

    def __init__(self, rsps: Any, tags: list[str], notes: list[str], page_size: int = 2,
                 ticket_ids: list[str] | None = None):
        self.tags, self.notes = list(tags), list(notes)
        self.page_size, self.ticket_ids = page_size, list(ticket_ids or [TICKET_ID])
        self.requests: list[tuple[str, str, Any]] = []
        self._failure: tuple[int, dict] | None = None
        self.conversations = [
            _conversation(501, AGENT, "<div>Refunds are handled by your bank. Please contact them.</div>", False, False),
            _conversation(502, REQUESTER, "<div>Your bank told me to call you.</div>", True, False),
        ] + [_conversation(600 + i, AGENT, note, False, True) for i, note in enumerate(self.notes)]
        pattern = re.compile(re.escape(BASE_URL) + r"/.*")
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            rsps.add_callback(method, pattern, callback=self._dispatch)

    def fail_next(self, status: int, headers: dict[str, str]) -> None:
        """Make the next request, whatever it is, fail once with `status` and `headers`."""
        self._failure = (status, dict(headers))

    def _dispatch(self, request: Any) -> tuple[int, dict, str]:
        parts = urlsplit(request.url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        payload = json.loads(request.body) if request.body else None
        self.requests.append((request.method, request.url, payload))
        if self._failure:
            (status, headers), self._failure = self._failure, None
            return status, headers, json.dumps({"code": "fake_failure"})
        if request.headers.get("Authorization") != AUTHORIZATION:
            return 401, {}, json.dumps({"code": "invalid_credentials", "message": "You have to be logged in"})
        for method, route, handler in self._routes():
            match = re.fullmatch(route, parts.path)
            if method == request.method and match:
                if match.groups() and match.group(1) != TICKET_ID:  # the API's answer for a ticket it lacks
                    return 404, {"Content-Type": "application/json"}, json.dumps({"error": "not found"})
                status, body, headers = handler(*match.groups(), query=query, payload=payload)
                return status, {"Content-Type": "application/json", **headers}, json.dumps(body)
        raise AssertionError(f"the fake Freshdesk API has no {request.method} {parts.path}")

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"/api/v2/tickets/(\d+)", self._view_ticket),
            ("PUT", r"/api/v2/tickets/(\d+)", self._update_ticket),
            ("GET", r"/api/v2/tickets/(\d+)/conversations", self._list_conversations),
            ("POST", r"/api/v2/tickets/(\d+)/notes", self._create_note),
            ("GET", r"/api/v2/tickets", self._list_tickets),
        ]

    def _ticket(self, with_requester: bool) -> dict:
        ticket = {"id": int(TICKET_ID), "subject": "Refund for double charge", "status": 2, "priority": 2,
                  "source": 1, "description": "<div>I was charged twice for order 8812.</div>",
                  "description_text": "I was charged twice for order 8812.", "tags": self.tags,
                  "requester_id": REQUESTER, "responder_id": AGENT, "type": "Incident",
                  "created_at": "2025-03-05T09:00:00Z", "updated_at": "2025-03-05T10:30:00Z"}
        if with_requester:
            ticket["requester"] = {"id": REQUESTER, "name": "Requester Bob", "email": "requester-bob@example.com",
                                   "mobile": None, "phone": None}
        return ticket

    def _page(self, items: list, path: str, query: dict) -> tuple[list, dict]:
        """One page of `items` and the Link header Freshdesk sends when there is a next page."""
        per_page = min(int(query.get("per_page", 30)), self.page_size)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page:page * per_page]
        if page * per_page >= len(items):
            return chunk, {}
        following = {**query, "page": page + 1, "per_page": per_page}
        return chunk, {"Link": f'<{BASE_URL}{path}?{urlencode(following)}>; rel="next"'}

    def _view_ticket(self, ticket_id: str, query: dict, payload: Any) -> tuple[int, Any, dict]:
        return 200, self._ticket("requester" in query.get("include", "")), {}

    def _update_ticket(self, ticket_id: str, query: dict, payload: Any) -> tuple[int, Any, dict]:
        if "tags" in payload:  # Freshdesk replaces the whole set
            self.tags = list(payload["tags"])
        return 200, self._ticket(False), {}

    def _list_conversations(self, ticket_id: str, query: dict, payload: Any) -> tuple[int, Any, dict]:
        chunk, headers = self._page(self.conversations, f"/api/v2/tickets/{ticket_id}/conversations", query)
        return 200, chunk, headers

    def _create_note(self, ticket_id: str, query: dict, payload: Any) -> tuple[int, Any, dict]:
        note = _conversation(700 + len(self.conversations), AGENT, payload["body"], False,
                             payload.get("private", True))
        self.conversations.append(note)
        if note["private"]:
            self.notes.append(payload["body"])
        return 201, note, {"Location": f"{BASE_URL}/api/v2/conversations/{note['id']}"}

    def _list_tickets(self, query: dict, payload: Any) -> tuple[int, Any, dict]:
        tickets = [{**self._ticket(False), "id": int(t)} for t in self.ticket_ids]
        chunk, headers = self._page(tickets, "/api/v2/tickets", query)
        return 200, chunk, headers
