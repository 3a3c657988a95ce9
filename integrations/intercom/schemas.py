"""The parts of Intercom's webhook notifications and REST objects that Trustdesk reads.

Webhook items come in the shape of the app's API version: older apps send
`user` and `conversation_message`, newer ones `contacts` and `source`; both are
read. Everything else Intercom adds is ignored (unknown fields EXCLUDE).
"""

from __future__ import annotations

from marshmallow import fields

from models.ticket import Identifier

from ..payloads import Lenient, optional




class AuthorSchema(Lenient):
    """Who wrote a message or part: `type` is user, lead, contact, admin, bot or team."""

    type = optional()
    id = optional(Identifier)
    name = optional()
    email = optional()


class PartSchema(Lenient):
    """One conversation or ticket part: a reply, a note, an assignment carrying a message, a bot notice."""

    id = Identifier(required=True)
    part_type = optional()
    body = optional()
    created_at = optional(fields.Integer)
    author = optional(fields.Nested, AuthorSchema)


class MessageSchema(Lenient):
    """The message that opened a conversation (`source`, or `conversation_message` in older payloads)."""

    id = optional(Identifier)
    subject = optional()
    body = optional()
    author = optional(fields.Nested, AuthorSchema)


class ConversationPartsSchema(Lenient):
    """`conversation_parts`: webhooks carry only the newest part, the REST API up to 500."""

    conversation_parts = fields.List(fields.Nested(PartSchema), load_default=list)
    total_count = optional(fields.Integer)


class TicketPartsSchema(Lenient):
    """`ticket_parts` of a ticket (up to 500)."""

    ticket_parts = fields.List(fields.Nested(PartSchema), load_default=list)
    total_count = optional(fields.Integer)


class TagSchema(Lenient):
    """A workspace tag applied to a conversation."""

    id = optional(Identifier)
    name = optional()


class TagListSchema(Lenient):
    """`tags`: `{"type": "tag.list", "tags": [...]}`."""

    tags = fields.List(fields.Nested(TagSchema), load_default=list)


class ContactSchema(Lenient):
    """A customer reference: `user` in older payloads, an entry of `contacts.contacts` in newer ones."""

    type = optional()
    id = optional(Identifier)
    name = optional()
    email = optional()


class ContactListSchema(Lenient):
    """`contacts`: `{"type": "contact.list", "contacts": [...]}`."""

    contacts = fields.List(fields.Nested(ContactSchema), load_default=list)


class AssigneeSchema(Lenient):
    """The admin a conversation is assigned to (older payloads; newer ones give `admin_assignee_id`)."""

    type = optional()
    id = optional(Identifier)
    name = optional()


class ConversationSchema(Lenient):
    """A conversation, from a webhook item or from GET /conversations/{id}."""

    id = Identifier(required=True)
    created_at = optional(fields.Integer)
    updated_at = optional(fields.Integer)
    state = optional()
    title = optional()
    user = optional(fields.Nested, ContactSchema)
    contacts = optional(fields.Nested, ContactListSchema)
    assignee = optional(fields.Nested, AssigneeSchema)
    admin_assignee_id = optional(Identifier)
    conversation_message = optional(fields.Nested, MessageSchema)
    source = optional(fields.Nested, MessageSchema)
    conversation_parts = optional(fields.Nested, ConversationPartsSchema)
    tags = optional(fields.Nested, TagListSchema)


class TicketSchema(Lenient):
    """A ticket, from a webhook item or from GET /tickets/{id}; `id` is the API id, not the Inbox number."""

    id = Identifier(required=True)
    ticket_id = optional(Identifier)
    ticket_attributes = fields.Dict(load_default=dict)
    # An object in webhooks, a plain string in some API versions.
    ticket_state = optional(fields.Raw)
    contacts = optional(fields.Nested, ContactListSchema)
    admin_assignee_id = optional(Identifier)
    created_at = optional(fields.Integer)
    updated_at = optional(fields.Integer)
    ticket_parts = optional(fields.Nested, TicketPartsSchema)
    # Not in every API version's ticket model; read leniently (a tag.list object or a bare list).
    tags = optional(fields.Raw)


class TicketReplySchema(Lenient):
    """The item of `ticket.contact.replied`: `{"type": "ticket_ticket_part", "ticket": ..., "ticket_part": ...}`."""

    ticket = fields.Nested(TicketSchema, required=True)
    ticket_part = fields.Nested(PartSchema, required=True)


class NotificationSchema(Lenient):
    """The webhook envelope: `{"type": "notification_event", "id": "notif_...", "topic", "data": {"item"}}`."""

    id = fields.String(required=True)
    topic = fields.String(required=True)
    data = fields.Dict(required=True)
