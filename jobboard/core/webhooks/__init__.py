"""Webhooks: signed HTTP callbacks for job events, with retries, an SSRF guard and a log.

Small modules, plain functions (no HTTP framework, no Reflex):
`models` (tables), `signing` (Standard Webhooks), `ssrf` (where a webhook may connect),
`store` (an owner's webhooks and delivery log), `dispatch` (job event → queued deliveries),
`delivery` (one attempt, retries, turning a failing webhook off).
"""

from jobboard.core.webhooks.delivery import deliver, redeliver, sample_payload, send_test
from jobboard.core.webhooks.dispatch import QUEUE, job_event
from jobboard.core.webhooks.errors import WebhookError
from jobboard.core.webhooks.models import (
    ALL_EVENTS,
    EVENT_TYPES,
    Webhook,
    WebhookDelivery,
    WebhookMessage,
)
from jobboard.core.webhooks.signing import new_secret, sign
from jobboard.core.webhooks.ssrf import address_problem, check_target
from jobboard.core.webhooks.store import (
    MAX_WEBHOOKS,
    create_webhook,
    delete_webhook,
    get_delivery,
    get_webhook,
    list_deliveries,
    list_webhooks,
    purge_log,
    rotate_secret,
    signing_secrets,
    update_webhook,
)

__all__ = [
    "ALL_EVENTS",
    "EVENT_TYPES",
    "MAX_WEBHOOKS",
    "QUEUE",
    "Webhook",
    "WebhookDelivery",
    "WebhookError",
    "WebhookMessage",
    "address_problem",
    "check_target",
    "create_webhook",
    "delete_webhook",
    "deliver",
    "get_delivery",
    "get_webhook",
    "job_event",
    "list_deliveries",
    "list_webhooks",
    "new_secret",
    "purge_log",
    "redeliver",
    "rotate_secret",
    "sample_payload",
    "send_test",
    "sign",
    "signing_secrets",
    "update_webhook",
]
