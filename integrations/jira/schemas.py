"""The parts of a Jira webhook (and of Jira's REST answers) the adapter reads; everything else is ignored."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from ..payloads import Lenient, optional



class TextOrDocument(fields.Field):
    """A comment or description body: wiki-markup text (REST v2, webhooks) or an ADF document (REST v3)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None or isinstance(value, (str, dict)):
            return value
        raise ValidationError("Must be text or an Atlassian Document Format object.")


class JiraId(fields.Field):
    """An id Jira sends as a string ("10040") or, from some automation templates, as a number."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            raise ValidationError("Must be a non-empty id.")
        return str(value).strip()


class UserSchema(Lenient):
    """A Jira user: Cloud identifies by accountId, Server/Data Center by key/name."""

    accountId = optional()
    key = optional()
    name = optional()
    displayName = optional()
    emailAddress = optional()
    # "atlassian" for licensed users, "customer" for JSM portal-only customers, "app" for bots.
    accountType = optional()


class StatusSchema(Lenient):
    """An issue status; only its name matters here."""

    name = optional()


class IssueFieldsSchema(Lenient):
    """The issue fields the normalized ticket uses (comment_created webhooks send only a few)."""

    summary = optional()
    description = optional(TextOrDocument)
    status = optional(fields.Nested, StatusSchema)
    labels = fields.List(fields.String(), load_default=list, allow_none=True)
    reporter = optional(fields.Nested, UserSchema)
    assignee = optional(fields.Nested, UserSchema)
    created = optional()
    updated = optional()


class IssueSchema(Lenient):
    """An issue: its numeric id (our ticket id), key and fields."""

    id = JiraId(required=True)
    key = optional()
    issue_fields = fields.Nested(IssueFieldsSchema, data_key="fields", load_default=dict)


class PropertySchema(Lenient):
    """An entity property; JSM marks internal comments with sd.public.comment {"internal": true}."""

    key = optional()
    value = optional(fields.Raw)


class CommentSchema(Lenient):
    """One comment; `jsdPublic` is false for a JSM internal comment."""

    id = JiraId(required=True)
    url = optional(fields.String, data_key="self")
    body = TextOrDocument(required=True, allow_none=False)
    author = optional(fields.Nested, UserSchema)
    created = optional()
    jsdPublic = optional(fields.Boolean)
    properties = fields.List(fields.Nested(PropertySchema), load_default=list, allow_none=True)
    # Only in the Automation "Send web request" template of doc.md ({{comment.internal}}).
    internal = optional(fields.Raw)


class IssueEventSchema(Lenient):
    """jira:issue_created: the new issue, whose description is the requester's first message."""

    webhookEvent = fields.String(required=True)
    issue = fields.Nested(IssueSchema, required=True)


class CommentEventSchema(Lenient):
    """comment_created, or jira:issue_updated with issue_event_type_name issue_commented.

    Server/Data Center comment_created webhooks carry no issue: its id is read
    from the comment's `self` URL instead.
    """

    webhookEvent = fields.String(required=True)
    issue = optional(fields.Nested, IssueSchema)
    comment = fields.Nested(CommentSchema, required=True)


class CommentPageSchema(Lenient):
    """GET /rest/api/3/issue/{id}/comment: one page of comments (startAt/maxResults/total)."""

    startAt = fields.Integer(load_default=0)
    total = fields.Integer(load_default=0)
    comments = fields.List(fields.Nested(CommentSchema), load_default=list)
