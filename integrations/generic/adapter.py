"""Verify and parse generic webhook deliveries, and sign callbacks the same way.

Signature: `X-Trustdesk-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`
keyed with TRUSTDESK_GENERIC_WEBHOOK_SECRET, with `X-Trustdesk-Timestamp` in unix
seconds; a timestamp more than five minutes off is refused, so a captured
delivery cannot be replayed later.
"""

from __future__ import annotations

import json
import time

from ..base import Adapter, Delivery, Event, NotConfigured, Note, Unauthorized, check_fresh, hmac_sha256_hex, same
from ..http import ApiClient
from ..payloads import load, normalized_ticket, read_json
from .schemas import GenericDeliverySchema

TOLERANCE_SECONDS = 300
TIMESTAMP_HEADER = "X-Trustdesk-Timestamp"
SIGNATURE_HEADER = "X-Trustdesk-Signature"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp`."""
    return "sha256=" + hmac_sha256_hex(secret, f"{timestamp}.".encode("ascii") + body)


class GenericAdapter(Adapter):
    """Normalized tickets posted by any system, signed with a shared secret."""

    name = "generic"
    event_types = ("ticket",)
    replay_window = TOLERANCE_SECONDS
    writes_every_event = True

    def verify(self, delivery: Delivery) -> None:
        """Refuse unless the signature matches and the timestamp is within five minutes."""
        if not self.secret:
            raise NotConfigured("TRUSTDESK_GENERIC_WEBHOOK_SECRET is not set: generic deliveries are refused")
        timestamp = delivery.header(TIMESTAMP_HEADER)
        signature = delivery.header(SIGNATURE_HEADER)
        if not timestamp or not signature:
            raise Unauthorized(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
        try:
            sent_at = int(timestamp)
        except ValueError:
            raise Unauthorized(f"{TIMESTAMP_HEADER} must be unix seconds") from None
        check_fresh(delivery, sent_at, TIMESTAMP_HEADER, TOLERANCE_SECONDS)
        if not same(signature.strip(), sign(self.secret, timestamp, delivery.body)):
            raise Unauthorized("signature does not match")

    def parse(self, delivery: Delivery) -> Event:
        """The event id and the normalized ticket; errors name each bad field."""
        envelope = load(GenericDeliverySchema(), read_json(delivery.body))
        return Event(envelope["event_id"], "ticket", normalized_ticket(self.name, envelope["ticket"]))

    @property
    def can_write_back(self) -> bool:
        """Write-back is a signed callback, possible once a callback URL is set."""
        return bool(self.setting("CALLBACK_URL") and self.secret)

    def write_back(self, note: Note) -> None:
        """POST `{"event_id", "ticket_id", "analysis", "guidance"}` to the callback URL, signed like our webhooks.

        Timeouts, connection errors, 429 and 5xx raise RetryLater (with the
        server's Retry-After when it sends one); other non-2xx answers are final.
        The receiver deduplicates by `event_id`: a callback carries no note to look for.
        """
        url = self.setting("CALLBACK_URL")
        if not url or not self.secret:
            raise NotConfigured("TRUSTDESK_GENERIC_CALLBACK_URL and TRUSTDESK_GENERIC_WEBHOOK_SECRET are needed to write back")
        body = json.dumps(dict(note.payload), separators=(",", ":"), default=str).encode("utf-8")
        ApiClient(url).request("POST", url, data=body, headers=signed_headers(self.secret, body))

    @classmethod
    def signature_headers(cls, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """Headers for a signed generic delivery."""
        return signed_headers(secret, body, now)


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """Headers for a signed generic request (callbacks, tests, client examples)."""
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body),
            "Content-Type": "application/json"}
