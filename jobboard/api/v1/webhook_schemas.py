"""Request and response models of the webhook routes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from jobboard.core.webhooks import ALL_EVENTS, EVENT_TYPES

EventType = StrEnum("EventType", {e: e for e in (*EVENT_TYPES, ALL_EVENTS)})  # type: ignore[misc]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookIn(_Body):
    url: str = Field(max_length=2048, description="http(s) URL of a public address")
    event_types: list[EventType] = Field(
        min_length=1, max_length=10, description="progress, completed, failed, cancelled or all"
    )
    description: str = Field("", max_length=300)
    active: bool = True


class WebhookUpdate(_Body):
    """Only the fields given change."""

    url: str | None = Field(None, max_length=2048)
    event_types: list[EventType] | None = Field(None, min_length=1, max_length=10)
    description: str | None = Field(None, max_length=300)
    active: bool | None = None


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    event_types: list[str]
    description: str
    active: bool
    created_at: datetime
    updated_at: datetime
    failing_since: datetime | None = Field(
        description="the first failed attempt since the last success"
    )
    disabled_reason: str = Field(description="why Jobboard turned the webhook off, if it did")
    previous_secret_expires_at: datetime | None = Field(
        description="during a secret rotation: until when the old secret signs too"
    )


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="the signing secret (whsec_…); shown only this once")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    message_id: str = Field(description="the webhook-id header (the same on every retry)")
    event_type: str
    attempt: int
    trigger: str = Field(description="event, test or resend")
    attempted_at: datetime
    ok: bool
    status_code: int | None
    error: str
    latency_ms: float | None
    response_excerpt: str = Field(description="the first 2 KB of the response body")
    next_attempt_at: datetime | None


class Queued(BaseModel):
    message_id: str
