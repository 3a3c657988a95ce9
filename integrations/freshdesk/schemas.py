"""The Freshdesk webhook body Trustdesk reads: the `freshdesk_webhook` object of the template in doc.md.

The template is a superset of the one Zulip documents, so bodies built from
Zulip's template parse too. Placeholders with no value render as empty strings;
those count as absent. Unknown fields are ignored.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_load, validate

from models.ticket import ROLES, Identifier

from ..payloads import Lenient, drop_blanks



class FieldsSchema(Lenient):
    """The placeholders an automation rule's "Trigger webhook" action renders, plus our per-rule fields."""

    triggered_event = fields.String(load_default=None)
    ticket_id = Identifier(required=True)
    ticket_url = fields.String(load_default=None)
    ticket_type = fields.String(load_default=None)
    ticket_subject = fields.String(load_default=None)
    ticket_description = fields.String(load_default=None)
    ticket_status = fields.String(load_default=None)
    ticket_priority = fields.String(load_default=None)
    ticket_tags = fields.String(load_default=None)
    requester_name = fields.String(load_default=None)
    requester_email = fields.String(load_default=None)
    latest_public_comment = fields.String(load_default=None)
    latest_private_comment = fields.String(load_default=None)
    # Set by the admin in each rule (one rule per performer); not Freshdesk placeholders.
    trustdesk_author_role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    trustdesk_event = fields.String(load_default=None)

    @pre_load
    def _blank_is_absent(self, data: Any, **kwargs: Any) -> Any:
        kept = drop_blanks(data)
        if not isinstance(kept, dict):
            return kept
        for key in ("trustdesk_author_role", "trustdesk_event"):
            if isinstance(kept.get(key), str):
                kept[key] = kept[key].strip().lower()
        return kept


class WebhookSchema(Lenient):
    """`{"freshdesk_webhook": {...}}`, the wrapper Zulip's template introduced and ours keeps."""

    freshdesk_webhook = fields.Nested(FieldsSchema, required=True)
