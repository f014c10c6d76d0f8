"""Settings → Webhooks: register endpoints, change them, rotate secrets, send a test event,
read the delivery log and resend a delivery. The owner is always the signed-in user."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import datetime
from typing import Any

import reflex as rx

from jobboard.core import webhooks
from jobboard.core.format import number
from jobboard.state.session import current_user, owner_of

LOG_ROWS = 50
WATCH_SECONDS = 60.0  # how long the page waits for a queued test or resend to be logged


def _when(value: datetime | None, never: str = "") -> str:
    """ISO 8601: the page shows it in the browser's zone and locale (components/time.py)."""
    return value.isoformat() if value else never


@dataclasses.dataclass
class WebhookRow:
    id: str = ""
    url: str = ""
    events: str = ""
    description: str = ""
    active: bool = False
    status: str = ""  # "active" | "paused" | "turned off"
    disabled_reason: str = ""
    failing_since: str = ""
    rotating_until: str = ""
    created: str = ""


@dataclasses.dataclass
class DeliveryRow:
    id: str = ""
    when: str = ""
    event_type: str = ""
    attempt: int = 1
    trigger: str = ""
    ok: bool = False
    result: str = ""  # the status code, or what went wrong
    latency: str = ""
    excerpt: str = ""
    next_attempt: str = ""


def _row(hook: webhooks.Webhook) -> WebhookRow:
    status = "active" if hook.active else ("turned off" if hook.disabled_reason else "paused")
    return WebhookRow(
        id=hook.id,
        url=hook.url,
        events=", ".join(hook.event_types),
        description=hook.description,
        active=hook.active,
        status=status,
        disabled_reason=hook.disabled_reason,
        failing_since=_when(hook.failing_since, ""),
        rotating_until=_when(hook.previous_secret_expires_at, "")
        if hook.previous_secret_expires_at and hook.previous_secret
        else "",
        created=_when(hook.created_at),
    )


def _delivery(row: webhooks.WebhookDelivery) -> DeliveryRow:
    return DeliveryRow(
        id=row.id,
        when=_when(row.attempted_at),
        event_type=row.event_type,
        attempt=row.attempt,
        trigger=row.trigger,
        ok=row.ok,
        result=str(row.status_code) if row.status_code is not None else row.error,
        latency=f"{number(row.latency_ms)} ms" if row.latency_ms is not None else "—",
        excerpt=row.response_excerpt,
        next_attempt=_when(row.next_attempt_at, ""),
    )


def _chosen(form: dict[str, Any]) -> list[str]:
    names = (*webhooks.EVENT_TYPES, webhooks.ALL_EVENTS)
    return [name for name in names if form.get(f"event_{name}") not in (None, "", False, "off")]


