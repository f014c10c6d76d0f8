"""Account tables: users, server-side sign-in sessions and API tokens.

Secrets are never stored: a session row's id and a token's `token_hash` are SHA-256 hex digests
of the raw values that only the browser cookie or the API client holds.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from jobboard.core.models import utcnow


def new_id() -> str:
    """A uuid4 as 32 hex characters (fits every `owner_id` column)."""
    return uuid.uuid4().hex


class User(SQLModel, table=True):
    """Someone who signs in; `id` is the `owner_id` of their jobs, products and prefs."""

    __tablename__ = "user_account"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    email: str = Field(max_length=254, unique=True, index=True)  # stripped, lower-cased
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    last_sign_in_at: datetime | None = None
    is_admin: bool = False
    disabled_at: datetime | None = None


class SignInSession(SQLModel, table=True):
    """A browser's sign-in; `id` is the SHA-256 hex of the secret kept in its cookie."""

    __tablename__ = "signin_session"

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=32, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    last_seen_at: datetime = Field(default_factory=utcnow)
    address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)


class ApiToken(SQLModel, table=True):
    """A personal API token; only its SHA-256 hex and a short display prefix are kept."""

    __tablename__ = "api_token"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(max_length=32, index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
