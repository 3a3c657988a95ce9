"""The parts of Chatwoot's webhook payloads and API answers that the adapter reads.

A `message_created` webhook body is the message's `webhook_data`
(https://www.chatwoot.com/hc/user-guide/articles/1677693021-how-to-use-webhooks;
chatwoot/chatwoot app/models/message.rb): `message_type` as a word, `created_at`
as an ISO time, and the conversation with its `meta` (contact, assignee, team).
The messages API answers with `push_event_data` instead: `message_type` as its
number and `created_at` in unix seconds. The fields below accept both.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from marshmallow import EXCLUDE, Schema, fields

from models.ticket import Identifier

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
            return datetime.fromtimestamp(value, timezone.utc).isoformat()
        if isinstance(value, str) and value.strip():
            text = value.strip()
            return text[:-4].replace(" ", "T") + "+00:00" if text.endswith(" UTC") else text
        raise self.make_error("invalid")


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class PersonSchema(_Lenient):
    """A contact, an agent (user), an agent bot, or a team."""

    id = Identifier(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    type = fields.String(load_default=None, allow_none=True)


class MessageSchema(_Lenient):
    """One message, as a webhook body or as an item of the messages API."""

    id = Identifier(required=True)
    content = fields.String(load_default=None, allow_none=True)
    message_type = MessageType(required=True)
    private = fields.Boolean(load_default=False, allow_none=True)
    content_type = fields.String(load_default=None, allow_none=True)
    created_at = Moment(load_default=None, allow_none=True)
    sender = fields.Nested(PersonSchema, load_default=None, allow_none=True)


class MetaSchema(_Lenient):
    """A conversation's people: the contact (sender), the assigned agent and team."""

    sender = fields.Nested(PersonSchema, load_default=None, allow_none=True)
    assignee = fields.Nested(PersonSchema, load_default=None, allow_none=True)
    team = fields.Nested(PersonSchema, load_default=None, allow_none=True)


class ConversationSchema(_Lenient):
    """A conversation (Chatwoot's ticket): `id` is the display id the API uses in its paths."""

    id = Identifier(required=True)
    display_id = Identifier(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True)
    labels = fields.List(fields.String(), load_default=list, allow_none=True)
    meta = fields.Nested(MetaSchema, load_default=dict, allow_none=True)
    created_at = Moment(load_default=None, allow_none=True)
    timestamp = Moment(load_default=None, allow_none=True)


class AccountSchema(_Lenient):
    """The account a delivery comes from."""

    id = Identifier(required=True)


class MessageCreatedSchema(MessageSchema):
    """A `message_created` delivery: the message, its conversation and account."""

    event = fields.String(required=True)
    conversation = fields.Nested(ConversationSchema, required=True)
    account = fields.Nested(AccountSchema, load_default=None, allow_none=True)
