"""Console users and sign-in: Argon2 password hashes, roles, and throttling stored in the database.

Throttling counts failed attempts per (username, address) in the database, so
it holds across gunicorn workers: after MAX_FAILURES failures within WINDOW
(and no success since), that pair is refused until the oldest failure ages out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..storage import AuditEntry, ConsoleUser, LoginAttempt, as_utc, utcnow

ROLES = ("lead", "admin")
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 10
MAX_USERNAME = 100
_hasher = PasswordHasher()
# Verified against when the user is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


class UserError(ValueError):
    """A user request that cannot be honoured (bad name, role or password, unknown user)."""


@dataclass(frozen=True)
class User:
    """A signed-in console user, as views see them."""

    id: int
    username: str
    role: str

    def may(self, role: str) -> bool:
        """Whether this user's role includes `role` (an admin may do what a lead may)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def _check(username: str, role: str, password: str) -> None:
    if not username or len(username) > MAX_USERNAME or not username.isprintable() or username != username.strip():
        raise UserError(f"a username is 1 to {MAX_USERNAME} printable characters without surrounding spaces")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")


def create(session: Session, username: str, role: str, password: str, actor: str = "cli") -> User:
    """A new console user with an Argon2id password hash."""
    _check(username, role, password)
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)) is not None:
        raise UserError(f"a user named {username!r} already exists")
    row = ConsoleUser(username=username, role=role, password_hash=_hasher.hash(password))
    session.add(row)
    session.flush()
    session.add(AuditEntry(actor=actor, action="user.create", detail={"user_id": row.id, "username": username, "role": role}))
    return User(row.id, row.username, row.role)


def disable(session: Session, username: str, actor: str = "cli") -> None:
    """Disable a user: their sessions stop working on the next request."""
    row = session.scalars(select(ConsoleUser).where(ConsoleUser.username == username)).one_or_none()
    if row is None:
        raise UserError(f"no user named {username!r}")
    row.disabled_at = row.disabled_at or utcnow()
    session.add(AuditEntry(actor=actor, action="user.disable", detail={"user_id": row.id, "username": username}))


def listing(session: Session) -> list[dict]:
    """Every user's name, role, dates and state (never the hash)."""
    rows = session.scalars(select(ConsoleUser).order_by(ConsoleUser.username)).all()
    return [{"id": r.id, "username": r.username, "role": r.role, "created_at": as_utc(r.created_at).isoformat(),
             "last_login_at": as_utc(r.last_login_at).isoformat() if r.last_login_at else None,
             "state": "disabled" if r.disabled_at else "active"} for r in rows]


def active_user(session: Session, user_id: int | None) -> User | None:
    """The user a session names, or None when unknown or disabled."""
    row = session.get(ConsoleUser, user_id) if user_id is not None else None
    if row is None or row.disabled_at is not None:
        return None
    return User(row.id, row.username, row.role)


def retry_after(session: Session, username: str, ip: str, now: datetime | None = None) -> timedelta | None:
    """How long this (username, address) must wait before trying again, or None when it may try now."""
    now = now or datetime.now(timezone.utc)
    since = now - WINDOW
    last_ok = session.scalar(select(func.max(LoginAttempt.created_at)).where(
        LoginAttempt.username == username, LoginAttempt.ip == ip, LoginAttempt.success.is_(True)))
    if last_ok is not None and as_utc(last_ok) > since:
        since = as_utc(last_ok)
    failures = session.scalars(select(LoginAttempt.created_at).where(
        LoginAttempt.username == username, LoginAttempt.ip == ip, LoginAttempt.success.is_(False),
        LoginAttempt.created_at > since).order_by(LoginAttempt.created_at.desc()).limit(MAX_FAILURES)).all()
    if len(failures) < MAX_FAILURES:
        return None
    return max(as_utc(failures[-1]) + WINDOW - now, timedelta(seconds=1))


def sign_in(session: Session, username: str, password: str, ip: str) -> User | None:
    """The user when the name and password match an active user; every attempt is recorded for throttling."""
    username = username[:MAX_USERNAME]
    row = session.scalars(select(ConsoleUser).where(ConsoleUser.username == username)).one_or_none()
    try:
        ok = _hasher.verify(row.password_hash if row else _DUMMY_HASH, password) and row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and row.disabled_at is None
    session.add(LoginAttempt(username=username, ip=ip[:64], success=ok))
    if not ok:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    row.last_login_at = utcnow()
    return User(row.id, row.username, row.role)


def forget_attempts(session: Session, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete sign-in attempts older than `older_than` (they only matter for throttling and audit)."""
    cutoff = datetime.now(timezone.utc) - older_than
    return session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < cutoff)).rowcount or 0
