"""Settings → API tokens (every user) and Settings → Users (administrators only)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta

import reflex as rx

from jobboard.core import accounts
from jobboard.core.models import utcnow
from jobboard.state.session import current_user

MAX_TOKEN_DAYS = 3650


def _when(value: datetime | None) -> str:
    """ISO 8601 (UTC): the browser shows it in the user's zone (`components/time.py`)."""
    return value.isoformat() if value else ""


@dataclasses.dataclass
class TokenRow:
    id: str = ""
    name: str = ""
    prefix: str = ""
    created: str = ""
    last_used: str = ""
    expires: str = ""
    status: str = ""  # "active" | "expired" | "revoked"


@dataclasses.dataclass
class UserRow:
    id: str = ""
    email: str = ""
    created: str = ""
    last_sign_in: str = ""
    admin: bool = False
    disabled: bool = False
    is_you: bool = False


def _token_row(token: accounts.ApiToken, now: datetime) -> TokenRow:
    if token.revoked_at is not None:
        status = "revoked"
    elif token.expires_at is not None and token.expires_at <= now:
        status = "expired"
    else:
        status = "active"
    return TokenRow(
        id=token.id,
        name=token.name,
        prefix=token.prefix + "…",
        created=_when(token.created_at),
        last_used=_when(token.last_used_at),
        expires=_when(token.expires_at),
        status=status,
    )


def _parse_days(text: str) -> int | None:
    """Expiry in days from the form: "" means never; raises AccountError for anything else."""
    value = (text or "").strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_TOKEN_DAYS:
        raise accounts.AccountError(
            f"Expiry is a number of days from 1 to {MAX_TOKEN_DAYS}, or empty for never."
        )
    return int(value)


class TokensState(rx.State):
    tokens: list[TokenRow] = []
    new_token: str = ""  # the raw token, shown once right after it was created
    new_token_name: str = ""
    error: str = ""

    async def _reload(self, user_id: str) -> None:
        rows = await asyncio.to_thread(accounts.list_api_tokens, user_id)
        now = utcnow()
        self.tokens = [_token_row(token, now) for token in rows]

    @rx.event
    async def load(self) -> None:
        self.new_token = self.new_token_name = self.error = ""
        user = await current_user(self)
        if user is not None:
            await self._reload(user.id)

    @rx.event
    async def create(self, form: dict) -> None:
        user = await current_user(self)
        if user is None:
            return
        self.error = ""
        try:
            days = _parse_days(str(form.get("days", "")))
            expires = utcnow() + timedelta(days=days) if days else None
            raw, token = await asyncio.to_thread(
                accounts.create_api_token, user.id, str(form.get("name", "")), expires_at=expires
            )
        except accounts.AccountError as exc:
            self.error = str(exc)
            return
        self.new_token, self.new_token_name = raw, token.name
        await self._reload(user.id)

    @rx.event
    def dismiss_new_token(self) -> None:
        self.new_token = self.new_token_name = ""

    @rx.event
    async def revoke(self, token_id: str) -> None:
        user = await current_user(self)
        if user is None:
            return
        await asyncio.to_thread(accounts.revoke_api_token, user.id, token_id)
        await self._reload(user.id)


class UsersState(rx.State):
    is_admin: bool = False
    users: list[UserRow] = []
    error: str = ""
    message: str = ""

    async def _admin(self) -> str | None:
        user = await current_user(self)
        self.is_admin = bool(user and user.is_admin)
        return user.id if user and user.is_admin else None

    async def _reload(self, admin_id: str) -> None:
        rows = await asyncio.to_thread(accounts.list_users)
        self.users = [
            UserRow(
                id=u.id,
                email=u.email,
                created=_when(u.created_at),
                last_sign_in=_when(u.last_sign_in_at),
                admin=u.is_admin,
                disabled=u.disabled_at is not None,
                is_you=u.id == admin_id,
            )
            for u in rows
        ]

    @rx.event
    async def load(self) -> None:
        self.error = self.message = ""
        self.users = []
        admin_id = await self._admin()
        if admin_id:
            await self._reload(admin_id)

    @rx.event
    async def disable(self, user_id: str) -> None:
        admin_id = await self._admin()
        if not admin_id:
            return
        self.error = self.message = ""
        try:
            user = await asyncio.to_thread(accounts.disable_user, admin_id, user_id)
        except accounts.AccountError as exc:
            self.error = str(exc)
        else:
            self.message = f"{user.email} is disabled and signed out everywhere."
        await self._reload(admin_id)

    @rx.event
    async def create(self, form: dict) -> None:
        admin_id = await self._admin()
        if not admin_id:
            return
        self.error = self.message = ""
        try:
            user = await asyncio.to_thread(
                accounts.create_user, str(form.get("email", "")), str(form.get("password", ""))
            )
        except accounts.AccountError as exc:
            self.error = str(exc)
            return
        self.message = f"Account created for {user.email}. Give them the password to sign in."
        await self._reload(admin_id)
