"""A fake Jira Cloud site with Jira Service Management: one request, its comments, labels and search.

Shapes follow the REST API v3 documentation (issue and comment bodies in
Atlassian Document Format, comment pages with startAt/maxResults/total, the
enhanced JQL search with nextPageToken) and the JSM servicedeskapi comment API.
Like the real site, it returns at most PAGE_CAP comments per page whatever
maxResults asks for, so callers must follow the pagination.
"""

from __future__ import annotations

import base64

from ._base import Call, FakeApi

BASE_URL = "https://example-support.atlassian.net"
EMAIL = "trustdesk@example.com"
API_TOKEN = "jira-api-token-0123"
SETTINGS = {
    "TRUSTDESK_JIRA_WEBHOOK_SECRET": "test-secret-0123456789",
    "TRUSTDESK_JIRA_BASE_URL": BASE_URL,
    "TRUSTDESK_JIRA_EMAIL": EMAIL,
    "TRUSTDESK_JIRA_API_TOKEN": API_TOKEN,
}
TICKET_ID = "10040"
PAGE_CAP = 2
SEARCH_RESULTS = ["10040", "10041", "10042"]
CUSTOMER = {"accountId": "qm:1111-customer", "displayName": "Dana Customer", "accountType": "customer",
            "emailAddress": "dana@example.org"}
AGENT = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Sam Agent", "accountType": "atlassian"}
BOT = {"accountId": "5b10ac8d82e05b22cc7d4f00", "displayName": "Trustdesk Bot", "accountType": "atlassian"}


def adf(text: str) -> dict:
    """A text as an ADF document, one paragraph per line (as Jira stores a plain-text comment)."""
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
        for line in text.split("\n")]}


class Fake(FakeApi):
    """The site's state (labels, comments) behind one `responses` callback per HTTP method."""

    platform, base_url = "Jira", BASE_URL
    auth_value = "Basic " + base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
    failure_body = {"errorMessages": ["simulated failure"]}
    unauthorized_body = {"errorMessages": ["Client must be authenticated."]}

    def __init__(self, rsps, tags, notes):
        super().__init__(rsps)
        self.tags = list(tags)
        self.notes = list(notes)
        self._comments = [
            {"id": "20001", "author": CUSTOMER, "text": "Where is my refund? Your partner says it's your job.",
             "public": True, "created": "2024-06-10T15:00:00.000+0000"},
            {"id": "20002", "author": AGENT, "text": "Please contact the marketplace, we cannot help with that.",
             "public": True, "created": "2024-06-10T16:00:00.000+0000"},
        ] + [self._note(text, i) for i, text in enumerate(self.notes)]

    def _note(self, text: str, index: int) -> dict:
        return {"id": f"3000{index}", "author": BOT, "text": text, "public": False,
                "created": "2024-06-10T17:00:00.000+0000"}

    def routes(self):
        """The REST and servicedeskapi endpoints the adapter uses."""
        issue = rf"/rest/api/3/issue/{TICKET_ID}"
        return [
            ("GET", issue, self._get_issue),
            ("PUT", issue, self._edit_issue),
            ("GET", issue + "/comment", self._list_comments),
            ("POST", rf"/rest/servicedeskapi/request/{TICKET_ID}/comment", self._add_comment),
            ("POST", r"/rest/api/3/search/jql", self._search),
        ]

    def _get_issue(self, call: Call):
        fields = {"summary": "Refund for order 5521", "status": {"name": "Waiting for support"},
                  "labels": list(self.tags), "reporter": CUSTOMER, "assignee": AGENT,
                  "description": adf("I returned the guitar a month ago and still have no refund."),
                  "created": "2024-06-09T10:00:00.000+0000", "updated": "2024-06-10T17:00:00.000+0000"}
        return 200, {"id": TICKET_ID, "key": "SUP-1", "self": f"{BASE_URL}/rest/api/3/issue/{TICKET_ID}",
                     "fields": fields}

    def _list_comments(self, call: Call):
        start = int(call.query.get("startAt", ["0"])[0])
        size = min(int(call.query.get("maxResults", ["50"])[0]), PAGE_CAP)
        page = self._comments[start:start + size]
        expand = "properties" in call.query.get("expand", [""])[0]
        return 200, {"startAt": start, "maxResults": size, "total": len(self._comments),
                     "comments": [self._comment_json(c, expand) for c in page]}

    def _comment_json(self, comment: dict, expand: bool) -> dict:
        out = {"id": comment["id"], "self": f"{BASE_URL}/rest/api/3/issue/{TICKET_ID}/comment/{comment['id']}",
               "author": comment["author"], "body": adf(comment["text"]), "created": comment["created"],
               "updated": comment["created"], "jsdPublic": comment["public"]}
        if expand:
            out["properties"] = [] if comment["public"] else [
                {"key": "sd.public.comment", "value": {"internal": True}}]
        return out

    def _add_comment(self, call: Call):
        body = call.json
        assert set(body) == {"body", "public"} and body["public"] is False, body
        comment = self._note(body["body"], len(self.notes))
        comment["id"] = f"4000{len(self.notes)}"
        self.notes.append(body["body"])
        self._comments.append(comment)
        return 201, {"id": comment["id"], "body": body["body"], "public": False, "author": BOT,
                     "created": {"iso8601": "2024-06-10T17:00:00+0000", "epochMillis": 1718038800000}}

    def _edit_issue(self, call: Call):
        body = call.json
        assert set(body) == {"update"} and set(body["update"]) == {"labels"}, body
        for operation in body["update"]["labels"]:
            (verb, label), = operation.items()
            if verb == "add" and label not in self.tags:
                self.tags.append(label)
            elif verb == "remove" and label in self.tags:
                self.tags.remove(label)
        return 204, None

    def _search(self, call: Call):
        body = call.json
        start = int(body.get("nextPageToken") or 0)
        page = SEARCH_RESULTS[start:start + 2]
        more = start + 2 < len(SEARCH_RESULTS)
        answer = {"issues": [{"id": issue_id, "key": f"SUP-{issue_id[-1]}"} for issue_id in page], "isLast": not more}
        if more:
            answer["nextPageToken"] = str(start + 2)
        return 200, answer
