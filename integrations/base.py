"""The small interface every helpdesk adapter implements, and the errors it raises.

An adapter verifies a delivery, parses it into the normalized ticket, fetches a
ticket's whole conversation through the platform's API and, where the platform
allows, writes a note and tags back. The service maps the typed errors to HTTP
answers (401, 422, 2xx-and-ignore) and to retries, so an adapter never decides
status codes or schedules anything; it never imports `plugin`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Iterable, Mapping

TAGS = {"blame": "trustdesk-blame", "deflection": "trustdesk-deflection",
        "escalation_risk": "trustdesk-escalation-risk"}
# Every note we write carries this, followed by a reference unique to the event;
# an adapter that sees it in an incoming message knows the event is our own doing.
MARKER_PREFIX = "trustdesk-ref:"


class AdapterError(Exception):
    """Base of everything an adapter raises on purpose."""


class NotConfigured(AdapterError):
    """The integration has no secret: every delivery is refused (fail closed)."""


class Unauthorized(AdapterError):
    """Missing, wrong or stale signature: the event is not processed."""


class BadPayload(AdapterError):
    """A delivery that cannot be read; `fields` names each bad field."""

    def __init__(self, message: str, fields: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.fields = dict(fields or {})


class NotJson(BadPayload):
    """A body that is not JSON at all (answered 400, where schema errors get 422)."""


class UnsupportedEvent(AdapterError):
    """A delivery we do not handle (no ticket message, unknown type): acknowledged and ignored."""


class RetryLater(AdapterError):
    """The platform asked us to slow down or was unavailable; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Delivery:
    """One inbound webhook request as the adapter sees it: raw body and headers."""

    body: bytes
    headers: Mapping[str, str]
    received_at: float = field(default_factory=time.time)

    def header(self, name: str) -> str | None:
        """A header, case-insensitively."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class Event:
    """A parsed delivery: its id (for deduplication), type, and the normalized ticket.

    `complete` is False when the delivery carries only part of the conversation
    (a single new message, a preview): the service then merges it with what it
    has stored and has the whole conversation fetched through `fetch_ticket`.
    """

    event_id: str
    type: str
    ticket: dict
    complete: bool = True


@dataclass(frozen=True)
class Handshake:
    """An answer a platform expects instead of processing (Front's challenge on saving a webhook)."""

    body: str
    content_type: str = "text/plain"


@dataclass(frozen=True)
class Note:
    """What the service writes back for one event: an internal note with tags, or the generic callback.

    `text` is plain text (with line breaks), `html` the same note as simple HTML;
    each adapter sends whichever its platform renders. `marker` is unique to the
    event and appears in both, so a retried write-back can find a note it already
    posted, and a webhook caused by our note can be recognised and ignored.
    `payload` is the event's stored answer (the generic callback posts it as is).
    """

    event_id: str
    ticket_id: str
    marker: str
    text: str
    html: str
    tags: tuple[str, ...]
    payload: Mapping[str, Any] = field(default_factory=dict)


def is_ours(text: str | None) -> bool:
    """Whether a message was written by Trustdesk (it carries our marker)."""
    return bool(text) and MARKER_PREFIX in text


class Adapter:
    """Base class: subclasses set `name` and `event_types` and write `verify` and `parse`.

    Where the platform has an API, they also write `fetch_ticket`,
    `recent_tickets` and `write_back`, and say through `can_write_back` whether
    the credentials for them are configured (else the integration is in dry-run).
    """

    name: ClassVar[str] = ""
    event_types: ClassVar[tuple[str, ...]] = ()
    # Whether the platform's signature covers the body (False where it only
    # presents the shared secret), and how old a signed timestamp may be
    # (None where the platform sends no timestamp).
    signs_body: ClassVar[bool] = True
    replay_window: ClassVar[int | None] = None
    # Helpdesks hear about flagged tickets only; a callback integration hears about every event.
    writes_every_event: ClassVar[bool] = False

    def __init__(self, settings: Mapping[str, str]):
        self.settings = settings

    def setting(self, key: str) -> str | None:
        """This integration's TRUSTDESK_<NAME>_<KEY> setting, or None."""
        value = self.settings.get(f"TRUSTDESK_{self.name.upper()}_{key}")
        return value.strip() if value and value.strip() else None

    @property
    def secret(self) -> str | None:
        """The secret deliveries are verified with."""
        return self.setting("WEBHOOK_SECRET")

    @classmethod
    def signature_headers(cls, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """The headers a genuine delivery of `body` carries (for tests, docs and client examples)."""
        raise NotImplementedError

    def verify(self, delivery: Delivery) -> None:
        """Raise NotConfigured or Unauthorized unless the delivery is authentic."""
        raise NotImplementedError

    def handshake(self, delivery: Delivery) -> Handshake | None:
        """The answer to a verified set-up request (a challenge), or None for an ordinary delivery."""
        return None

    def parse(self, delivery: Delivery) -> Event:
        """The event in a verified delivery, or BadPayload / UnsupportedEvent (ours, unknown, no message)."""
        raise NotImplementedError

    @property
    def can_write_back(self) -> bool:
        """Whether credentials for the platform's API are configured (else: dry-run)."""
        return False

    def fetch_ticket(self, ticket_id: str) -> dict:
        """The ticket's whole conversation as a normalized ticket, without our own notes."""
        raise NotImplementedError(f"{self.name} cannot fetch tickets")

    def recent_tickets(self, since: datetime) -> Iterable[str]:
        """Ids of tickets updated since `since` (for backfill), following the API's pagination."""
        raise NotImplementedError(f"{self.name} cannot list tickets")

    def write_back(self, note: Note) -> None:
        """Post the note (unless one with its marker is there already) and add its tags, keeping the others.

        Raises RetryLater for rate limits, timeouts and 5xx, AdapterError for a
        refusal that retrying will not fix, NotConfigured without credentials.
        """
        raise NotImplementedError(f"{self.name} cannot write back")


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256 of a message."""
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two signatures."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def check_fresh(delivery: Delivery, sent_at: float, header: str, window: int) -> None:
    """Refuse a signed timestamp more than `window` seconds from the delivery's arrival (a replay)."""
    if abs(delivery.received_at - sent_at) > window:
        raise Unauthorized(f"{header} is more than {window // 60} minutes off")


TOKEN_HEADER = "X-Trustdesk-Token"


def verify_shared_secret(delivery: Delivery, secret: str | None, setting: str) -> None:
    """For platforms that do not sign: the secret as the HTTP Basic password or in X-Trustdesk-Token.

    Fails closed: no secret configured refuses everything (NotConfigured naming
    `setting`); a missing or different secret is Unauthorized.
    """
    if not secret:
        raise NotConfigured(f"{setting} is not set: deliveries are refused")
    presented = delivery.header(TOKEN_HEADER) or basic_password(delivery.header("Authorization"))
    if not presented:
        raise Unauthorized(f"missing {TOKEN_HEADER} header or HTTP Basic credentials")
    if not same(presented.strip(), secret):
        raise Unauthorized("the shared secret does not match")


def basic_password(authorization: str | None) -> str | None:
    """The password of an HTTP Basic Authorization header, or None."""
    if not authorization or not authorization[:6].lower() == "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


def shared_secret_headers(secret: str) -> dict[str, str]:
    """Headers a delivery authenticated by shared secret carries (tests, docs)."""
    return {TOKEN_HEADER: secret, "Content-Type": "application/json"}
