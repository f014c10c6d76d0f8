"""Webhooks of an owner: create, list, change, rotate the secret, delete; the delivery log.

Every function takes the owner: another owner's webhook is "not found" (None / False).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import col, select

from jobboard.core.db import session_scope
from jobboard.core.models import utcnow
from jobboard.core.webhooks import dispatch, ssrf
from jobboard.core.webhooks.errors import WebhookError
from jobboard.core.webhooks.models import (
    ALL_EVENTS,
    EVENT_TYPES,
    Webhook,
    WebhookDelivery,
    WebhookMessage,
)
from jobboard.core.webhooks.signing import new_secret

MAX_WEBHOOKS = 20  # per owner
MAX_DESCRIPTION = 300
ROTATION_OVERLAP = timedelta(hours=24)  # the old secret keeps signing this long
_UNSET: Any = object()


def clean_event_types(values: Iterable[str] | None) -> list[str]:
    """The event types as stored: known names, no repeats, `all` alone."""
    if values is None or isinstance(values, str):
        raise WebhookError("Choose the events to send: a list of " + _choices() + ".")
    chosen: list[str] = []
    for value in values:
        name = value.strip().lower() if isinstance(value, str) else ""
        if name not in (*EVENT_TYPES, ALL_EVENTS):
            shown = repr(value)[:40]
            raise WebhookError(f"There is no event type {shown}: use {_choices()}.")
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise WebhookError("Choose at least one event type: " + _choices() + ".")
    return [ALL_EVENTS] if ALL_EVENTS in chosen else chosen


def _choices() -> str:
    return ", ".join(EVENT_TYPES) + " or " + ALL_EVENTS


def clean_description(value: str | None) -> str:
    text = (value or "").strip() if isinstance(value, str | None) else None
    if text is None:
        raise WebhookError("A description is text.")
    if len(text) > MAX_DESCRIPTION:
        raise WebhookError(f"A description has at most {MAX_DESCRIPTION} characters.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise WebhookError("A description cannot contain control or invisible characters.")
    return text


def clean_url(url: str) -> str:
    """The URL as stored, once the SSRF guard accepted where it leads (now)."""
    ssrf.check_target(url)
    return url.strip()


def create_webhook(
    owner_id: str,
    url: str,
    event_types: Iterable[str] | None,
    description: str | None = "",
    active: bool = True,
) -> tuple[Webhook, str]:
    """A new webhook: (its row, the secret — shown to the user this once)."""
    types = clean_event_types(event_types)
    text = clean_description(description)
    target = clean_url(url)
    secret = new_secret()
    with session_scope() as session:
        count = session.exec(
            select(func.count()).select_from(Webhook).where(Webhook.owner_id == owner_id)
        ).one()
        if count >= MAX_WEBHOOKS:
            raise WebhookError(f"You can have at most {MAX_WEBHOOKS} webhooks; delete one first.")
        hook = Webhook(
            owner_id=owner_id,
            url=target,
            event_types=types,
            description=text,
            active=bool(active),
            secret=secret,
        )
        session.add(hook)
    dispatch.forget_subscriptions(owner_id)
    return hook, secret


def list_webhooks(owner_id: str) -> list[Webhook]:
    with session_scope() as session:
        query = (
            select(Webhook)
            .where(Webhook.owner_id == owner_id)
            .order_by(col(Webhook.created_at), col(Webhook.id))
        )
        return list(session.exec(query).all())


def get_webhook(owner_id: str, webhook_id: str) -> Webhook | None:
    if not isinstance(webhook_id, str) or len(webhook_id) > 64:
        return None
    with session_scope() as session:
        hook = session.get(Webhook, webhook_id)
        return hook if hook is not None and hook.owner_id == owner_id else None


def update_webhook(
    owner_id: str,
    webhook_id: str,
    *,
    url: str = _UNSET,
    event_types: Iterable[str] = _UNSET,
    description: str | None = _UNSET,
    active: bool = _UNSET,
) -> Webhook | None:
    """Change what is given; None if the owner has no such webhook. Turning a webhook back on
    clears why it was turned off and starts its failure count afresh."""
    values: dict[str, Any] = {}
    if url is not _UNSET:
        values["url"] = clean_url(url)
    if event_types is not _UNSET:
        values["event_types"] = clean_event_types(event_types)
    if description is not _UNSET:
        values["description"] = clean_description(description)
    with session_scope() as session:
        hook = session.get(Webhook, webhook_id) if isinstance(webhook_id, str) else None
        if hook is None or hook.owner_id != owner_id:
            return None
        if active is not _UNSET:
            if active and not hook.active:
                hook.failing_since, hook.disabled_reason = None, ""
            hook.active = bool(active)
        for name, value in values.items():
            setattr(hook, name, value)
        hook.updated_at = utcnow()
        session.add(hook)
    dispatch.forget_subscriptions(owner_id)
    return hook


def rotate_secret(owner_id: str, webhook_id: str) -> tuple[Webhook, str] | None:
    """A new secret (returned once); the old one keeps signing for ROTATION_OVERLAP."""
    now = utcnow()
    secret = new_secret()
    with session_scope() as session:
        hook = session.get(Webhook, webhook_id) if isinstance(webhook_id, str) else None
        if hook is None or hook.owner_id != owner_id:
            return None
        hook.previous_secret = hook.secret
        hook.previous_secret_expires_at = now + ROTATION_OVERLAP
        hook.secret = secret
        hook.updated_at = now
        session.add(hook)
    return hook, secret


def delete_webhook(owner_id: str, webhook_id: str) -> bool:
    """Delete a webhook with its messages and delivery log; False if not the owner's."""
    with session_scope() as session:
        hook = session.get(Webhook, webhook_id) if isinstance(webhook_id, str) else None
        if hook is None or hook.owner_id != owner_id:
            return False
        session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == hook.id))
        session.exec(delete(WebhookMessage).where(col(WebhookMessage.webhook_id) == hook.id))
        session.delete(hook)
    dispatch.forget_subscriptions(owner_id)
    return True


