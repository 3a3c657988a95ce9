"""The generic webhook body: an event id and a normalized ticket."""

from __future__ import annotations

from marshmallow import fields, validate

from ..payloads import Lenient


class GenericDeliverySchema(Lenient):
    """`{"event_id": "...", "ticket": {...normalized ticket...}}`; the ticket is validated separately."""

    event_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    ticket = fields.Dict(required=True)
