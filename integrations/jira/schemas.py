"""The parts of a Jira webhook (and of Jira's REST answers) the adapter reads; everything else is ignored."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


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


class UserSchema(_Lenient):
    """A Jira user: Cloud identifies by accountId, Server/Data Center by key/name."""

    accountId = fields.String(load_default=None, allow_none=True)
    key = fields.String(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)
    displayName = fields.String(load_default=None, allow_none=True)
    emailAddress = fields.String(load_default=None, allow_none=True)
    # "atlassian" for licensed users, "customer" for JSM portal-only customers, "app" for bots.
    accountType = fields.String(load_default=None, allow_none=True)


class StatusSchema(_Lenient):
    """An issue status; only its name matters here."""

    name = fields.String(load_default=None, allow_none=True)


class IssueFieldsSchema(_Lenient):
    """The issue fields the normalized ticket uses (comment_created webhooks send only a few)."""

    summary = fields.String(load_default=None, allow_none=True)
    description = TextOrDocument(load_default=None, allow_none=True)
    status = fields.Nested(StatusSchema, load_default=None, allow_none=True)
    labels = fields.List(fields.String(), load_default=list, allow_none=True)
    reporter = fields.Nested(UserSchema, load_default=None, allow_none=True)
    assignee = fields.Nested(UserSchema, load_default=None, allow_none=True)
    created = fields.String(load_default=None, allow_none=True)
    updated = fields.String(load_default=None, allow_none=True)


class IssueSchema(_Lenient):
    """An issue: its numeric id (our ticket id), key and fields."""

    id = JiraId(required=True)
    key = fields.String(load_default=None, allow_none=True)
    issue_fields = fields.Nested(IssueFieldsSchema, data_key="fields", load_default=dict)


class PropertySchema(_Lenient):
    """An entity property; JSM marks internal comments with sd.public.comment {"internal": true}."""

    key = fields.String(load_default=None, allow_none=True)
    value = fields.Raw(load_default=None, allow_none=True)


class CommentSchema(_Lenient):
    """One comment; `jsdPublic` is false for a JSM internal comment."""

    id = JiraId(required=True)
    url = fields.String(data_key="self", load_default=None, allow_none=True)
    body = TextOrDocument(required=True, allow_none=False)
    author = fields.Nested(UserSchema, load_default=None, allow_none=True)
    created = fields.String(load_default=None, allow_none=True)
    jsdPublic = fields.Boolean(load_default=None, allow_none=True)
    properties = fields.List(fields.Nested(PropertySchema), load_default=list, allow_none=True)
    # Only in the Automation "Send web request" template of doc.md ({{comment.internal}}).
    internal = fields.Raw(load_default=None, allow_none=True)


class IssueEventSchema(_Lenient):
    """jira:issue_created: the new issue, whose description is the requester's first message."""

    webhookEvent = fields.String(required=True)
    issue = fields.Nested(IssueSchema, required=True)


class CommentEventSchema(_Lenient):
    """comment_created, or jira:issue_updated with issue_event_type_name issue_commented.

    Server/Data Center comment_created webhooks carry no issue: its id is read
    from the comment's `self` URL instead.
    """

    webhookEvent = fields.String(required=True)
    issue = fields.Nested(IssueSchema, load_default=None, allow_none=True)
    comment = fields.Nested(CommentSchema, required=True)


class CommentPageSchema(_Lenient):
    """GET /rest/api/3/issue/{id}/comment: one page of comments (startAt/maxResults/total)."""

    startAt = fields.Integer(load_default=0)
    total = fields.Integer(load_default=0)
    comments = fields.List(fields.Nested(CommentSchema), load_default=list)
