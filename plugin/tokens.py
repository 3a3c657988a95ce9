"""API bearer tokens: created once and shown once, stored only as a hash, with a role and an expiry.

Tokens are 256-bit random strings, so a plain SHA-256 is enough to store them
(a slow password hash protects guessable secrets, which these are not).
Roles are ordered: an admin may do what a lead may, a lead what an agent may.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from .storage import ApiToken, AuditEntry, as_utc, utcnow

ROLES = ("agent", "lead", "admin")
PREFIX = "td_"


class TokenError(ValueError):
    """A token request that cannot be honoured (unknown role, bad expiry, unknown token)."""


@dataclass(frozen=True)
class Caller:
    """Who a valid token belongs to."""

    token_id: int
    name: str
    role: str

    def may(self, role: str) -> bool:
        """Whether this caller's role includes `role`."""
        return ROLES.index(self.role) >= ROLES.index(role)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(session: Session, name: str, role: str, expires_days: int | None = None, actor: str = "cli") -> str:
    """A new token (returned once; only its hash is stored)."""
    if role not in ROLES:
        raise TokenError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if expires_days is not None and expires_days <= 0:
        raise TokenError("expiry must be a positive number of days")
    token = PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None
    row = ApiToken(name=name, role=role, token_hash=_hash(token), expires_at=expires)
    session.add(row)
    session.flush()
    session.add(AuditEntry(actor=actor, action="token.create", detail={"token_id": row.id, "name": name, "role": role}))
    return token


def authenticate(session: Session, token: str | None, now: datetime | None = None) -> Caller | None:
    """The caller a token belongs to, or None when it is unknown, revoked or expired."""
    if not token or not token.startswith(PREFIX):
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _hash(token))).one_or_none()
    now = now or datetime.now(timezone.utc)
    if row is None or row.revoked_at is not None or (row.expires_at and as_utc(row.expires_at) <= now):
        return None
    return Caller(row.id, row.name, row.role)


def revoke(session: Session, token_id: int, actor: str = "cli") -> None:
    """Revoke a token by id."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise TokenError(f"no token with id {token_id}")
    row.revoked_at = utcnow()
    session.add(AuditEntry(actor=actor, action="token.revoke", detail={"token_id": token_id}))


def listing(session: Session) -> list[dict]:
    """Every token's id, name, role, dates and state (never the token itself)."""
    now = datetime.now(timezone.utc)
    rows = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    return [{"id": r.id, "name": r.name, "role": r.role, "created_at": as_utc(r.created_at).isoformat(),
             "expires_at": as_utc(r.expires_at).isoformat() if r.expires_at else None,
             "state": "revoked" if r.revoked_at else ("expired" if r.expires_at and as_utc(r.expires_at) <= now else "active")}
            for r in rows]
