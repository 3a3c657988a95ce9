"""Verify and parse Jira Cloud / Jira Service Management webhooks, and write internal comments and labels back.

Two ways in, one secret (TRUSTDESK_JIRA_WEBHOOK_SECRET):
- an admin webhook saved with that secret signs the raw body:
  `X-Hub-Signature: sha256=<hex HMAC-SHA256>`; when that header is present it must match;
- a Jira Automation "Send web request" is not signed: without X-Hub-Signature the
  delivery must present the secret in X-Trustdesk-Token (or as the HTTP Basic password).
Jira sends no signed timestamp, so there is no replay window.

Events: jira:issue_created (the description is the requester's first message),
comment_created, and jira:issue_updated with issue_event_type_name issue_commented.
Other updates (labels, status, fields) and our own comments are acknowledged and ignored.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping

from ..base import (Adapter, BadPayload, Delivery, Event, NotConfigured, Note, Unauthorized, UnsupportedEvent,
                    hmac_sha256_hex, is_ours, same, verify_shared_secret)
from ..http import ApiClient
from ..payloads import load, normalized_ticket, read_json
from .schemas import CommentEventSchema, CommentPageSchema, IssueEventSchema, IssueSchema

SIGNATURE_HEADER = "X-Hub-Signature"
PAGE_SIZE = 100
ISSUE_FIELDS = "summary,description,status,labels,reporter,assignee,created,updated"
# (webhookEvent, issue_event_type_name) -> our event type; None matches any sub-type.
ROUTES = {
    ("jira:issue_created", None): "issue_created",
    ("comment_created", None): "comment_created",
    ("jira:issue_updated", "issue_commented"): "issue_commented",
}
_ISSUE_IN_URL = re.compile(r"/issue/(\d+)/comment/")
# ADF nodes that end a line of text.
_BLOCKS = {"paragraph", "heading", "blockquote", "codeBlock", "listItem", "rule", "panel", "tableRow"}


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature value Jira sends for a body."""
    return "sha256=" + hmac_sha256_hex(secret, body)


