"""The small interface every helpdesk adapter implements, and the errors it raises.

An adapter verifies a delivery, parses it into the normalized ticket and, where
the platform allows, writes a note back. The service maps the typed errors to
HTTP answers (401, 422, 2xx-and-ignore), so an adapter never decides status codes.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping


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
    """A parsed delivery: its id (for deduplication), type, and the normalized ticket."""

    event_id: str
    type: str
    ticket: dict


class Adapter:
    """Base class: subclasses set `name` and `event_types` and write `verify` and `parse`."""

    name: ClassVar[str] = ""
    event_types: ClassVar[tuple[str, ...]] = ()

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

    def verify(self, delivery: Delivery) -> None:
        """Raise NotConfigured or Unauthorized unless the delivery is authentic."""
        raise NotImplementedError

    def parse(self, delivery: Delivery) -> Event:
        """The event in a verified delivery, or BadPayload / UnsupportedEvent."""
        raise NotImplementedError

    @property
    def can_write_back(self) -> bool:
        """Whether credentials for writing back are configured (else: dry-run)."""
        return False


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256 of a message."""
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two signatures."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
