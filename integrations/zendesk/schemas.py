"""The parts of Zendesk webhook bodies Trustdesk reads: event-subscription envelopes and our trigger template.

Unknown fields are ignored (Zendesk adds fields; admins add placeholders), and
every bad field is named in the error, so a rejected delivery says what to fix.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load

from models.ticket import Identifier


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class AuthorSchema(_Lenient):
    """`event.comment.author` of a comment_added event: `is_staff` tells agent from end user."""

    id = Identifier(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)
    is_staff = fields.Boolean(load_default=None, allow_none=True)


class CommentSchema(_Lenient):
    """`event.comment` of a comment_added event: one comment, public or internal."""

    id = Identifier(load_default=None, allow_none=True)
    body = fields.String(required=True)
    is_public = fields.Boolean(load_default=True)
    author = fields.Nested(AuthorSchema, load_default=dict)


class CommentEventSchema(_Lenient):
    """The `event` object of zen:event-type:ticket.comment_added."""

    comment = fields.Nested(CommentSchema, required=True)


class DetailSchema(_Lenient):
    """The ticket snapshot in `detail` (ids are strings in the documented payloads)."""

    id = Identifier(required=True)
    subject = fields.String(load_default=None, allow_none=True)
    description = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True)
    tags = fields.List(fields.String(), load_default=list, allow_none=True)
    created_at = fields.String(load_default=None, allow_none=True)
    updated_at = fields.String(load_default=None, allow_none=True)
    requester_id = Identifier(load_default=None, allow_none=True)
    submitter_id = Identifier(load_default=None, allow_none=True)
    assignee_id = Identifier(load_default=None, allow_none=True)


class EnvelopeSchema(_Lenient):
    """An event-subscription delivery: `id` (unique per event), `type`, `detail`, `event`."""

    id = fields.String(required=True)
    type = fields.String(required=True)
    detail = fields.Nested(DetailSchema, required=True)
    event = fields.Dict(load_default=dict, allow_none=True)


class TriggerSchema(_Lenient):
    """The JSON body of a trigger webhook: our template (doc.md), or Zulip's field names.

    Placeholders with no value render as empty strings; those count as absent.
    """

    ticket_id = Identifier(required=True)
    ticket_title = fields.String(load_default=None)
    ticket_status = fields.String(load_default=None)
    tags = fields.String(load_default=None)
    comment_id = Identifier(load_default=None)
    comment_body = fields.String(load_default=None)
    comment_public = fields.String(load_default=None)
    comment_author_id = Identifier(load_default=None)
    comment_author_name = fields.String(load_default=None)
    current_user_role = fields.String(load_default=None)
    requester_id = Identifier(load_default=None)
    requester_name = fields.String(load_default=None)
    requester_full_name = fields.String(load_default=None)
    requester_email = fields.String(load_default=None)
    organization_name = fields.String(load_default=None)
    assignee_name = fields.String(load_default=None)
    group_name = fields.String(load_default=None)
    # Zulip's templates: a preformatted `message`, or the ticket description.
    message = fields.String(load_default=None)
    ticket_description = fields.String(load_default=None)

    @pre_load
    def _blank_is_absent(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data
