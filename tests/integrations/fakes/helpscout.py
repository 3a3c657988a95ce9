"""A fake Help Scout Mailbox API 2.0: the client-credentials token, one conversation, its threads and tags.

Shapes follow developer.helpscout.com (Get Conversation, List Threads with HAL
`_embedded` and `page`, Create Note answering 201 with Resource-ID, Update Tags
replacing the whole set with 204, List Conversations). Threads come newest first
and PAGE_SIZE to a page, so callers must follow the pagination.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from ._base import Call, FakeApi

BASE_URL = "https://api.helpscout.net"
CLIENT_ID = "hs-client-id-0123"
CLIENT_SECRET = "hs-client-secret-4567"
ACCESS_TOKEN = "hs-access-token-89ab"
SETTINGS = {
    "TRUSTDESK_HELPSCOUT_WEBHOOK_SECRET": "test-secret-0123456789",
    "TRUSTDESK_HELPSCOUT_BASE_URL": BASE_URL,
    "TRUSTDESK_HELPSCOUT_CLIENT_ID": CLIENT_ID,
    "TRUSTDESK_HELPSCOUT_CLIENT_SECRET": CLIENT_SECRET,
}
# The alternative: a ready-made access token instead of client credentials.
TOKEN_SETTINGS = {"TRUSTDESK_HELPSCOUT_WEBHOOK_SECRET": "test-secret-0123456789",
                  "TRUSTDESK_HELPSCOUT_API_TOKEN": ACCESS_TOKEN}
TICKET_ID = "2003"
PAGE_SIZE = 2
LISTED = [2003, 2004, 2005]
CUSTOMER = {"id": 238604, "type": "customer", "first": "Vernon", "last": "Bear", "email": "vbear@mywork.com"}
USER = {"id": 99, "type": "user", "first": "Mr", "last": "Robot", "email": "none@nowhere.com"}


def _thread(thread_id: int, kind: str, body: str, by: dict, at: str) -> dict:
    return {"id": thread_id, "type": kind, "status": "active", "state": "published", "body": body,
            "source": {"type": "email" if kind != "note" else "api", "via": by["type"]},
            "customer": CUSTOMER, "createdBy": by, "createdAt": at, "_embedded": {"attachments": []}}


class Fake(FakeApi):
    """The account's state (tags, threads) behind one `responses` callback per HTTP method."""

    platform, base_url, auth_value = "Help Scout", BASE_URL, f"Bearer {ACCESS_TOKEN}"
    failure_body = {"message": "simulated failure"}
    unauthorized_body = {"error": "Not authorized"}

    def __init__(self, rsps, tags, notes):
        super().__init__(rsps)
        self.tags = list(tags)
        self.notes = list(notes)
        self.tokens_issued = 0
        self._threads = [
            _thread(1001, "customer", "<div>I returned the guitar a month ago and still have no refund.</div>",
                    CUSTOMER, "2024-06-09T10:00:00Z"),
            _thread(1002, "message", "<div>Returns are handled by our partner. Please contact them.</div>",
                    USER, "2024-06-09T12:00:00Z"),
            _thread(1003, "lineitem", None, USER, "2024-06-09T12:00:01Z"),
        ] + [_thread(3000 + i, "note", text, USER, f"2024-06-10T1{i}:00:00Z") for i, text in enumerate(self.notes)]

    def authorized(self, call: Call) -> bool:
        """The token endpoint takes client credentials; everything else the access token."""
        return (call.method, call.path) == ("POST", "/v2/oauth2/token") or super().authorized(call)

    def routes(self):
        """The Mailbox API 2.0 endpoints the adapter uses."""
        conversation = rf"/v2/conversations/{TICKET_ID}"
        return [
            ("POST", r"/v2/oauth2/token", self._token),
            ("GET", conversation, self._conversation),
            ("GET", conversation + "/threads", self._list_threads),
            ("POST", conversation + "/notes", self._create_note),
            ("PUT", conversation + "/tags", self._update_tags),
            ("GET", r"/v2/conversations", self._list_conversations),
        ]

    def _token(self, call: Call):
        form = parse_qs(call.body if isinstance(call.body, str) else call.body.decode())
        if form != {"grant_type": ["client_credentials"], "client_id": [CLIENT_ID], "client_secret": [CLIENT_SECRET]}:
            return 401, {"error": "invalid_client"}
        self.tokens_issued += 1
        return 200, {"token_type": "bearer", "access_token": ACCESS_TOKEN, "expires_in": 172800}

    def _conversation(self, call: Call):
        answer = {"id": int(TICKET_ID), "number": 12, "threads": len(self._threads), "type": "email",
                  "status": "active", "state": "published", "subject": "Refund for my returned guitar",
                  "mailboxId": 13, "assignee": USER, "createdBy": CUSTOMER, "createdAt": "2024-06-09T10:00:00Z",
                  "userUpdatedAt": "2024-06-09T12:00:00Z", "primaryCustomer": CUSTOMER,
                  "tags": [{"id": 9000 + i, "color": "#929499", "tag": tag} for i, tag in enumerate(self.tags)]}
        if call.query.get("embed") == ["threads"]:
            answer["_embedded"] = {"threads": self._newest_first()}
        return 200, answer

    def _newest_first(self) -> list[dict]:
        return sorted(self._threads, key=lambda t: t["createdAt"], reverse=True)

    def _list_threads(self, call: Call):
        number = int(call.query.get("page", ["1"])[0])
        threads = self._newest_first()
        total_pages = max(1, -(-len(threads) // PAGE_SIZE))
        page = threads[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
        return 200, {"_embedded": {"threads": page}, "page": {
            "size": PAGE_SIZE, "totalElements": len(threads), "totalPages": total_pages, "number": number}}

    def _create_note(self, call: Call):
        body = call.json
        assert set(body) == {"text"} and body["text"], body
        self.notes.append(body["text"])
        thread_id = 4000 + len(self.notes)
        self._threads.append(_thread(thread_id, "note", body["text"], USER, "2024-06-11T10:00:00Z"))
        return 201, None, {"Resource-ID": str(thread_id)}

    def _update_tags(self, call: Call):
        body = call.json
        assert set(body) == {"tags"} and isinstance(body["tags"], list), body
        self.tags = list(body["tags"])  # the whole set is replaced, as documented
        return 204, None

    def _list_conversations(self, call: Call):
        assert call.query.get("status") == ["all"] and call.query.get("modifiedSince"), call.query
        number = int(call.query.get("page", ["1"])[0])
        page = LISTED[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
        answer = {"page": {"size": PAGE_SIZE, "totalElements": len(LISTED),
                           "totalPages": -(-len(LISTED) // PAGE_SIZE), "number": number}}
        if page:
            answer["_embedded"] = {"conversations": [{"id": cid, "number": cid - 2000} for cid in page]}
        return 200, answer
