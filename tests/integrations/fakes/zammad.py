"""A fake Zammad REST API (responses callbacks) that keeps a ticket's articles and tags.

Shapes follow https://docs.zammad.org/en/latest/api/ticket/index.html,
.../api/ticket/articles.html and .../api/ticket/tags.html (answers with
`?expand=true`: related records named by login or name).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

BASE_URL = "https://helpdesk.example.com"
TOKEN = "zammad-test-token"
SETTINGS = {
    "TRUSTDESK_ZAMMAD_WEBHOOK_SECRET": "test-secret-0123456789",
    "TRUSTDESK_ZAMMAD_BASE_URL": BASE_URL,
    "TRUSTDESK_ZAMMAD_API_TOKEN": TOKEN,
}
TICKET_ID = "137"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def article(article_id: int, sender: str, body: str, *, internal: bool = False, kind: str = "email",
            by: str = "dana.okafor@example.net", sent: str = "Dana Okafor <dana.okafor@example.net>",
            content_type: str = "text/html") -> dict:
    """An article as GET /api/v1/ticket_articles/by_ticket/{id}?expand=true answers it."""
    return {"id": article_id, "ticket_id": int(TICKET_ID), "from": sent, "to": "Orders", "cc": None,
            "subject": "Order 55-2031 arrived with a cracked lid", "body": body, "content_type": content_type,
            "type": kind, "sender": sender, "internal": internal, "created_by": by, "updated_by": by,
            "origin_by": None, "attachments": [],
            "created_at": f"2024-05-06T09:{10 + article_id % 50:02d}:00.000Z",
            "updated_at": f"2024-05-06T09:{10 + article_id % 50:02d}:00.000Z"}


class Fake:
    """Serves ticket TICKET_ID: a customer email, an agent reply, and `notes` as internal notes."""

    def __init__(self, rsps, tags: list[str], notes: list[str]):
        self.tags = list(tags)
        self.notes = list(notes)
        self.requests: list = []
        self._fail: tuple[int, dict] | None = None
        self.articles = [
            article(402, "Customer", "<div>The jar from order 55-2031 arrived with a cracked lid.</div>"),
            article(405, "Agent", "<div>Damage in transit is the carrier's responsibility; please file a claim "
                                  "with them.</div>", by="lars@helpdesk.example.com",
                    sent="Lars Berg via Orders <orders@helpdesk.example.com>"),
        ]
        for body in notes:
            self._add_note(body)
        routes = [
            ("GET", rf"/api/v1/tickets/{TICKET_ID}", self._ticket),
            ("GET", rf"/api/v1/ticket_articles/by_ticket/{TICKET_ID}", self._by_ticket),
            ("POST", r"/api/v1/ticket_articles", self._create_article),
            ("GET", r"/api/v1/tags", self._list_tags),
            ("POST", r"/api/v1/tags/add", self._add_tag),
        ]
        self.routes = [(m, re.compile(p + r"\Z"), f) for m, p, f in routes]
        for method in METHODS:
            rsps.add_callback(method, re.compile(re.escape(BASE_URL) + r"(/.*)?"), callback=self._handle)

    def fail_next(self, status: int, headers: dict) -> None:
        """Make the next request, whatever it is, fail once with this status and headers."""
        self._fail = (status, dict(headers))

    # --- plumbing ---

    def _handle(self, request):
        self.requests.append(request)
        if self._fail is not None:
            (status, headers), self._fail = self._fail, None
            return status, headers, json.dumps({"error": "failing on purpose"})
        if request.headers.get("Authorization") != f"Token token={TOKEN}":
            return 401, {}, json.dumps({"error": "authentication failed"})
        url = urlparse(request.url)
        for method, pattern, handler in self.routes:
            if method == request.method and pattern.match(url.path):
                return handler(request, {k: v[0] for k, v in parse_qs(url.query).items()})
        raise AssertionError(f"the fake Zammad API does not know {request.method} {request.url}")

    def _add_note(self, body: str) -> dict:
        note = article(500 + len(self.articles), "Agent", body, internal=True, kind="note",
                       by="trustdesk@helpdesk.example.com", sent="Trustdesk Integration")
        self.articles.append(note)
        return note

    # --- endpoints ---

    def _ticket(self, request, query):
        ticket = {"id": int(TICKET_ID), "number": "31137", "title": "Order 55-2031 arrived with a cracked lid",
                  "state": "open", "state_id": 2, "priority": "2 normal", "group": "Orders", "group_id": 2,
                  "owner": "lars@helpdesk.example.com", "owner_id": 5,
                  "customer": "dana.okafor@example.net", "customer_id": 14,
                  "organization": "Okafor Studio", "organization_id": 6,
                  "article_ids": [a["id"] for a in self.articles], "article_count": len(self.articles),
                  "created_at": "2024-05-06T09:14:02.511Z", "updated_at": "2024-05-06T11:05:12.870Z"}
        return 200, {}, json.dumps(ticket)

    def _by_ticket(self, request, query):
        return 200, {}, json.dumps(self.articles)

    def _create_article(self, request, query):
        body = json.loads(request.body)
        assert str(body["ticket_id"]) == TICKET_ID, body
        assert body["type"] == "note" and body["internal"] is True, body
        self.notes.append(body["body"])
        return 201, {}, json.dumps(self._add_note(body["body"]))

    def _list_tags(self, request, query):
        assert query == {"object": "Ticket", "o_id": TICKET_ID}, query
        return 200, {}, json.dumps({"tags": self.tags})

    def _add_tag(self, request, query):
        body = json.loads(request.body)
        assert body["object"] == "Ticket" and str(body["o_id"]) == TICKET_ID, body
        if body["item"] not in self.tags:
            self.tags.append(body["item"])
        return 201, {}, "true"
