"""The parts of Chatwoot's webhook payloads and API answers that the adapter reads.

A `message_created` webhook body is the message's `webhook_data`
(https://www.chatwoot.com/hc/user-guide/articles/1677693021-how-to-use-webhooks;
chatwoot/chatwoot app/models/message.rb): `message_type` as a word, `created_at`
as an ISO time, and the conversation with its `meta` (contact, assignee, team).
The messages API answers with `push_event_data` instead: `message_type` as its
number and `created_at` in unix seconds. The fields below accept both.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from models.ticket import Identifier

from ..payloads import Lenient, iso_from_unix, optional

MESSAGE_TYPES = ("incoming", "outgoing", "activity", "template")


class MessageType(fields.Field):
    """`incoming` / `outgoing` / `activity` / `template`, or their enum numbers 0-3."""

    default_error_messages = {"invalid": f"Must be one of {', '.join(MESSAGE_TYPES)} (or 0-3)."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(MESSAGE_TYPES):
            return MESSAGE_TYPES[value]
        if isinstance(value, str) and value in MESSAGE_TYPES:
            return value
        raise self.make_error("invalid")


class Moment(fields.Field):
    """A time as unix seconds or as text (ISO 8601, or Rails' "2020-03-03 13:05:57 UTC"); ISO text out."""

    default_error_messages = {"invalid": "Not a time (unix seconds or ISO 8601)."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        if value is None or value == 0:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return iso_from_unix(value)
        if isinstance(value, str) and value.strip():
            text = value.strip()
            return text[:-4].replace(" ", "T") + "+00:00" if text.endswith(" UTC") else text
        raise self.make_error("invalid")



class PersonSchema(Lenient):
    """A contact, an agent (user), an agent bot, or a team."""

    id = optional(Identifier)
    name = optional()
    email = optional()
    type = optional()


class MessageSchema(Lenient):
    """One message, as a webhook body or as an item of the messages API."""

    id = Identifier(required=True)
    content = optional()
    message_type = MessageType(required=True)
    private = fields.Boolean(load_default=False, allow_none=True)
    content_type = optional()
    created_at = optional(Moment)
    sender = optional(fields.Nested, PersonSchema)


class MetaSchema(Lenient):
    """A conversation's people: the contact (sender), the assigned agent and team."""

    sender = optional(fields.Nested, PersonSchema)
    assignee = optional(fields.Nested, PersonSchema)
    team = optional(fields.Nested, PersonSchema)


class ConversationSchema(Lenient):
    """A conversation (Chatwoot's ticket): `id` is the display id the API uses in its paths."""

    id = Identifier(required=True)
    display_id = optional(Identifier)
    status = optional()
    labels = fields.List(fields.String(), load_default=list, allow_none=True)
    meta = fields.Nested(MetaSchema, load_default=dict, allow_none=True)
    created_at = optional(Moment)
    timestamp = optional(Moment)


class AccountSchema(Lenient):
    """The account a delivery comes from."""

    id = Identifier(required=True)


class MessageCreatedSchema(MessageSchema):
    """A `message_created` delivery: the message, its conversation and account."""

    event = fields.String(required=True)
    conversation = fields.Nested(ConversationSchema, required=True)
    account = optional(fields.Nested, AccountSchema)