class WebhooksState(rx.State):
    webhooks: list[WebhookRow] = []
    selected: str = ""  # the webhook whose details and log are shown
    deliveries: list[DeliveryRow] = []
    new_secret: str = ""  # shown once, right after create or rotate
    new_secret_for: str = ""
    error: str = ""
    message: str = ""
    watching: bool = False

    @rx.var(cache=True)
    def current(self) -> WebhookRow:
        return next((w for w in self.webhooks if w.id == self.selected), WebhookRow())

    @rx.var(cache=True)
    def turned_off(self) -> list[WebhookRow]:
        return [w for w in self.webhooks if w.status == "turned off"]

    async def _reload(self, owner: str) -> None:
        rows = await asyncio.to_thread(webhooks.list_webhooks, owner)
        self.webhooks = [_row(h) for h in rows]
        if self.selected and not any(w.id == self.selected for w in self.webhooks):
            self.selected = ""
        await self._reload_log(owner)

    async def _reload_log(self, owner: str) -> None:
        if not self.selected:
            self.deliveries = []
            return
        rows = await asyncio.to_thread(
            webhooks.list_deliveries, owner, self.selected, limit=LOG_ROWS
        )
        self.deliveries = [_delivery(r) for r in rows or []]

    @rx.event
    async def load(self) -> None:
        self.new_secret = self.new_secret_for = self.error = self.message = ""
        user = await current_user(self)
        if user is not None:
            await self._reload(user.id)

    @rx.event
    async def create(self, form: dict):
        user = await current_user(self)
        if user is None:
            return None
        self.error = self.message = ""
        url = str(form.get("url", ""))
        try:
            hook, secret = await asyncio.to_thread(
                webhooks.create_webhook,
                user.id,
                url,
                _chosen(form),
                str(form.get("description", "")),
            )
        except webhooks.WebhookError as exc:
            self.error = str(exc)  # the form keeps what was typed
            return None
        self.new_secret, self.new_secret_for = secret, hook.url
        self.selected = hook.id
        await self._reload(user.id)
        return [rx.set_value("webhook-url", ""), rx.set_value("webhook-description", "")]

    @rx.event
    def dismiss_secret(self) -> None:
        self.new_secret = self.new_secret_for = ""

    @rx.event
    async def select(self, webhook_id: str) -> None:
        user = await current_user(self)
        if user is None:
            return
        self.error = self.message = ""
        self.selected = webhook_id
        await self._reload(user.id)

    @rx.event
    async def save(self, form: dict) -> None:
        user = await current_user(self)
        if user is None or not self.selected:
            return
        self.error = self.message = ""
        try:
            hook = await asyncio.to_thread(
                webhooks.update_webhook,
                user.id,
                self.selected,
                event_types=_chosen(form),
                description=str(form.get("description", "")),
                active=form.get("active") not in (None, "", False, "off"),
            )
        except webhooks.WebhookError as exc:
            self.error = str(exc)
            return
        self.message = "Saved." if hook is not None else ""
        await self._reload(user.id)

    @rx.event
    async def rotate(self) -> None:
        user = await current_user(self)
        if user is None or not self.selected:
            return
        self.error = self.message = ""
        rotated = await asyncio.to_thread(webhooks.rotate_secret, user.id, self.selected)
        if rotated is not None:
            hook, secret = rotated
            self.new_secret, self.new_secret_for = secret, hook.url
            self.message = "New secret made: for 24 hours requests are signed with both."
        await self._reload(user.id)

    @rx.event
    async def delete(self) -> None:
        user = await current_user(self)
        if user is None or not self.selected:
            return
        self.error = self.message = ""
        await asyncio.to_thread(webhooks.delete_webhook, user.id, self.selected)
        self.selected = ""
        self.message = "Webhook deleted."
        await self._reload(user.id)

    @rx.event
    async def send_test(self):
        user = await current_user(self)
        if user is None or not self.selected:
            return None
        self.error = self.message = ""
        sent = await asyncio.to_thread(webhooks.send_test, user.id, self.selected)
        if sent is None:
            return None
        self.message = "Test event queued; its delivery shows in the log below."
        return WebhooksState.watch_log(self.deliveries[0].id if self.deliveries else "", sent)

    @rx.event
    async def resend(self, delivery_id: str):
        user = await current_user(self)
        if user is None or not self.selected:
            return None
        self.error = self.message = ""
        sent = await asyncio.to_thread(webhooks.redeliver, user.id, self.selected, delivery_id)
        if sent is None:
            self.error = "That delivery is not in this webhook's log any more."
            return None
        self.message = "Resend queued; the new attempt shows in the log below."
        return WebhooksState.watch_log(self.deliveries[0].id if self.deliveries else "", sent)

    @rx.event
    async def refresh(self) -> None:
        user = await current_user(self)
        if user is not None:
            await self._reload(user.id)

    @rx.event(background=True)
    async def watch_log(self, newest: str, message_id: str = ""):
        """Reload the log until the queued message's attempt shows (or WATCH_SECONDS pass).

        Other deliveries (the owner's job events) may be logged first: they are shown as they
        come, and the watch goes on until the one queued here is there."""
        owner = owner_of(self)
        async with self:
            if self.watching:
                return
            self.watching = True
            webhook_id = self.selected
        try:
            deadline = time.monotonic() + WATCH_SECONDS
            while time.monotonic() < deadline:
                await asyncio.sleep(0.3)
                rows = await asyncio.to_thread(
                    webhooks.list_deliveries, owner, webhook_id, limit=LOG_ROWS
                )
                if rows is None:
                    return
                if rows and rows[0].id != newest:
                    newest = rows[0].id
                    hooks = await asyncio.to_thread(webhooks.list_webhooks, owner)
                    async with self:
                        if self.selected != webhook_id:
                            return
                        self.deliveries = [_delivery(r) for r in rows]
                        self.webhooks = [_row(h) for h in hooks]
                    if not message_id or any(r.message_id == message_id for r in rows):
                        return
        finally:
            async with self:
                self.watching = False
