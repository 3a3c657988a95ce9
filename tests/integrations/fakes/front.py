"""A fake Front Core API (conversation, messages, comments, tags, events) for the write-back contract.

Shapes follow Front's Core API spec (frontapp/front-api-specs core-api.json):
lists are `{"_pagination": {"next"}, "_links", "_results"}` with `next` an
absolute URL carrying `page_token`; messages and comments come newest first;
comments are not paginated; POST /company/tags answers 201 with the tag;
POST /conversations/{id}/tags adds tag ids and answers 204.
"""

from __future__ import annotations

import re

from ._base import Call, FakeApi

BASE_URL = "https://api2.front.test"
TOKEN = "front-token-0123"
TICKET_ID = "cnv_keocka"
SETTINGS = {
    "TRUSTDESK_FRONT_WEBHOOK_SECRET": "test-secret-0123456789",
    "TRUSTDESK_FRONT_BASE_URL": BASE_URL,
    "TRUSTDESK_FRONT_API_TOKEN": TOKEN,
}
AGENT = {"_links": {"self": f"{BASE_URL}/teammates/tea_55c8"}, "id": "tea_55c8", "email": "leela@example.com",
         "username": "leela", "first_name": "Leela", "last_name": "Turanga", "is_admin": False,
         "is_available": True, "is_blocked": False}
CUSTOMER_HANDLE = {"_links": {"related": {"contact": f"{BASE_URL}/contacts/crd_55c8"}}, "name": "Calculon",
                   "handle": "calculon@example.com", "role": "from"}
SUPPORT_HANDLE = {"_links": {"related": {"contact": None}}, "name": "Support", "handle": "support@example.com",
                  "role": "to"}


def _message(mid: str, inbound: bool, text: str, at: float) -> dict:
    sender, receiver = (CUSTOMER_HANDLE, SUPPORT_HANDLE) if inbound else (
        {**SUPPORT_HANDLE, "role": "from"}, {**CUSTOMER_HANDLE, "role": "to"})
    return {"_links": {"self": f"{BASE_URL}/messages/{mid}"}, "id": mid, "type": "email", "is_inbound": inbound,
            "is_draft": False, "draft_mode": None, "created_at": at, "blurb": text[:50], "body": f"<p>{text}</p>",
            "text": text, "author": None if inbound else AGENT, "recipients": [sender, receiver],
            "attachments": [], "metadata": {}}


class Fake(FakeApi):
    """Front as seen by one API token: one conversation, its comments and tags, the company's tags, events."""

    platform, base_url, auth_value = "Front", BASE_URL, f"Bearer {TOKEN}"
    failure_body = {"_error": {"status": 429, "title": "Too many requests"}}
    unauthorized_body = {"_error": {"status": 401, "title": "Unauthenticated"}}

    def __init__(self, rsps, tags: list[str], notes: list[str], page_size: int = 2,
                 event_conversations: list[str] | None = None):
        super().__init__(rsps)
        self.tags = list(tags)
        self.notes = list(notes)
        self.registry = {name: f"tag_{i}" for i, name in enumerate(["internal", *self.tags])}
        self.page_size = page_size
        self.event_conversations = event_conversations or [TICKET_ID]
        self.messages = [_message("msg_3", False, "Please ask the carrier about it.", 1700000300.5),
                         _message("msg_2", True, "It still has not arrived.", 1700000200.25),
                         _message("msg_1", True, "Where is my parcel?", 1700000100.0)]  # newest first

    # --- resources ----------------------------------------------------------------------

    def conversation(self) -> dict:
        return {"_links": {"self": f"{BASE_URL}/conversations/{TICKET_ID}"}, "id": TICKET_ID,
                "subject": "Where is my parcel?", "status": "assigned", "assignee": AGENT,
                "recipient": {**CUSTOMER_HANDLE, "role": "from"},
                "tags": [{"id": self.registry[n], "name": n} for n in self.tags], "links": [],
                "custom_fields": {}, "created_at": 1700000100.0, "is_private": False}

    def comments(self) -> list[dict]:
        return [{"_links": {"self": f"{BASE_URL}/comments/com_{i}"}, "id": f"com_{i}", "author": AGENT,
                 "body": body, "posted_at": 1700000400.0 + i, "attachments": [], "is_pinned": False}
                for i, body in reversed(list(enumerate(self.notes)))]  # newest first

    def _page(self, path: str, items: list, query: dict) -> dict:
        start = int((query.get("page_token") or ["0"])[0])
        chunk = items[start:start + self.page_size]
        nxt = start + len(chunk)
        return {"_pagination": {"next": f"{BASE_URL}{path}?page_token={nxt}" if nxt < len(items) else None},
                "_links": {"self": f"{BASE_URL}{path}"}, "_results": chunk}

    # --- routing ------------------------------------------------------------------------

    def routes(self):
        """The Core API endpoints the adapter uses."""
        conv = re.escape(f"/conversations/{TICKET_ID}")
        return (("GET", conv, lambda c: (200, self.conversation())),
                ("GET", conv + "/messages", lambda c: (200, self._page(c.path, self.messages, c.query))),
                ("GET", conv + "/comments", lambda c: (200, {"_links": {"self": BASE_URL + c.path},
                                                             "_results": self.comments()})),
                ("POST", conv + "/comments", self._add_comment),
                ("POST", conv + "/tags", self._add_tags),
                ("GET", r"/tags", lambda c: (200, self._page(c.path, [{"id": i, "name": n} for n, i
                                                                      in self.registry.items()], c.query))),
                ("POST", r"/company/tags", self._create_tag),
                ("GET", r"/events", self._events))

    def _add_comment(self, call: Call):
        body = call.json
        assert set(body) <= {"body", "author_id"} and body["body"], body
        self.notes.append(body["body"])
        return 201, self.comments()[0]

    def _add_tags(self, call: Call):
        body = call.json
        names = {i: n for n, i in self.registry.items()}
        for tag_id in body["tag_ids"]:
            if names[tag_id] not in self.tags:
                self.tags.append(names[tag_id])
        return 204, None

    def _create_tag(self, call: Call):
        body = call.json
        assert body["name"] not in self.registry, "the tag exists already"
        self.registry[body["name"]] = f"tag_{len(self.registry)}"
        return 201, {"id": self.registry[body["name"]], "name": body["name"]}

    def _events(self, call: Call):
        path, query = call.path, call.query
        if "page_token" not in query:  # a next link's token carries the filter of the first request
            assert "q[after]" in query and set(query["q[types]"]) == {"inbound", "outbound", "out_reply"}, query
        events = [{"id": f"evt_{i}", "type": "inbound", "conversation": {"id": cid}}
                  for i, cid in enumerate(self.event_conversations)]
        return 200, self._page(path, events, query)
