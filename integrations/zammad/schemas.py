"""The parts of Zammad's trigger webhook payload and REST answers that the adapter reads.

The default webhook payload is `{"ticket": {...}, "article": {...}}`
(https://admin-docs.zammad.org/en/latest/manage/webhook/payload.html); related
records (customer, owner, group, organization) are objects there, while the REST
API with `?expand=true` names them by login or name instead. `Ref` accepts both.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from models.ticket import Identifier

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


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class ArticleSchema(_Lenient):
    """One article (message, note, phone call...) of a ticket."""

    id = Identifier(required=True)
    ticket_id = Identifier(load_default=None, allow_none=True)
    body = fields.String(load_default="", allow_none=True)
    content_type = fields.String(load_default="text/plain", allow_none=True)
    internal = fields.Boolean(load_default=False, allow_none=True)
    sender = fields.String(required=True, validate=validate.OneOf(tuple(SENDER_ROLES)))
    type = fields.String(load_default=None, allow_none=True)
    from_ = fields.String(data_key="from", load_default=None, allow_none=True)
    created_by = Ref(load_default=None, allow_none=True)
    created_by_id = Identifier(load_default=None, allow_none=True)
    origin_by = Ref(load_default=None, allow_none=True)
    origin_by_id = Identifier(load_default=None, allow_none=True)
    created_at = fields.String(load_default=None, allow_none=True)


class TicketSchema(_Lenient):
    """The ticket an article belongs to (webhook payload, or GET /api/v1/tickets/{id}?expand=true)."""

    id = Identifier(required=True)
    number = fields.String(load_default=None, allow_none=True)
    title = fields.String(load_default=None, allow_none=True)
    state = Ref(load_default=None, allow_none=True)
    customer = Ref(load_default=None, allow_none=True)
    customer_id = Identifier(load_default=None, allow_none=True)
    owner = Ref(load_default=None, allow_none=True)
    owner_id = Identifier(load_default=None, allow_none=True)
    group = Ref(load_default=None, allow_none=True)
    organization = Ref(load_default=None, allow_none=True)
    tags = fields.List(fields.String(), load_default=list)
    created_at = fields.String(load_default=None, allow_none=True)
    updated_at = fields.String(load_default=None, allow_none=True)


class ArticleDeliverySchema(_Lenient):
    """A default-payload delivery that carries an article: `{"ticket": {...}, "article": {...}}`."""

    ticket = fields.Nested(TicketSchema, required=True)
    article = fields.Nested(ArticleSchema, required=True)
