"""Reading deliveries and API answers the same way in every adapter: JSON, schemas, the normalized ticket.

Each helper turns a library's error into the adapter's typed one (NotJson,
BadPayload naming each bad field), so the service answers every platform's bad
delivery alike. The schema helpers are the lenient base and optional fields the
adapters' schemas.py build on.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from models.ticket import TicketError, flatten_errors, load_ticket

from .base import BadPayload, NotJson


class Lenient(Schema):
    """Ignore every field Trustdesk does not read (platforms add fields; admins add placeholders)."""

    class Meta:
        unknown = EXCLUDE


def optional(field: type[fields.Field] = fields.String, *args: Any, **kwargs: Any) -> fields.Field:
    """A field that may be absent or null."""
    return field(*args, load_default=None, allow_none=True, **kwargs)


def drop_blanks(data: Any) -> Any:
    """A template's fields without the placeholders that rendered empty (they count as absent)."""
    if not isinstance(data, dict):
        return data
    return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}


def read_json(body: bytes) -> Any:
    """A delivery's body as JSON, or NotJson (answered 400)."""
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NotJson(f"body is not JSON: {exc}") from None


def load(schema: Schema, data: Any, prefix: str = "") -> dict:
    """Load part of a delivery or answer with a schema; BadPayload names each bad field (under `prefix`)."""
    try:
        # Anything but an object loads as an empty one: its required fields are then named as missing.
        return schema.load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        messages = {prefix: exc.messages} if prefix else exc.messages
        raise BadPayload("; ".join(flatten_errors(messages)), messages) from None


def normalized_ticket(source: str, ticket: Mapping[str, Any], where: str = "ticket") -> dict:
    """The normalized ticket from `source`, or BadPayload naming `where` when it does not fit the schema."""
    try:
        return load_ticket({"source": source, **ticket})
    except TicketError as exc:
        raise BadPayload(f"{where}: {exc}", {where: str(exc)}) from None


def digest(text: str) -> str:
    """A short stable id for content that has no id of its own (event ids built from a message)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def iso_from_unix(seconds: float | None) -> str | None:
    """Unix seconds (with or without a fraction) as ISO 8601 in UTC; None stays None; BadPayload when impossible."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError, TypeError):
        raise BadPayload(f"not a unix time: {str(seconds)[:40]!r}", {"timestamp": "not a unix time"}) from None


def utc_z(moment: datetime) -> str:
    """A moment as `2024-05-06T09:10:00Z`, the form list filters take; a naive one counts as UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
