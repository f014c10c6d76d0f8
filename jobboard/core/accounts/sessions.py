"""Server-side sign-in sessions: the cookie holds a random secret, the database its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import col

from jobboard.core.accounts.errors import AccountError
from jobboard.core.accounts.models import SignInSession, User
from jobboard.core.db import session_scope
from jobboard.core.models import utcnow

TOUCH_EVERY = timedelta(minutes=1)
MAX_SECRET = 128  # token_urlsafe(32) gives 43 characters; longer input is not ours


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _clean(value: str, limit: int) -> str:
    text = value if isinstance(value, str) else ""
    return "".join(ch for ch in text if ch.isprintable())[:limit]


def start_session(user: User, *, address: str, user_agent: str, days: int = 30) -> str:
    """Start a session for a signed-in user; returns the raw secret for the cookie (once)."""
    if user.disabled_at is not None:
        raise AccountError("This account is disabled.")
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope() as session:
        session.add(
            SignInSession(
                id=_digest(secret),
                user_id=user.id,
                created_at=now,
                expires_at=now + timedelta(days=days),
                last_seen_at=now,
                address=_clean(address, 64),
                user_agent=_clean(user_agent, 300),
            )
        )
        # Every session starts with a sign-in (a sign-up's too): the Users list says when.
        session.exec(update(User).where(col(User.id) == user.id).values(last_sign_in_at=now))
    return secret


def user_for_session(secret: str) -> User | None:
    """The user signed in with this cookie secret; None if unknown, expired or disabled."""
    if not isinstance(secret, str) or not secret or len(secret) > MAX_SECRET:
        return None
    now = utcnow()
    with session_scope() as session:
        row = session.get(SignInSession, _digest(secret))
        if row is None:
            return None
        if row.expires_at <= now:
            session.delete(row)
            return None
        user = session.get(User, row.user_id)
        if user is None or user.disabled_at is not None:
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
            session.add(row)
        return user


def end_session(secret: str) -> None:
    """Sign this browser out (unknown secrets are ignored)."""
    if not isinstance(secret, str) or not secret or len(secret) > MAX_SECRET:
        return
    with session_scope() as session:
        session.execute(delete(SignInSession).where(SignInSession.id == _digest(secret)))


def end_all_sessions(user_id: str) -> int:
    """Sign a user out everywhere; returns how many sessions ended."""
    with session_scope() as session:
        result = session.execute(delete(SignInSession).where(SignInSession.user_id == user_id))
        return result.rowcount or 0
