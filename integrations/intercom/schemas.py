"""The parts of Intercom's webhook notifications and REST objects that Trustdesk reads.

Webhook items come in the shape of the app's API version: older apps send
`user` and `conversation_message`, newer ones `contacts` and `source`; both are
read. Everything else Intercom adds is ignored (unknown fields EXCLUDE).
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


class AuthorSchema(_Lenient):
    """Who wrote a message or part: `type` is user, lead, contact, admin, bot or team."""

    type = _optional()
    id = _optional(Identifier)
    name = _optional()
    email = _optional()


class PartSchema(_Lenient):
    """One conversation or ticket part: a reply, a note, an assignment carrying a message, a bot notice."""

    id = Identifier(required=True)
    part_type = _optional()
    body = _optional()
    created_at = _optional(fields.Integer)
    author = fields.Nested(AuthorSchema, load_default=None, allow_none=True)


class MessageSchema(_Lenient):
    """The message that opened a conversation (`source`, or `conversation_message` in older payloads)."""

    id = _optional(Identifier)
    subject = _optional()
    body = _optional()
    author = fields.Nested(AuthorSchema, load_default=None, allow_none=True)


class ConversationPartsSchema(_Lenient):
    """`conversation_parts`: webhooks carry only the newest part, the REST API up to 500."""

    conversation_parts = fields.List(fields.Nested(PartSchema), load_default=list)
    total_count = _optional(fields.Integer)


class TicketPartsSchema(_Lenient):
    """`ticket_parts` of a ticket (up to 500)."""

    ticket_parts = fields.List(fields.Nested(PartSchema), load_default=list)
    total_count = _optional(fields.Integer)


class TagSchema(_Lenient):
    """A workspace tag applied to a conversation."""

    id = _optional(Identifier)
    name = _optional()


class TagListSchema(_Lenient):
    """`tags`: `{"type": "tag.list", "tags": [...]}`."""

    tags = fields.List(fields.Nested(TagSchema), load_default=list)


class ContactSchema(_Lenient):
    """A customer reference: `user` in older payloads, an entry of `contacts.contacts` in newer ones."""

    type = _optional()
    id = _optional(Identifier)
    name = _optional()
    email = _optional()


class ContactListSchema(_Lenient):
    """`contacts`: `{"type": "contact.list", "contacts": [...]}`."""

    contacts = fields.List(fields.Nested(ContactSchema), load_default=list)


class AssigneeSchema(_Lenient):
    """The admin a conversation is assigned to (older payloads; newer ones give `admin_assignee_id`)."""

    type = _optional()
    id = _optional(Identifier)
    name = _optional()


class ConversationSchema(_Lenient):
    """A conversation, from a webhook item or from GET /conversations/{id}."""

    id = Identifier(required=True)
    created_at = _optional(fields.Integer)
    updated_at = _optional(fields.Integer)
    state = _optional()
    title = _optional()
    user = fields.Nested(ContactSchema, load_default=None, allow_none=True)
    contacts = fields.Nested(ContactListSchema, load_default=None, allow_none=True)
    assignee = fields.Nested(AssigneeSchema, load_default=None, allow_none=True)
    admin_assignee_id = _optional(Identifier)
    conversation_message = fields.Nested(MessageSchema, load_default=None, allow_none=True)
    source = fields.Nested(MessageSchema, load_default=None, allow_none=True)
    conversation_parts = fields.Nested(ConversationPartsSchema, load_default=None, allow_none=True)
    tags = fields.Nested(TagListSchema, load_default=None, allow_none=True)


class TicketSchema(_Lenient):
    """A ticket, from a webhook item or from GET /tickets/{id}; `id` is the API id, not the Inbox number."""

    id = Identifier(required=True)
    ticket_id = _optional(Identifier)
    ticket_attributes = fields.Dict(load_default=dict)
    # An object in webhooks, a plain string in some API versions.
    ticket_state = fields.Raw(load_default=None, allow_none=True)
    contacts = fields.Nested(ContactListSchema, load_default=None, allow_none=True)
    admin_assignee_id = _optional(Identifier)
    created_at = _optional(fields.Integer)
    updated_at = _optional(fields.Integer)
    ticket_parts = fields.Nested(TicketPartsSchema, load_default=None, allow_none=True)
    # Not in every API version's ticket model; read leniently (a tag.list object or a bare list).
    tags = fields.Raw(load_default=None, allow_none=True)


class TicketReplySchema(_Lenient):
    """The item of `ticket.contact.replied`: `{"type": "ticket_ticket_part", "ticket": ..., "ticket_part": ...}`."""

    ticket = fields.Nested(TicketSchema, required=True)
    ticket_part = fields.Nested(PartSchema, required=True)


class NotificationSchema(_Lenient):
    """The webhook envelope: `{"type": "notification_event", "id": "notif_...", "topic", "data": {"item"}}`."""

    id = fields.String(required=True)
    topic = fields.String(required=True)
    data = fields.Dict(required=True)
