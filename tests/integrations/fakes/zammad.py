"""A fake Zammad REST API (responses callbacks) that keeps a ticket's articles and tags.

Shapes follow https://docs.zammad.org/en/latest/api/ticket/index.html,
.../api/ticket/articles.html and .../api/ticket/tags.html (answers with
`?expand=true`: related records named by login or name).
"""

from __future__ import annotations

from ._base import Call, FakeApi

BASE_URL = "https://helpdesk.example.com"
TOKEN = "zammad-test-token"
SETTINGS = {
    "TRUSTDESK_ZAMMAD_WEBHOOK_SECRET": "test-secret-0123456789",
    "TRUSTDESK_ZAMMAD_BASE_URL": BASE_URL,
    "TRUSTDESK_ZAMMAD_API_TOKEN": TOKEN,
}
TICKET_ID = "137"


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


class Fake(FakeApi):
    """Serves ticket TICKET_ID: a customer email, an agent reply, and `notes` as internal notes."""

    platform, base_url, auth_value = "Zammad", BASE_URL, f"Token token={TOKEN}"
    unauthorized_body = {"error": "authentication failed"}

    def __init__(self, rsps, tags: list[str], notes: list[str]):
        super().__init__(rsps)
        self.tags = list(tags)
        self.notes = list(notes)
        self.articles = [
            article(402, "Customer", "<div>The jar from order 55-2031 arrived with a cracked lid.</div>"),
            article(405, "Agent", "<div>Damage in transit is the carrier's responsibility; please file a claim "
                                  "with them.</div>", by="lars@helpdesk.example.com",
                    sent="Lars Berg via Orders <orders@helpdesk.example.com>"),
        ]
        for body in notes:
            self._add_note(body)

    def routes(self):
        """The ticket, article and tag endpoints the adapter uses."""
        return [
            ("GET", rf"/api/v1/tickets/{TICKET_ID}", self._ticket),
            ("GET", rf"/api/v1/ticket_articles/by_ticket/{TICKET_ID}", self._by_ticket),
            ("POST", r"/api/v1/ticket_articles", self._create_article),
            ("GET", r"/api/v1/tags", self._list_tags),
            ("POST", r"/api/v1/tags/add", self._add_tag),
        ]

    def _add_note(self, body: str) -> dict:
        note = article(500 + len(self.articles), "Agent", body, internal=True, kind="note",
                       by="trustdesk@helpdesk.example.com", sent="Trustdesk Integration")
        self.articles.append(note)
        return note

    # --- endpoints ---

    def _ticket(self, call: Call):
        ticket = {"id": int(TICKET_ID), "number": "31137", "title": "Order 55-2031 arrived with a cracked lid",
                  "state": "open", "state_id": 2, "priority": "2 normal", "group": "Orders", "group_id": 2,
                  "owner": "lars@helpdesk.example.com", "owner_id": 5,
                  "customer": "dana.okafor@example.net", "customer_id": 14,
                  "organization": "Okafor Studio", "organization_id": 6,
                  "article_ids": [a["id"] for a in self.articles], "article_count": len(self.articles),
                  "created_at": "2024-05-06T09:14:02.511Z", "updated_at": "2024-05-06T11:05:12.870Z"}
        return 200, ticket

    def _by_ticket(self, call: Call):
        return 200, self.articles

    def _create_article(self, call: Call):
        body = call.json
        assert str(body["ticket_id"]) == TICKET_ID, body
        assert body["type"] == "note" and body["internal"] is True, body
        self.notes.append(body["body"])
        return 201, self._add_note(body["body"])

    def _list_tags(self, call: Call):
        assert call.params == {"object": "Ticket", "o_id": TICKET_ID}, call.params
        return 200, {"tags": self.tags}

    def _add_tag(self, call: Call):
        body = call.json
        assert body["object"] == "Ticket" and str(body["o_id"]) == TICKET_ID, body
        if body["item"] not in self.tags:
            self.tags.append(body["item"])
        return 201, "true"
