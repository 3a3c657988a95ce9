"""A fake Intercom REST API (conversations, notes, workspace tags, search) for the write-back contract.

Shapes follow the Intercom API 2.11 reference: a conversation with `source`,
`contacts`, `conversation_parts` and `tags`; `POST /tags` creates or finds a
workspace tag; `POST /conversations/{id}/tags` attaches one without touching
the others; `POST /conversations/search` pages with `pages.next.starting_after`.
"""

from __future__ import annotations

from ._base import Call, FakeApi

BASE_URL = "https://api.intercom.test"
TOKEN = "intercom-token-0123"
ADMIN_ID = "991267001"
TICKET_ID = "21322009097"
SETTINGS = {
    "TRUSTDESK_INTERCOM_WEBHOOK_SECRET": "test-secret-0123456789",
    "TRUSTDESK_INTERCOM_BASE_URL": BASE_URL,
    "TRUSTDESK_INTERCOM_API_TOKEN": TOKEN,
    "TRUSTDESK_INTERCOM_ADMIN_ID": ADMIN_ID,
}


def _part(part_id: str, part_type: str, body: str, author: dict, at: int) -> dict:
    return {"type": "conversation_part", "id": part_id, "part_type": part_type, "body": body,
            "created_at": at, "updated_at": at, "notified_at": at, "assigned_to": None,
            "author": author, "attachments": [], "external_id": None, "redacted": False}


CUSTOMER = {"type": "user", "id": "667d60ac8a68186f43bafd5d", "name": "Ada Customer", "email": "ada@example.com"}
AGENT = {"type": "admin", "id": "991267002", "name": "Bo Agent", "email": "bo@example.com"}
OURS = {"type": "admin", "id": ADMIN_ID, "name": "Trustdesk", "email": "trustdesk@example.com"}


class Fake(FakeApi):
    """Intercom as seen by one access token: one conversation, its notes and tags, and a tag registry."""

    platform, base_url, auth_value = "Intercom", BASE_URL, f"Bearer {TOKEN}"
    failure_body = {"type": "error.list", "errors": [{"code": "rate_limit_exceeded"}]}
    unauthorized_body = {"type": "error.list", "errors": [{"code": "unauthorized"}]}

    def __init__(self, rsps, tags: list[str], notes: list[str], conversation_ids: list[str] | None = None,
                 page_size: int = 2):
        super().__init__(rsps)
        self.tags = list(tags)
        self.notes = list(notes)
        self.registry = {name: str(7000 + i) for i, name in enumerate(self.tags)}
        self.conversation_ids = conversation_ids or [TICKET_ID]
        self.page_size = page_size

    def conversation(self) -> dict:
        """GET /conversations/{id} as Intercom answers it (2.11)."""
        parts = [_part("1001", "comment", "<p>Please contact the carrier, not us.</p>", AGENT, 1719492800)]
        parts += [_part(str(2000 + i), "note", body, OURS, 1719492900 + i) for i, body in enumerate(self.notes)]
        return {"type": "conversation", "id": TICKET_ID, "created_at": 1719492700, "updated_at": 1719493000,
                "title": None, "state": "open", "open": True, "read": True,
                "source": {"type": "conversation", "id": "403918320", "delivered_as": "customer_initiated",
                           "subject": "Where is my order?", "body": "<p>My parcel never arrived.</p>",
                           "author": CUSTOMER, "attachments": [], "url": None, "redacted": False},
                "contacts": {"type": "contact.list",
                             "contacts": [{"type": "contact", "id": CUSTOMER["id"], "external_id": "70"}]},
                "teammates": {"type": "admin.list", "admins": [{"type": "admin", "id": AGENT["id"]}]},
                "admin_assignee_id": int(AGENT["id"]), "team_assignee_id": None,
                "tags": {"type": "tag.list", "tags": [{"type": "tag", "id": self.registry[n], "name": n}
                                                      for n in self.tags]},
                "conversation_parts": {"type": "conversation_part.list", "conversation_parts": parts,
                                       "total_count": len(parts)}}

    # --- routing ------------------------------------------------------------------------

    def routes(self):
        """The REST endpoints the adapter uses."""
        return (("GET", rf"/conversations/({TICKET_ID})", lambda call, cid: (200, self.conversation())),
                ("POST", rf"/conversations/({TICKET_ID})/reply", self._reply),
                ("POST", r"/tags", self._create_tag),
                ("POST", rf"/conversations/({TICKET_ID})/tags", self._attach_tag),
                ("POST", r"/conversations/search", self._search))

    def _reply(self, call: Call, cid: str) -> tuple[int, dict]:
        body = call.json
        assert body["message_type"] == "note" and body["type"] == "admin" and body["admin_id"] == ADMIN_ID, body
        self.notes.append(body["body"])
        return 200, self.conversation()

    def _create_tag(self, call: Call) -> tuple[int, dict]:
        body = call.json
        name = body["name"]
        self.registry.setdefault(name, str(7000 + len(self.registry)))
        return 200, {"type": "tag", "id": self.registry[name], "name": name}

    def _attach_tag(self, call: Call, cid: str) -> tuple[int, dict]:
        body = call.json
        assert body["admin_id"] == ADMIN_ID, body
        name = next(n for n, tag_id in self.registry.items() if tag_id == str(body["id"]))
        if name not in self.tags:
            self.tags.append(name)
        return 200, {"type": "tag", "id": body["id"], "name": name, "applied_by": {"type": "admin", "id": ADMIN_ID}}

    def _search(self, call: Call) -> tuple[int, dict]:
        body = call.json
        assert body["query"]["field"] == "updated_at" and body["query"]["operator"] == ">", body
        start = int((body.get("pagination") or {}).get("starting_after") or 0)
        ids = self.conversation_ids[start:start + self.page_size]
        end = start + len(ids)
        pages = {"type": "pages", "page": start // self.page_size + 1, "per_page": self.page_size,
                 "total_pages": -(-len(self.conversation_ids) // self.page_size)}
        if end < len(self.conversation_ids):
            pages["next"] = {"page": pages["page"] + 1, "starting_after": str(end)}
        return 200, {"type": "conversation.list", "pages": pages, "total_count": len(self.conversation_ids),
                     "conversations": [{"type": "conversation", "id": cid} for cid in ids]}
