"""A fake Chatwoot application API (responses callbacks) that keeps a conversation's messages and labels.

Shapes follow https://developers.chatwoot.com/api-reference (conversations,
messages, conversation labels): messages come back as `push_event_data`
(`message_type` 0-3, `created_at` in unix seconds), 20 per page, newest page
first, older pages through `?before=<message id>`.
"""

from __future__ import annotations

from ._base import Call, FakeApi

BASE_URL = "https://chat.example.com"
ACCOUNT_ID = "3"
TOKEN = "chatwoot-test-token"
SETTINGS = {
    "TRUSTDESK_CHATWOOT_WEBHOOK_SECRET": "test-secret-0123456789",
    "TRUSTDESK_CHATWOOT_BASE_URL": BASE_URL,
    "TRUSTDESK_CHATWOOT_ACCOUNT_ID": ACCOUNT_ID,
    "TRUSTDESK_CHATWOOT_API_TOKEN": TOKEN,
}
TICKET_ID = "214"
PAGE = 20
CONTACT = {"id": 88, "name": "Priya Nair", "email": "priya.nair@example.org", "type": "contact", "thumbnail": ""}
AGENT = {"id": 4, "name": "Tomás Ruiz", "available_name": "Tomás Ruiz", "type": "user", "thumbnail": ""}
API_USER = {"id": 11, "name": "Trustdesk", "available_name": "Trustdesk", "type": "user", "thumbnail": ""}
START = 1714986600  # 2024-05-06T09:10:00Z


class Fake(FakeApi):
    """Serves conversation TICKET_ID: a contact's message, an agent's reply, an activity, and `notes` as private notes.

    `filler` adds that many more customer/agent messages in between, to make the
    conversation span several pages.
    """

    platform, base_url, auth_header, auth_value = "Chatwoot", BASE_URL, "api_access_token", TOKEN
    unauthorized_body = {"error": "You need to sign in or sign up before continuing."}

    def __init__(self, rsps, tags: list[str], notes: list[str], filler: int = 0):
        super().__init__(rsps)
        self.tags = list(tags)
        self.notes = list(notes)
        self.messages: list[dict] = []
        self._add("The parcel for order 88-4410 never arrived.", 0, CONTACT)
        for i in range(filler):
            self._add(f"Follow-up {i}", i % 2, AGENT if i % 2 else CONTACT)
        self._add("Once it is marked delivered you need to contact the courier.", 1, AGENT)
        self._add("Tomás Ruiz self-assigned this conversation", 2, None)
        for body in notes:
            self._add(body, 1, API_USER, private=True)

    def routes(self):
        """The conversation, messages and labels endpoints the adapter uses."""
        prefix = rf"/api/v1/accounts/{ACCOUNT_ID}/conversations/{TICKET_ID}"
        return [
            ("GET", prefix, self._conversation),
            ("GET", rf"{prefix}/messages", self._list_messages),
            ("POST", rf"{prefix}/messages", self._create_message),
            ("GET", rf"{prefix}/labels", self._labels),
            ("POST", rf"{prefix}/labels", self._set_labels),
        ]

    def _add(self, content: str, message_type: int, sender: dict | None, private: bool = False) -> dict:
        number = len(self.messages)
        message = {"id": 5000 + number, "content": content, "account_id": int(ACCOUNT_ID), "inbox_id": 7,
                   "conversation_id": int(TICKET_ID), "message_type": message_type, "content_type": "text",
                   "status": "sent", "content_attributes": {}, "created_at": START + 60 * number,
                   "private": private, "source_id": None, "sender_type": "Contact" if sender is CONTACT else "User",
                   "sender_id": sender and sender["id"]}
        if sender:
            message["sender"] = sender
        self.messages.append(message)
        return message

    # --- endpoints ---

    def _conversation(self, call: Call):
        return 200, {
            "id": int(TICKET_ID), "inbox_id": 7, "status": "open", "labels": self.tags, "channel": "Channel::WebWidget",
            "meta": {"sender": CONTACT, "assignee": AGENT, "team": {"id": 1, "name": "Orders"}, "hmac_verified": False},
            "messages": [self.messages[-1]], "created_at": START, "timestamp": self.messages[-1]["created_at"],
            "last_activity_at": self.messages[-1]["created_at"], "unread_count": 0}

    def _list_messages(self, call: Call):
        before = int(call.params["before"]) if "before" in call.params else None
        older = [m for m in self.messages if before is None or m["id"] < before]
        meta = {"labels": self.tags, "contact": CONTACT, "assignee": AGENT}
        return 200, {"meta": meta, "payload": older[-PAGE:]}

    def _create_message(self, call: Call):
        body = call.json
        assert body["message_type"] == "outgoing" and body["private"] is True, body
        self.notes.append(body["content"])
        return 200, self._add(body["content"], 1, API_USER, private=True)

    def _labels(self, call: Call):
        return 200, {"payload": self.tags}

    def _set_labels(self, call: Call):
        self.tags = list(call.json["labels"])  # Chatwoot replaces the whole set
        return 200, {"payload": self.tags}
