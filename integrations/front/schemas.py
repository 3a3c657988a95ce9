"""The parts of Front's event objects and Core API resources that Trustdesk reads.

An event (`evt_...`) names its conversation, what caused it (`source`) and what
it is about (`target`: a message or a comment). Rule webhooks post the event as
the body; application webhooks wrap it as `{"type", "authorization", "payload"}`.
Unknown fields are ignored.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

from models.ticket import Identifier


class _Lenient(Schema):
    """Ignore every field Trustdesk does not read."""

    class Meta:
        unknown = EXCLUDE


def _optional(field: type[fields.Field] = fields.String, **kwargs) -> fields.Field:
    """A field that may be absent or null."""
    return field(load_default=None, allow_none=True, **kwargs)


class TeammateSchema(_Lenient):
    """A Front user: authors outbound messages and comments, and is the conversation's assignee."""

    id = _optional(Identifier)
    email = _optional()
    username = _optional()
    first_name = _optional()
    last_name = _optional()


class RecipientSchema(_Lenient):
    """A handle on a message or the conversation's main contact; `role` is from, to, cc or bcc."""

    handle = _optional()
    role = _optional()
    name = _optional()
    links = fields.Dict(data_key="_links", load_default=dict)


class MessageSchema(_Lenient):
    """A message; event previews may leave out `body` and `text` (then `blurb` is all there is)."""

    id = Identifier(required=True)
    type = _optional()
    is_inbound = _optional(fields.Boolean)
    is_draft = _optional(fields.Boolean)
    created_at = _optional(fields.Float)
    blurb = _optional()
    body = _optional()
    text = _optional()
    author = fields.Nested(TeammateSchema, load_default=None, allow_none=True)
    recipients = fields.List(fields.Nested(RecipientSchema), load_default=list)


class CommentSchema(_Lenient):
    """An internal comment by a teammate (Front's private note)."""

    id = Identifier(required=True)
    body = _optional()
    posted_at = _optional(fields.Float)
    author = fields.Nested(TeammateSchema, load_default=None, allow_none=True)


class TagSchema(_Lenient):
    """A tag: conversations carry them, GET /tags lists them, POST /tags creates one."""

    id = _optional(Identifier)
    name = _optional()


class ConversationSchema(_Lenient):
    """A conversation, as embedded in an event or returned by GET /conversations/{id}."""

    id = Identifier(required=True)
    subject = _optional()
    status = _optional()
    assignee = fields.Nested(TeammateSchema, load_default=None, allow_none=True)
    recipient = fields.Nested(RecipientSchema, load_default=None, allow_none=True)
    tags = fields.List(fields.Nested(TagSchema), load_default=list)
    created_at = _optional(fields.Float)


class TargetSchema(_Lenient):
    """`target`: `{"_meta": {"type": "message" | "comment" | ...}, "data": {...}}`."""

    meta = fields.Dict(data_key="_meta", load_default=dict)
    data = fields.Raw(load_default=None, allow_none=True)


class EventSchema(_Lenient):
    """An event object (the rule-webhook body, or an application webhook's `payload`)."""

    id = fields.String(required=True)
    type = fields.String(required=True)
    emitted_at = _optional(fields.Float)
    conversation = fields.Nested(ConversationSchema, required=True)
    target = fields.Nested(TargetSchema, required=True)
