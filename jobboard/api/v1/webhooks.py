"""Webhooks of the caller: register, change, rotate the secret, test, the delivery log.

Another user's webhook (or delivery) is "not found". Refused input — a URL the SSRF guard does
not let through, unknown event types — is 422 with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response

from jobboard.api.v1.deps import CurrentUser
from jobboard.api.v1.webhook_schemas import (
    DeliveryOut,
    Queued,
    WebhookIn,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)
from jobboard.core import webhooks

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

WebhookId = Annotated[str, Path(min_length=1, max_length=64, description="the webhook's id")]
DeliveryId = Annotated[str, Path(min_length=1, max_length=64, description="a logged attempt")]
NOT_FOUND = {404: {"description": "no such webhook of yours"}}


def _refused(exc: webhooks.WebhookError) -> HTTPException:
    return HTTPException(422, str(exc))


def _found(user_id: str, webhook_id: str) -> webhooks.Webhook:
    hook = webhooks.get_webhook(user_id, webhook_id)
    if hook is None:
        raise HTTPException(404, "not found")
    return hook


@router.get("", response_model=list[WebhookOut], summary="List your webhooks")
def list_webhooks(user: CurrentUser) -> list[webhooks.Webhook]:
    return webhooks.list_webhooks(user.id)


@router.post(
    "",
    status_code=201,
    response_model=WebhookWithSecret,
    summary="Register a webhook",
    description="The answer holds the signing secret; it is never shown again (rotate it to "
    "get a new one).",
)
def create_webhook(user: CurrentUser, body: WebhookIn) -> dict[str, Any]:
    try:
        hook, secret = webhooks.create_webhook(
            user.id, body.url, [e.value for e in body.event_types], body.description, body.active
        )
    except webhooks.WebhookError as exc:
        raise _refused(exc) from None
    return WebhookOut.model_validate(hook).model_dump() | {"secret": secret}


@router.get("/{webhook_id}", response_model=WebhookOut, responses=NOT_FOUND, summary="One webhook")
def get_webhook(webhook_id: WebhookId, user: CurrentUser) -> webhooks.Webhook:
    return _found(user.id, webhook_id)


@router.put(
    "/{webhook_id}", response_model=WebhookOut, responses=NOT_FOUND, summary="Change a webhook"
)
def update_webhook(
    webhook_id: WebhookId, user: CurrentUser, body: WebhookUpdate
) -> webhooks.Webhook:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if changes.get("event_types") is not None:
        changes["event_types"] = [e.value for e in body.event_types or []]
    changes = {k: v for k, v in changes.items() if v is not None}
    try:
        hook = webhooks.update_webhook(user.id, webhook_id, **changes)
    except webhooks.WebhookError as exc:
        raise _refused(exc) from None
    if hook is None:
        raise HTTPException(404, "not found")
    return hook


@router.delete(
    "/{webhook_id}", status_code=204, responses=NOT_FOUND, summary="Delete a webhook and its log"
)
def delete_webhook(webhook_id: WebhookId, user: CurrentUser) -> Response:
    if not webhooks.delete_webhook(user.id, webhook_id):
        raise HTTPException(404, "not found")
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
    responses=NOT_FOUND,
    summary="Rotate the signing secret",
    description="Returns the new secret (shown once). For 24 hours requests carry two "
    "signatures, one per secret, so receivers can switch without losing a request.",
)
def rotate_secret(webhook_id: WebhookId, user: CurrentUser) -> dict[str, Any]:
    rotated = webhooks.rotate_secret(user.id, webhook_id)
    if rotated is None:
        raise HTTPException(404, "not found")
    hook, secret = rotated
    return WebhookOut.model_validate(hook).model_dump() | {"secret": secret}


@router.post(
    "/{webhook_id}/test",
    status_code=202,
    response_model=Queued,
    responses=NOT_FOUND,
    summary="Send a test event",
    description="One attempt with `event_type: test`; it shows in the delivery log.",
)
def send_test(webhook_id: WebhookId, user: CurrentUser) -> Queued:
    message_id = webhooks.send_test(user.id, webhook_id)
    if message_id is None:
        raise HTTPException(404, "not found")
    return Queued(message_id=message_id)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=list[DeliveryOut],
    responses=NOT_FOUND,
    summary="The delivery log: every attempt, newest first (kept 30 days)",
)
def list_deliveries(
    webhook_id: WebhookId,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[webhooks.WebhookDelivery]:
    rows = webhooks.list_deliveries(user.id, webhook_id, limit=limit, offset=offset)
    if rows is None:
        raise HTTPException(404, "not found")
    return rows


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=Queued,
    responses={404: {"description": "no such webhook or delivery of yours"}},
    summary="Send a logged delivery's message again (one attempt, same webhook-id)",
)
def redeliver(webhook_id: WebhookId, delivery_id: DeliveryId, user: CurrentUser) -> Queued:
    message_id = webhooks.redeliver(user.id, webhook_id, delivery_id)
    if message_id is None:
        raise HTTPException(404, "not found")
    return Queued(message_id=message_id)