def signing_secrets(hook: Webhook, now: datetime | None = None) -> list[str]:
    """The secrets that sign a request now: the current one, and the previous one during a
    rotation."""
    now = now or utcnow()
    found = [hook.secret]
    if (
        hook.previous_secret
        and hook.previous_secret_expires_at
        and (hook.previous_secret_expires_at > now)
    ):
        found.append(hook.previous_secret)
    return found


def list_deliveries(
    owner_id: str, webhook_id: str, *, limit: int = 50, offset: int = 0
) -> list[WebhookDelivery] | None:
    """A webhook's delivery attempts, newest first; None if the owner has no such webhook."""
    if get_webhook(owner_id, webhook_id) is None:
        return None
    with session_scope() as session:
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(col(WebhookDelivery.attempted_at).desc(), col(WebhookDelivery.id))
            .offset(max(0, offset))
            .limit(max(1, min(limit, 200)))
        )
        return list(session.exec(query).all())


def get_delivery(owner_id: str, webhook_id: str, delivery_id: str) -> WebhookDelivery | None:
    if not isinstance(delivery_id, str) or len(delivery_id) > 64:
        return None
    with session_scope() as session:
        row = session.get(WebhookDelivery, delivery_id)
    if row is None or row.owner_id != owner_id or row.webhook_id != webhook_id:
        return None
    return row


def get_message(message_id: str) -> WebhookMessage | None:
    with session_scope() as session:
        return session.get(WebhookMessage, message_id)


def purge_log(now: datetime | None = None, days: int | None = None) -> int:
    """Delete delivery attempts and messages older than the log's period; returns how many
    attempts went."""
    from jobboard.core.settings import get_settings

    cutoff = (now or utcnow()) - timedelta(days=days or get_settings().webhook_log_days)
    with session_scope() as session:
        gone = session.exec(
            delete(WebhookDelivery).where(col(WebhookDelivery.attempted_at) < cutoff)
        ).rowcount
        # A message goes once none of its attempts is left (a resend keeps an old one alive).
        kept = select(WebhookDelivery.message_id).distinct()
        session.exec(
            delete(WebhookMessage).where(
                col(WebhookMessage.created_at) < cutoff, col(WebhookMessage.id).not_in(kept)
            )
        )
    return int(gone or 0)
