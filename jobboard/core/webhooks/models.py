"""Webhook tables: the endpoints users register, the messages sent to them and every attempt.

A message is one event for one webhook (its id is the `webhook-id` header, the same on every
retry); each attempt to deliver it is a `WebhookDelivery` row, which is what the delivery log
shows. The secret is kept as it is: signing needs it (like a password it is never shown again).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from jobboard.core.accounts.models import new_id
from jobboard.core.models import utcnow

EVENT_TYPES = ("progress", "completed", "failed", "cancelled")
ALL_EVENTS = "all"


class Webhook(SQLModel, table=True):
    __tablename__ = "webhook"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    owner_id: str = Field(max_length=64, index=True)
    url: str = Field(max_length=2048)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str = Field(default="", max_length=300)
    active: bool = True
    secret: str = Field(max_length=100)
    # During a rotation the old secret signs too, until `previous_secret_expires_at`.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    failing_since: datetime | None = None  # the first failed attempt since the last success
    disabled_reason: str = Field(default="", max_length=300)  # set when Jobboard turned it off

    def wants(self, event_type: str) -> bool:
        return ALL_EVENTS in self.event_types or event_type in self.event_types


class WebhookMessage(SQLModel, table=True):
    """One event for one webhook; its `id` is the `webhook-id` header receivers dedupe on."""

    __tablename__ = "webhook_message"

    id: str = Field(primary_key=True, max_length=40)  # msg_<32 hex>
    webhook_id: str = Field(max_length=32, index=True)
    owner_id: str = Field(max_length=64)
    event_type: str = Field(max_length=20)
    job_id: str | None = Field(default=None, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class WebhookDelivery(SQLModel, table=True):
    """One attempt to deliver a message: what the delivery log lists."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_webhook_at", "webhook_id", "attempted_at"),
        Index("ix_webhook_delivery_attempted_at", "attempted_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    message_id: str = Field(max_length=40, index=True)
    webhook_id: str = Field(max_length=32)
    owner_id: str = Field(max_length=64)
    event_type: str = Field(max_length=20)
    attempt: int = 1  # 1..len(schedule) for automatic deliveries
    trigger: str = Field(default="event", max_length=10)  # "event" | "test" | "resend"
    attempted_at: datetime = Field(default_factory=utcnow)
    status_code: int | None = None
    error: str = Field(default="", max_length=500)
    latency_ms: float | None = None
    response_excerpt: str = Field(default="", max_length=2048)
    ok: bool = False
    next_attempt_at: datetime | None = None  # when the next automatic attempt is due
