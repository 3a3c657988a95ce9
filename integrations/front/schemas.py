"""The parts of Front's event objects and Core API resources that Trustdesk reads.

An event (`evt_...`) names its conversation, what caused it (`source`) and what
it is about (`target`: a message or a comment). Rule webhooks post the event as
the body; application webhooks wrap it as `{"type", "authorization", "payload"}`.
Unknown fields are ignored.
"""

from __future__ import annotations

from marshmallow import fields

from models.ticket import Identifier

from ..payloads import Lenient, optional




class TeammateSchema(Lenient):
    """A Front user: authors outbound messages and comments, and is the conversation's assignee."""

    id = optional(Identifier)
    email = optional()
    username = optional()
    first_name = optional()
    last_name = optional()


class RecipientSchema(Lenient):
    """A handle on a message or the conversation's main contact; `role` is from, to, cc or bcc."""

    handle = optional()
    role = optional()
    name = optional()
    links = fields.Dict(data_key="_links", load_default=dict)


class MessageSchema(Lenient):
    """A message; event previews may leave out `body` and `text` (then `blurb` is all there is)."""

    id = Identifier(required=True)
    type = optional()
    is_inbound = optional(fields.Boolean)
    is_draft = optional(fields.Boolean)
    created_at = optional(fields.Float)
    blurb = optional()
    body = optional()
    text = optional()
    author = optional(fields.Nested, TeammateSchema)
    recipients = fields.List(fields.Nested(RecipientSchema), load_default=list)


class CommentSchema(Lenient):
    """An internal comment by a teammate (Front's private note)."""

    id = Identifier(required=True)
    body = optional()
    posted_at = optional(fields.Float)
    author = optional(fields.Nested, TeammateSchema)


class TagSchema(Lenient):
    """A tag: conversations carry them, GET /tags lists them, POST /tags creates one."""

    id = optional(Identifier)
    name = optional()


class ConversationSchema(Lenient):
    """A conversation, as embedded in an event or returned by GET /conversations/{id}."""

    id = Identifier(required=True)
    subject = optional()
    status = optional()
    assignee = optional(fields.Nested, TeammateSchema)
    recipient = optional(fields.Nested, RecipientSchema)
    tags = fields.List(fields.Nested(TagSchema), load_default=list)
    created_at = optional(fields.Float)


class TargetSchema(Lenient):
    """`target`: `{"_meta": {"type": "message" | "comment" | ...}, "data": {...}}`."""

    meta = fields.Dict(data_key="_meta", load_default=dict)
    data = optional(fields.Raw)


class EventSchema(Lenient):
    """An event object (the rule-webhook body, or an application webhook's `payload`)."""

    id = fields.String(required=True)
    type = fields.String(required=True)
    emitted_at = optional(fields.Float)
    conversation = fields.Nested(ConversationSchema, required=True)
    target = fields.Nested(TargetSchema, required=True)
