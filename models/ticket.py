"""The normalized ticket: the one form every integration produces.

Adapters turn each helpdesk's payload into this shape; the classifiers, the
guidance and the service consume nothing else. The marshmallow schema ignores
unknown fields (helpdesks add fields all the time) and names every bad field
in its error, so a rejected delivery says exactly what to fix.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate

from .text import html_to_text, looks_like_html

ROLES = ("customer", "agent")
# Far above any real message (long quoted threads included); stops a runaway payload.
MAX_BODY = 1_000_000


class TicketError(ValueError):
    """A ticket that does not match the normalized schema; the text names each field."""


class Identifier(fields.Field):
    """A helpdesk id: strings as they are, integers turned into strings.

    Most helpdesks use numeric ids and send them as JSON numbers; we keep ids as
    strings everywhere so they never lose leading zeros or precision downstream.
    """

    default_error_messages = {"invalid": "Not a valid identifier (string or integer)."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.make_error("invalid")
        text = str(value).strip()
        if not text:
            raise ValidationError("Must not be empty.")
        return text


class Timestamp(fields.DateTime):
    """ISO 8601 date-time; a value without an offset is taken as UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, str) and value.endswith(("Z", "z")):
            value = value[:-1] + "+00:00"
        parsed = super()._deserialize(value, attr, data, **kwargs)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class PersonSchema(_Lenient):
    """The author of one message."""

    id = Identifier(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)


class RequesterSchema(_Lenient):
    """The customer who opened the ticket; `value` is their lifetime value, if known."""

    id = Identifier(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    organization = fields.String(load_default=None, allow_none=True)
    value = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0))


class AssigneeSchema(_Lenient):
    """The agent (and team) the ticket is assigned to."""

    id = Identifier(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)
    team = fields.String(load_default=None, allow_none=True)


class HistorySchema(_Lenient):
    """Signals from outside the ticket, filled by the service from its ledger."""

    prior_contacts = fields.Integer(load_default=0, validate=validate.Range(min=0))
    reopened = fields.Integer(load_default=0, validate=validate.Range(min=0))
    days_open = fields.Float(load_default=0.0, validate=validate.Range(min=0))
    prior_deflections = fields.Integer(load_default=0, validate=validate.Range(min=0))

    @pre_load
    def _reopened_as_count(self, data: Any, **kwargs: Any) -> Any:
        # `reopened` may be a flag or a count; booleans become 0/1.
        if isinstance(data, dict) and isinstance(data.get("reopened"), bool):
            data = {**data, "reopened": int(data["reopened"])}
        return data


class MessageSchema(_Lenient):
    """One message of the conversation; HTML bodies are reduced to plain text."""

    id = Identifier(load_default=None, allow_none=True)
    author_role = fields.String(required=True, validate=validate.OneOf(ROLES))
    author = fields.Nested(PersonSchema, load_default=None, allow_none=True)
    body = fields.String(required=True, validate=validate.Length(max=MAX_BODY))
    created_at = Timestamp(load_default=None, allow_none=True)
    public = fields.Boolean(load_default=True)

    @post_load
    def _plain_text(self, data: dict, **kwargs: Any) -> dict:
        raw = data["body"]
        data["body"] = html_to_text(raw) if looks_like_html(raw) else raw.replace("\r\n", "\n")
        data["body_changed"] = data["body"] != raw
        return data


class TicketSchema(_Lenient):
    """A whole ticket with its messages in order."""

    id = Identifier(required=True)
    source = fields.String(load_default="generic")
    subject = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True)
    tags = fields.List(fields.String(), load_default=list)
    created_at = Timestamp(load_default=None, allow_none=True)
    updated_at = Timestamp(load_default=None, allow_none=True)
    requester = fields.Nested(RequesterSchema, load_default=None, allow_none=True)
    assignee = fields.Nested(AssigneeSchema, load_default=None, allow_none=True)
    messages = fields.List(fields.Nested(MessageSchema), required=True, validate=validate.Length(min=1))
    history = fields.Nested(HistorySchema, load_default=None, allow_none=True)


def flatten_errors(messages: Any, prefix: str = "") -> list[str]:
    """Turn marshmallow's nested error dict into 'messages.0.body: ...' lines."""
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_errors(value, path))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix or 'ticket'}: {' '.join(messages)}"]
    if isinstance(messages, list):
        return [line for item in messages for line in flatten_errors(item, prefix)]
    return [f"{prefix or 'ticket'}: {messages}"]


_SCHEMA = TicketSchema()


def load_ticket(obj: Any) -> dict:
    """Validate a ticket object and return it normalized, or raise TicketError."""
    if not isinstance(obj, dict):
        raise TicketError("ticket: must be a JSON object")
    try:
        return _SCHEMA.load(obj)
    except ValidationError as exc:
        raise TicketError("; ".join(flatten_errors(exc.messages))) from None