def adf_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format node (REST v3 bodies), one line per block."""
    if isinstance(node, list):
        return "".join(adf_text(child) for child in node)
    if not isinstance(node, dict):
        return ""
    kind, attrs = node.get("type"), node.get("attrs") or {}
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "status", "date"):
        return str(attrs.get("text") or attrs.get("shortName") or attrs.get("timestamp") or "")
    if kind in ("inlineCard", "blockCard"):
        return str(attrs.get("url", ""))
    inner = adf_text(node.get("content") or [])
    return inner.rstrip("\n") + "\n" if kind in _BLOCKS else inner


def body_text(value: Any) -> str:
    """A body as text, whether Jira sent wiki markup (webhooks, v2) or ADF (v3)."""
    return value if isinstance(value, str) else adf_text(value).strip("\n") if value else ""


def is_public(comment: Mapping[str, Any]) -> bool:
    """False for a JSM internal comment (jsdPublic false, sd.public.comment internal, or Automation's flag)."""
    if comment.get("jsdPublic") is False or str(comment.get("internal")).lower() == "true":
        return False
    for prop in comment.get("properties") or []:
        if prop.get("key") == "sd.public.comment" and isinstance(prop.get("value"), dict):
            if prop["value"].get("internal") in (True, "true"):
                return False
    return True


def same_person(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Whether two Jira users are one: by accountId on Cloud, by key or name on Server/Data Center."""
    if not a or not b:
        return False
    for field in ("accountId", "key", "name"):
        if a.get(field) and b.get(field):
            return str(a[field]).lower() == str(b[field]).lower()
    return False


def author_role(author: Mapping[str, Any] | None, reporter: Mapping[str, Any] | None) -> str:
    """customer for a JSM portal customer or the issue's reporter (the requester), else agent."""
    if author and author.get("accountType") == "customer":
        return "customer"
    return "customer" if same_person(author, reporter) else "agent"


def _person(user: Mapping[str, Any] | None) -> dict | None:
    """A normalized person from a Jira user."""
    if not user:
        return None
    return {"id": user.get("accountId") or user.get("key") or user.get("name"), "name": user.get("displayName")}


class JiraAdapter(Adapter):
    """Jira Cloud and Jira Service Management: admin webhooks or Automation web requests, REST write-back."""

    name = "jira"
    event_types = ("issue_created", "comment_created", "issue_commented")

    @classmethod
    def signature_headers(cls, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """Headers of a signed admin-webhook delivery (Automation deliveries use shared_secret_headers)."""
        return {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}

    def verify(self, delivery: Delivery) -> None:
        """Check X-Hub-Signature when Jira signed the delivery, else the shared secret Automation presents."""
        if not self.secret:
            raise NotConfigured("TRUSTDESK_JIRA_WEBHOOK_SECRET is not set: Jira deliveries are refused")
        signature = delivery.header(SIGNATURE_HEADER)
        if signature is None:
            verify_shared_secret(delivery, self.secret, "TRUSTDESK_JIRA_WEBHOOK_SECRET")
        elif not same(signature.strip(), sign(self.secret, delivery.body)):
            raise Unauthorized(f"{SIGNATURE_HEADER} does not match the body")

    def parse(self, delivery: Delivery) -> Event:
        """The event in a delivery: its type through ROUTES, then that type's builder."""
        data = read_json(delivery.body)
        kind = _route(data)
        return self._builders()[kind](kind, data)

    def _builders(self) -> dict[str, Callable[[str, Any], Event]]:
        """The dispatch table: our event type -> the method that builds its Event."""
        return {"issue_created": self._issue_created, "comment_created": self._comment,
                "issue_commented": self._comment}

    def _issue_created(self, kind: str, data: Any) -> Event:
        """A new issue: its description (or summary) as the requester's message; nothing else exists yet."""
        issue = load(IssueEventSchema(), data)["issue"]
        messages = _opening(issue, summary_fallback=True)
        if not messages:
            raise BadPayload("issue.fields: neither description nor summary", {"issue": {"fields": ["No text."]}})
        ticket = self._ticket(issue["id"], issue.get("issue_fields") or {}, messages)
        return Event(f"{issue['id']}:created", kind, ticket, complete=True)

    def _comment(self, kind: str, data: Any) -> Event:
        """One new comment (ours ignored); the rest of the conversation is fetched, so complete=False."""
        envelope = load(CommentEventSchema(), data)
        comment, issue = envelope["comment"], envelope.get("issue") or {}
        issue_id = issue.get("id") or _issue_id_from(comment.get("url"))
        text = body_text(comment["body"])
        if is_ours(text):
            raise UnsupportedEvent("a comment Trustdesk wrote")
        fields = issue.get("issue_fields") or {}
        messages = _opening(issue, summary_fallback=False) + [_comment_message(comment, fields.get("reporter"))]
        ticket = self._ticket(issue_id, fields, messages)
        return Event(f"{issue_id}:comment:{comment['id']}", kind, ticket, complete=False)

    def _ticket(self, issue_id: str, fields: Mapping[str, Any], messages: list[dict]) -> dict:
        """The normalized ticket of an issue; BadPayload if it does not validate."""
        return normalized_ticket(self.name, {
            "id": issue_id, "subject": fields.get("summary"),
            "status": (fields.get("status") or {}).get("name"), "tags": fields.get("labels") or [],
            "created_at": fields.get("created"), "updated_at": fields.get("updated"),
            "requester": _requester(fields.get("reporter")), "assignee": _person(fields.get("assignee")),
            "messages": messages})

    # --- REST API ---------------------------------------------------------------

    @property
    def can_write_back(self) -> bool:
        """Write-back needs the site URL, an account email and its API token."""
        return bool(self.setting("BASE_URL") and self.setting("EMAIL") and self.setting("API_TOKEN"))

    def _api(self) -> ApiClient:
        """A client for the site's REST API with Basic email:API-token auth."""
        if not self.can_write_back:
            raise NotConfigured("TRUSTDESK_JIRA_BASE_URL, TRUSTDESK_JIRA_EMAIL and TRUSTDESK_JIRA_API_TOKEN are needed")
        return ApiClient(self.setting("BASE_URL"), auth=(self.setting("EMAIL"), self.setting("API_TOKEN")))

    def fetch_ticket(self, ticket_id: str) -> dict:
        """The issue with its description and every comment (all pages), without Trustdesk's own."""
        api = self._api()
        issue = load(IssueSchema(), api.json("GET", f"/rest/api/3/issue/{ticket_id}", params={"fields": ISSUE_FIELDS}))
        fields = issue.get("issue_fields") or {}
        comments = [c for c in self._comments(api, ticket_id) if not is_ours(body_text(c["body"]))]
        replies = [_comment_message(c, fields.get("reporter")) for c in comments]
        messages = _opening(issue, summary_fallback=True) + replies
        return self._ticket(issue["id"], fields, messages)

    def _comments(self, api: ApiClient, issue_id: str) -> Iterator[dict]:
        """Every comment of an issue, following startAt/maxResults/total."""
        start = 0
        while True:
            page = load(CommentPageSchema(), api.json(
                "GET", f"/rest/api/3/issue/{issue_id}/comment",
                params={"startAt": start, "maxResults": PAGE_SIZE, "expand": "properties"}))
            yield from page["comments"]
            start += len(page["comments"])
            if not page["comments"] or start >= page["total"]:
                return

    def recent_tickets(self, since: datetime) -> Iterable[str]:
        """Ids of issues updated since `since`, through the enhanced JQL search (nextPageToken pages)."""
        api = self._api()
        # A relative JQL date ("-90m") avoids the API user's time zone, which absolute JQL dates use.
        since = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
        minutes = max(1, math.ceil((datetime.now(timezone.utc) - since).total_seconds() / 60))
        body: dict[str, Any] = {"jql": f"updated >= -{minutes}m ORDER BY updated ASC",
                                "fields": ["id"], "maxResults": PAGE_SIZE}
        for page in api.searched_pages("/rest/api/3/search/jql", body, _next_search):
            yield from (str(issue["id"]) for issue in page.get("issues") or [])

    def write_back(self, note: Note) -> None:
        """Post one internal JSM comment unless its marker is there already, then add the labels."""
        api = self._api()
        if not any(note.marker in body_text(c["body"]) for c in self._comments(api, note.ticket_id)):
            api.request("POST", f"/rest/servicedeskapi/request/{note.ticket_id}/comment",
                        json={"body": note.text, "public": False})
        if note.tags:
            # "update" with "add" appends labels server-side; "fields": {"labels": [...]} would replace them.
            api.request("PUT", f"/rest/api/3/issue/{note.ticket_id}",
                        json={"update": {"labels": [{"add": tag} for tag in note.tags]}})


def _next_search(body: dict, page: dict) -> dict | None:
    """The enhanced JQL search's next request: the same query with the answer's nextPageToken."""
    token = page.get("nextPageToken")
    return None if not token or page.get("isLast") else {**body, "nextPageToken": token}


def _route(data: Any) -> str:
    """Our event type for a delivery, or UnsupportedEvent (unknown events, updates without a comment)."""
    if not isinstance(data, dict) or not isinstance(data.get("webhookEvent"), str):
        raise UnsupportedEvent("not a Jira webhook (no webhookEvent)")
    event, sub_type = data["webhookEvent"], data.get("issue_event_type_name")
    kind = ROUTES.get((event, sub_type)) or ROUTES.get((event, None))
    if kind is None:
        raise UnsupportedEvent(f"Jira event {event}/{sub_type} carries no new message")
    return kind


def _issue_id_from(url: str | None) -> str:
    """The issue id in a comment's self URL (Server comment_created webhooks omit the issue)."""
    match = _ISSUE_IN_URL.search(url or "")
    if not match:
        raise BadPayload("issue: missing, and the comment's self URL names none", {"issue": ["Missing data."]})
    return match.group(1)


def _opening(issue: Mapping[str, Any], summary_fallback: bool) -> list[dict]:
    """The description as the reporter's first message (or the summary standing in for an empty one)."""
    fields = issue.get("issue_fields") or {}
    text = body_text(fields.get("description")).strip()
    if not text and summary_fallback:
        text = (fields.get("summary") or "").strip()
    if not text:
        return []
    reporter = fields.get("reporter")
    return [{"id": "description", "author_role": author_role(reporter, reporter), "author": _person(reporter),
             "body": text, "created_at": fields.get("created"), "public": True}]


def _comment_message(comment: Mapping[str, Any], reporter: Mapping[str, Any] | None) -> dict:
    """A normalized message from a comment."""
    return {"id": comment["id"], "author_role": author_role(comment.get("author"), reporter),
            "author": _person(comment.get("author")), "body": body_text(comment["body"]),
            "created_at": comment.get("created"), "public": is_public(comment)}


def _requester(reporter: Mapping[str, Any] | None) -> dict | None:
    """The requester (the issue's reporter) with their email where Jira shares it."""
    person = _person(reporter)
    return {**person, "email": reporter.get("emailAddress")} if person else None
