"""A fake Freshdesk REST API v2 (on `responses`) that keeps a ticket's conversations and tags.

Shapes follow https://developers.freshdesk.com/api/: View a Ticket (with
`include=requester`), List All Conversations of a Ticket and List All Tickets
(`page`/`per_page`, next page in the `Link` header), Create a Note, and Update
a Ticket whose `tags` replace the whole set. Every call must carry the API key as
the Basic username with "X" as password; anything unknown fails loudly.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlencode

from ._base import Call, FakeApi

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


class Fake(FakeApi):
    """The fake account: `.notes` (private note bodies), `.tags`, `.requests`."""

    platform, base_url, auth_value, ticket_id = "Freshdesk", BASE_URL, AUTHORIZATION, TICKET_ID
    failure_body = {"code": "fake_failure"}
    unauthorized_body = {"code": "invalid_credentials", "message": "You have to be logged in"}

    def __init__(self, rsps: Any, tags: list[str], notes: list[str], page_size: int = 2,
                 ticket_ids: list[str] | None = None):
        super().__init__(rsps)
        self.tags, self.notes = list(tags), list(notes)
        self.page_size, self.ticket_ids = page_size, list(ticket_ids or [TICKET_ID])
        self.conversations = [
            _conversation(501, AGENT, "<div>Refunds are handled by your bank. Please contact them.</div>", False, False),
            _conversation(502, REQUESTER, "<div>Your bank told me to call you.</div>", True, False),
        ] + [_conversation(600 + i, AGENT, note, False, True) for i, note in enumerate(self.notes)]

    def routes(self) -> list[tuple[str, str, Any]]:
        """The REST API v2 endpoints the adapter uses."""
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

    def _view_ticket(self, call: Call, ticket_id: str) -> tuple[int, Any, dict]:
        return 200, self._ticket("requester" in call.params.get("include", "")), {}

    def _update_ticket(self, call: Call, ticket_id: str) -> tuple[int, Any, dict]:
        if "tags" in call.json:  # Freshdesk replaces the whole set
            self.tags = list(call.json["tags"])
        return 200, self._ticket(False), {}

    def _list_conversations(self, call: Call, ticket_id: str) -> tuple[int, Any, dict]:
        chunk, headers = self._page(self.conversations, f"/api/v2/tickets/{ticket_id}/conversations", call.params)
        return 200, chunk, headers

    def _create_note(self, call: Call, ticket_id: str) -> tuple[int, Any, dict]:
        note = _conversation(700 + len(self.conversations), AGENT, call.json["body"], False,
                             call.json.get("private", True))
        self.conversations.append(note)
        if note["private"]:
            self.notes.append(call.json["body"])
        return 201, note, {"Location": f"{BASE_URL}/api/v2/conversations/{note['id']}"}

    def _list_tickets(self, call: Call) -> tuple[int, Any, dict]:
        tickets = [{**self._ticket(False), "id": int(t)} for t in self.ticket_ids]
        chunk, headers = self._page(tickets, "/api/v2/tickets", call.params)
        return 200, chunk, headers
