"""The parts of Zendesk webhook bodies Trustdesk reads: event-subscription envelopes and our trigger template.

Unknown fields are ignored (Zendesk adds fields; admins add placeholders), and
every bad field is named in the error, so a rejected delivery says what to fix.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_load

from models.ticket import Identifier

from ..payloads import Lenient, drop_blanks, optional


class AuthorSchema(Lenient):
    """`event.comment.author` of a comment_added event: `is_staff` tells agent from end user."""

    id = optional(Identifier)
    name = optional()
    is_staff = optional(fields.Boolean)


class CommentSchema(Lenient):
    """`event.comment` of a comment_added event: one comment, public or internal."""

    id = optional(Identifier)
    body = fields.String(required=True)
    is_public = fields.Boolean(load_default=True)
    author = fields.Nested(AuthorSchema, load_default=dict)


class CommentEventSchema(Lenient):
    """The `event` object of zen:event-type:ticket.comment_added."""

    comment = fields.Nested(CommentSchema, required=True)


class DetailSchema(Lenient):
    """The ticket snapshot in `detail` (ids are strings in the documented payloads)."""

    id = Identifier(required=True)
    subject = optional()
    description = optional()
    status = optional()
    tags = fields.List(fields.String(), load_default=list, allow_none=True)
    created_at = optional()
    updated_at = optional()
    requester_id = optional(Identifier)
    submitter_id = optional(Identifier)
    assignee_id = optional(Identifier)


class EnvelopeSchema(Lenient):
    """An event-subscription delivery: `id` (unique per event), `type`, `detail`, `event`."""

    id = fields.String(required=True)
    type = fields.String(required=True)
    detail = fields.Nested(DetailSchema, required=True)
    event = fields.Dict(load_default=dict, allow_none=True)


class TriggerSchema(Lenient):
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
        return drop_blanks(data)
