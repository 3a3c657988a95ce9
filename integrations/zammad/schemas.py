"""The parts of Zammad's trigger webhook payload and REST answers that the adapter reads.

The default webhook payload is `{"ticket": {...}, "article": {...}}`
(https://admin-docs.zammad.org/en/latest/manage/webhook/payload.html); related
records (customer, owner, group, organization) are objects there, while the REST
API with `?expand=true` names them by login or name instead. `Ref` accepts both.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from models.ticket import Identifier

from ..payloads import Lenient, optional

# The article senders Zammad knows (Ticket::Article::Sender); they decide the author's role.
SENDER_ROLES = {"Customer": "customer", "Agent": "agent", "System": "agent"}


class Ref(fields.Field):
    """A related record: an object in webhook payloads, its login or name in expanded API answers."""

    default_error_messages = {"invalid": "Not an object or a name."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict | None:
        if value is None or value == {} or value == "":
            return None
        if isinstance(value, str):
            return {"name": value, "login": value}
        if isinstance(value, dict):
            return value
        raise self.make_error("invalid")



class ArticleSchema(Lenient):
    """One article (message, note, phone call...) of a ticket."""

    id = Identifier(required=True)
    ticket_id = optional(Identifier)
    body = fields.String(load_default="", allow_none=True)
    content_type = fields.String(load_default="text/plain", allow_none=True)
    internal = fields.Boolean(load_default=False, allow_none=True)
    sender = fields.String(required=True, validate=validate.OneOf(tuple(SENDER_ROLES)))
    type = optional()
    from_ = optional(fields.String, data_key="from")
    created_by = optional(Ref)
    created_by_id = optional(Identifier)
    origin_by = optional(Ref)
    origin_by_id = optional(Identifier)
    created_at = optional()


class TicketSchema(Lenient):
    """The ticket an article belongs to (webhook payload, or GET /api/v1/tickets/{id}?expand=true)."""

    id = Identifier(required=True)
    number = optional()
    title = optional()
    state = optional(Ref)
    customer = optional(Ref)
    customer_id = optional(Identifier)
    owner = optional(Ref)
    owner_id = optional(Identifier)
    group = optional(Ref)
    organization = optional(Ref)
    tags = fields.List(fields.String(), load_default=list)
    created_at = optional()
    updated_at = optional()


class ArticleDeliverySchema(Lenient):
    """A default-payload delivery that carries an article: `{"ticket": {...}, "article": {...}}`."""

    ticket = fields.Nested(TicketSchema, required=True)
    article = fields.Nested(ArticleSchema, required=True)
