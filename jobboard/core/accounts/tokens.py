"""Personal API tokens, GitHub style: ``jb_`` + 30 random base62 characters + a 6-character
base62 CRC32 of the random part, so a leaked token is recognisable (and a typo detectable)
without the database. Only the SHA-256 of a token is stored, with a short display prefix."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
import zlib
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from jobboard.core.accounts.errors import AccountError
from jobboard.core.accounts.models import ApiToken, User
from jobboard.core.db import session_scope
from jobboard.core.models import utcnow

TOKEN_PREFIX = "jb_"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_CHARS = 30
CHECKSUM_CHARS = 6
TOKEN_LENGTH = len(TOKEN_PREFIX) + RANDOM_CHARS + CHECKSUM_CHARS
DISPLAY_CHARS = 6  # random characters shown in lists after the prefix, e.g. jb_ab12cd
MAX_NAME = 100
TOUCH_EVERY = timedelta(minutes=1)
_BASE62_SET = frozenset(BASE62)


def _checksum(random_part: str) -> str:
    value = zlib.crc32(random_part.encode("ascii"))
    chars = []
    for _ in range(CHECKSUM_CHARS):
        value, digit = divmod(value, 62)
        chars.append(BASE62[digit])
    return "".join(reversed(chars))


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def looks_like_token(raw: str) -> bool:
    """Whether `raw` has a Jobboard token's shape and a valid checksum (no database)."""
    if not isinstance(raw, str) or len(raw) != TOKEN_LENGTH or not raw.startswith(TOKEN_PREFIX):
        return False
    body = raw[len(TOKEN_PREFIX) :]
    if not set(body) <= _BASE62_SET:
        return False
    random_part, check = body[:RANDOM_CHARS], body[RANDOM_CHARS:]
    return secrets.compare_digest(_checksum(random_part), check)


def _new_raw_token() -> str:
    random_part = "".join(secrets.choice(BASE62) for _ in range(RANDOM_CHARS))
    return TOKEN_PREFIX + random_part + _checksum(random_part)


def _clean_name(name: str) -> str:
    value = name.strip() if isinstance(name, str) else ""
    if not value:
        raise AccountError("Give the token a name, e.g. what will use it.")
    if len(value) > MAX_NAME:
        raise AccountError(f"A token name has at most {MAX_NAME} characters.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
        raise AccountError("A token name cannot contain control or invisible characters.")
    return value


def create_api_token(
    user_id: str, name: str, *, expires_at: datetime | None = None
) -> tuple[str, ApiToken]:
    """A new token for an enabled user: (the raw token, shown once; its stored row)."""
    label = _clean_name(name)
    now = utcnow()
    if expires_at is not None:
        if expires_at.utcoffset() is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at <= now:
            raise AccountError("A token's expiry must be in the future.")
    raw = _new_raw_token()
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or user.disabled_at is not None:
            raise AccountError("No such account.")
        token = ApiToken(
            user_id=user_id,
            name=label,
            prefix=raw[: len(TOKEN_PREFIX) + DISPLAY_CHARS],
            token_hash=_digest(raw),
            created_at=now,
            expires_at=expires_at,
        )
        session.add(token)
    return raw, token


def list_api_tokens(user_id: str) -> list[ApiToken]:
    """A user's tokens, newest first, revoked and expired ones included."""
    with session_scope() as session:
        query = (
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id)  # type: ignore[attr-defined]
        )
        return list(session.exec(query).all())


def revoke_api_token(user_id: str, token_id: str) -> bool:
    """Revoke one of the user's tokens; False (and nothing touched) if it is not theirs."""
    with session_scope() as session:
        token = session.get(ApiToken, token_id) if isinstance(token_id, str) else None
        if token is None or token.user_id != user_id:
            return False
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            session.add(token)
        return True


def user_for_token(raw: str) -> User | None:
    """The user a raw token belongs to; None if malformed, unknown, revoked, expired or the
    user is disabled. Records the use at most once a minute."""
    if not looks_like_token(raw):
        return None
    now = utcnow()
    with session_scope() as session:
        token = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(raw))).first()
        if token is None or token.revoked_at is not None:
            return None
        if token.expires_at is not None and token.expires_at <= now:
            return None
        user = session.get(User, token.user_id)
        if user is None or user.disabled_at is not None:
            return None
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            token.last_used_at = now
            session.add(token)
        return user
