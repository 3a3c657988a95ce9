"""A fake Zendesk Ticketing API (on `responses`) that keeps a ticket's comments and tags.

Shapes follow the API reference: Show Ticket and List Comments with users
side-loaded, cursor pagination (`page[size]`, `page[after]`, `meta.has_more`,
`links.next`), Update Ticket with a `comment`, the Tags endpoints (PUT adds,
POST replaces) and the cursor-based incremental ticket export. Every call must
carry the `<email>/token:<api token>` Basic credentials; anything else fails loudly.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlencode

from ._base import Call, FakeApi

BASE_URL = "https://acme.zendesk.com"
EMAIL, TOKEN = "trustdesk@acme.example", "zd-api-token-0123"
SETTINGS = {
    "TRUSTDESK_ZENDESK_WEBHOOK_SECRET": "test-secret-0123456789",
    "TRUSTDESK_ZENDESK_BASE_URL": BASE_URL,
    "TRUSTDESK_ZENDESK_EMAIL": EMAIL,
    "TRUSTDESK_ZENDESK_API_TOKEN": TOKEN,
}
TICKET_ID = "5158"
AUTHORIZATION = "Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
REQUESTER, AGENT, API_USER = 8447388090494, 8447388090101, 8447388090777
USERS = [
    {"id": REQUESTER, "name": "Dana Reyes", "email": "dana.reyes@example.com", "role": "end-user"},
    {"id": AGENT, "name": "Sam Okafor", "email": "sam@acme.example", "role": "agent"},
    {"id": API_USER, "name": "Trustdesk", "email": EMAIL, "role": "admin"},
]


def _comment(cid: int, author: int, body: str, public: bool, html: str | None = None) -> dict:
    """A ticket comment as the List Comments endpoint returns it."""
    return {"id": cid, "type": "Comment", "author_id": author, "body": body, "plain_body": body,
            "html_body": html or f'<div class="zd-comment" dir="auto"><p>{body}</p></div>',
            "public": public, "attachments": [], "audit_id": cid + 1, "via": {"channel": "web"},
            "created_at": f"2025-03-05T14:{cid % 60:02d}:00Z", "metadata": {}}


class Fake(FakeApi):
    """The fake account: `.notes` (private comments' bodies), `.tags`, `.requests`."""

    platform, base_url, auth_value, ticket_id = "Zendesk", BASE_URL, AUTHORIZATION, TICKET_ID
    failure_body = {"error": "fake failure"}
    unauthorized_body = {"error": "Couldn't authenticate you"}

    def __init__(self, rsps: Any, tags: list[str], notes: list[str], page_size: int = 2,
                 ticket_ids: list[str] | None = None):
        super().__init__(rsps)
        self.tags, self.notes = list(tags), list(notes)
        self.page_size, self.ticket_ids = page_size, list(ticket_ids or [TICKET_ID])
        self.comments = [
            _comment(101, REQUESTER, "My order #4471 arrived with a cracked screen.", True),
            _comment(102, AGENT, "The courier is an independent company; please contact them.", True),
            _comment(103, REQUESTER, "The courier sent me back to you. I want a replacement.", True),
        ] + [_comment(200 + i, API_USER, note, False) for i, note in enumerate(self.notes)]

    def routes(self) -> list[tuple[str, str, Any]]:
        """The Ticketing API endpoints the adapter uses."""
        return [
            ("GET", r"/api/v2/tickets/(\d+)\.json", self._show_ticket),
            ("PUT", r"/api/v2/tickets/(\d+)\.json", self._update_ticket),
            ("GET", r"/api/v2/tickets/(\d+)/comments\.json", self._list_comments),
            ("PUT", r"/api/v2/tickets/(\d+)/tags\.json", self._add_tags),
            ("POST", r"/api/v2/tickets/(\d+)/tags\.json", self._set_tags),
            ("GET", r"/api/v2/incremental/tickets/cursor\.json", self._incremental),
        ]

    def _ticket(self) -> dict:
        return {"id": int(TICKET_ID), "subject": "Cracked screen on delivery", "status": "open",
                "description": self.comments[0]["body"], "tags": self.tags, "requester_id": REQUESTER,
                "submitter_id": REQUESTER, "assignee_id": AGENT, "created_at": "2025-03-04T09:12:07Z",
                "updated_at": "2025-03-05T14:02:51Z"}

    def _show_ticket(self, call: Call, ticket_id: str) -> tuple[int, dict]:
        users = USERS if "users" in call.params.get("include", "") else None
        return 200, {"ticket": self._ticket(), **({"users": users} if users else {})}

    def _update_ticket(self, call: Call, ticket_id: str) -> tuple[int, dict]:
        update = (call.json or {})["ticket"]
        comment = update.get("comment")
        if comment:
            html = comment.get("html_body")
            text = comment.get("body") or re.sub(r"<[^>]+>", " ", html or "").strip()
            self.comments.append(_comment(300 + len(self.comments), API_USER, text, comment.get("public", True), html))
            if not comment.get("public", True):
                self.notes.append(html or text)
        if "tags" in update:  # a plain ticket update replaces the whole set
            self.tags = list(update["tags"])
        return 200, {"ticket": self._ticket(), "audit": {"id": 9001, "ticket_id": int(ticket_id)}}

    def _list_comments(self, call: Call, ticket_id: str) -> tuple[int, dict]:
        size = min(int(call.params.get("page[size]", 100)), self.page_size)
        start = int(call.params.get("page[after]", 0))
        page, more = self.comments[start:start + size], start + size < len(self.comments)
        include = {"include": "users"} if "include" in call.params else {}
        link = f"{BASE_URL}/api/v2/tickets/{ticket_id}/comments.json?" + urlencode(
            {"page[size]": size, "page[after]": start + size, **include})
        body = {"comments": page, "meta": {"has_more": more, "after_cursor": str(start + size) if more else None,
                                           "before_cursor": str(start)},
                "links": {"next": link if more else None, "prev": None}}
        if "users" in call.params.get("include", ""):
            body["users"] = USERS
        return 200, body

    def _add_tags(self, call: Call, ticket_id: str) -> tuple[int, dict]:
        self.tags += [t for t in call.json["tags"] if t not in self.tags]
        return 200, {"tags": self.tags}

    def _set_tags(self, call: Call, ticket_id: str) -> tuple[int, dict]:
        self.tags = list(call.json["tags"])
        return 200, {"tags": self.tags}

    def _incremental(self, call: Call) -> tuple[int, dict]:
        query = call.params
        assert "cursor" in query or "start_time" in query, "the incremental export needs start_time or cursor"
        start = int(call.params.get("cursor", 0))
        chunk = self.ticket_ids[start:start + self.page_size]
        end = start + self.page_size >= len(self.ticket_ids)
        after = f"{BASE_URL}/api/v2/incremental/tickets/cursor.json?cursor={start + self.page_size}"
        return 200, {"tickets": [{"id": int(t), "updated_at": "2025-03-05T14:02:51Z"} for t in chunk],
                     "after_cursor": None if end else str(start + self.page_size),
                     "after_url": None if end else after, "before_cursor": None, "before_url": None,
                     "end_of_stream": end}
