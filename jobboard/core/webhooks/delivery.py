"""Delivering one message: an RQ job on the `webhooks` queue per attempt.

An attempt checks the target again (SSRF guard, DNS may have changed), connects to the checked
address, POSTs the signed body with a 10 s timeout and without following redirects, keeps the
first 2 KB of the answer and logs the attempt. A 2xx is a success. Anything else schedules the
next attempt from `Settings.webhook_retry_schedule` (with ±20 % jitter, never sooner than a
`Retry-After` asks) until the schedule is used up. `410 Gone` turns the webhook off at once, and
a webhook that has failed for `webhook_disable_after_seconds` (3 days) is turned off with the
reason, which Settings → Webhooks shows. Test events and resends are one attempt each.
"""

from __future__ import annotations

import json
import logging
import random
import ssl
import time
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import httpx
from rq import Queue
from sqlmodel import col, select

from jobboard.core.db import session_scope
from jobboard.core.models import utcnow
from jobboard.core.public import JobPublic, ProgressData
from jobboard.core.redis import get_redis
from jobboard.core.settings import get_settings
from jobboard.core.webhooks import dispatch, ssrf
from jobboard.core.webhooks.errors import WebhookError
from jobboard.core.webhooks.models import Webhook, WebhookDelivery, WebhookMessage
from jobboard.core.webhooks.signing import headers, new_message_id

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
EXCERPT_BYTES = 2048
MAX_RETRY_AFTER = 24 * 3600.0
JITTER = 0.2


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """The TLS settings of every https delivery (certificates checked). Loading the CA bundle
    takes a while, so the worker pool builds it once before it forks its workers
    (`workers/__main__.py`), which deliver in-process (`workers/worker.py`)."""
    return httpx.create_ssl_context()


def _excerpt(response: httpx.Response, deadline: float) -> str:
    """The first 2 KB of the body, read for at most until `deadline` (a receiver that drips
    its answer must not hold a worker past the attempt's timeout)."""
    data = b""
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= EXCERPT_BYTES or time.perf_counter() > deadline:
            break
    # PostgreSQL text cannot hold NUL characters.
    return data[:EXCERPT_BYTES].decode("utf-8", "replace").replace("\x00", "\ufffd")


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, min((when - now).total_seconds(), MAX_RETRY_AFTER))


def send(hook: Webhook, message_id: str, body: bytes) -> dict[str, Any]:
    """One signed POST to the webhook's checked address; what the log records of it."""
    from jobboard.core.webhooks.store import signing_secrets

    try:
        target = ssrf.check_target(hook.url)
    except WebhookError as exc:
        return {"error": f"refused: {exc}", "status_code": None}
    request_headers = headers(signing_secrets(hook), message_id, int(time.time()), body)
    request_headers["host"] = target.host_header
    request_headers["accept-encoding"] = "identity"  # the excerpt is stored as it came
    extensions = (
        {"sni_hostname": target.host} if target.scheme == "https" and target.is_name else {}
    )
    started = time.perf_counter()
    try:
        # trust_env=False: a proxy from the environment would connect by name, not to the
        # checked address.
        with httpx.Client(
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
            trust_env=False,
            # plain http needs no CA bundle
            verify=tls_context() if target.scheme == "https" else False,
        ) as client:
            started = time.perf_counter()
            with client.stream(
                "POST",
                target.pinned_url,
                content=body,
                headers=request_headers,
                extensions=extensions,
            ) as response:
                excerpt = _excerpt(response, started + TIMEOUT_SECONDS)
                status = response.status_code
                return {
                    "status_code": status,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                    "response_excerpt": excerpt,
                    "retry_after": response.headers.get("retry-after"),
                    "error": "" if 200 <= status < 300 else f"HTTP {status}",
                }
    except httpx.TimeoutException:
        error = f"no answer within {TIMEOUT_SECONDS:.0f} s"
    except httpx.ConnectError:
        error = "could not connect"
    except httpx.HTTPError as exc:
        error = f"request failed ({type(exc).__name__})"
    return {
        "status_code": None,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "error": error,
    }


def deliver(
    webhook_id: str,
    message_id: str,
    event_type: str,
    job_id: str | None,
    body: dict[str, Any],
    attempt: int = 1,
    trigger: str = "event",
) -> str:
    """Make one attempt (RQ job); returns "ok", "failed", "retrying" or "skipped"."""
    with session_scope() as session:
        hook = session.get(Webhook, webhook_id)
        if hook is None or (trigger == "event" and not hook.active):
            return "skipped"  # deleted, or turned off meanwhile
        if session.get(WebhookMessage, message_id) is None:
            session.add(
                WebhookMessage(
                    id=message_id,
                    webhook_id=hook.id,
                    owner_id=hook.owner_id,
                    event_type=event_type,
                    job_id=job_id,
                    payload=body,
                )
            )
    raw = json.dumps(body, separators=(",", ":"), default=str).encode()
    outcome = send(hook, message_id, raw)
    now = utcnow()
    ok = not outcome["error"]
    schedule = get_settings().webhook_retry_schedule
    gone = outcome.get("status_code") == 410
    next_at = None
    if not ok and not gone and trigger == "event" and attempt < len(schedule):
        delay = schedule[attempt] * random.uniform(1 - JITTER, 1 + JITTER)
        asked = retry_after(outcome.get("retry_after"), now)
        delay = max(delay, asked or 0.0)
        next_at = now + timedelta(seconds=delay)
    with session_scope() as session:
        session.add(
            WebhookDelivery(
                message_id=message_id,
                webhook_id=hook.id,
                owner_id=hook.owner_id,
                event_type=event_type,
                attempt=attempt,
                trigger=trigger,
                attempted_at=now,
                status_code=outcome.get("status_code"),
                error=outcome["error"][:500],
                latency_ms=outcome.get("latency_ms"),
                response_excerpt=outcome.get("response_excerpt", ""),
                ok=ok,
                next_attempt_at=next_at,
            )
        )
        still_on = _record_health(session, hook.id, ok=ok, gone=gone, now=now)
    if not still_on:  # after the commit, so no process caches the webhook as still on
        dispatch.forget_subscriptions(hook.owner_id)
    if next_at is not None and still_on:
        queue = Queue(dispatch.QUEUE, connection=get_redis())
        args = (webhook_id, message_id, event_type, job_id, body, attempt + 1, trigger)
        options: dict[str, Any] = {
            "job_timeout": 60,
            "result_ttl": 0,
            "failure_ttl": 7 * 24 * 3600,
            "description": f"webhook {event_type} → {webhook_id} (attempt {attempt + 1})",
        }
        wait = (next_at - now).total_seconds()
        if wait <= 0:
            queue.enqueue(dispatch.DELIVER, *args, **options)
        else:
            queue.enqueue_in(timedelta(seconds=wait), dispatch.DELIVER, *args, **options)
        return "retrying"
    return "ok" if ok else "failed"


def _record_health(session: Any, webhook_id: str, *, ok: bool, gone: bool, now: datetime) -> bool:
    """Update the webhook after an attempt; returns whether it is still on."""
    hook = session.get(Webhook, webhook_id, populate_existing=True)
    if hook is None:
        return False
    changed = False
    if ok:
        if hook.failing_since is not None:
            hook.failing_since, changed = None, True
    else:
        if hook.failing_since is None:
            hook.failing_since, changed = now, True
        limit = get_settings().webhook_disable_after_seconds
        reason = ""
        if gone:
            reason = "The receiver answered 410 Gone, so Jobboard stopped sending to it."
        elif (now - hook.failing_since).total_seconds() >= limit and hook.active:
            reason = (
                f"Every delivery has failed since {hook.failing_since:%Y-%m-%d %H:%M} UTC "
                f"({limit / 86400:.0f} days), so Jobboard stopped sending to it."
            )
        if reason and hook.active:
            hook.active, hook.disabled_reason, changed = False, reason, True
            log.warning("webhook %s turned off: %s", hook.id, reason)
    if changed:
        hook.updated_at = now
        session.add(hook)
    return hook.active


def sample_payload(owner_id: str) -> dict[str, Any]:
    """What "Send test event" sends: the public shape of an example job, marked as a test."""
    now = utcnow()
    job = JobPublic(
        id="00000000-0000-0000-0000-000000000000",
        kind="product_upload",
        title="Test event from Jobboard",
        status="completed",
        progress_data=ProgressData(percentage=100, current_step="Completed"),
        result_data={"test": True},
        created_at=now,
        updated_at=now,
        completed_at=now,
    ).model_dump(mode="json", exclude={"error_data": {"details"}})
    return job | {"event_type": "test", "user_id": owner_id, "job_id": job["id"]}


def send_test(owner_id: str, webhook_id: str) -> str | None:
    """Queue one test event for the owner's webhook; its message id, or None if not theirs."""
    from jobboard.core.webhooks.store import get_webhook

    if get_webhook(owner_id, webhook_id) is None:
        return None
    message_id = new_message_id()
    dispatch.enqueue(webhook_id, message_id, "test", None, sample_payload(owner_id), trigger="test")
    return message_id


def redeliver(owner_id: str, webhook_id: str, delivery_id: str) -> str | None:
    """Queue one more attempt of a logged delivery's message (same `webhook-id`, so receivers
    can recognise it); the message id, or None if not the owner's."""
    from jobboard.core.webhooks.store import get_delivery

    row = get_delivery(owner_id, webhook_id, delivery_id)
    if row is None:
        return None
    with session_scope() as session:
        message = session.get(WebhookMessage, row.message_id)
    if message is None:
        return None
    dispatch.enqueue(
        webhook_id, message.id, message.event_type, message.job_id, message.payload,
        trigger="resend",
    )  # fmt: skip
    return message.id


def message_attempts(message_id: str) -> list[WebhookDelivery]:
    """Every attempt of one message, oldest first (tests, the log's detail)."""
    with session_scope() as session:
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.message_id == message_id)
            .order_by(col(WebhookDelivery.attempted_at), col(WebhookDelivery.attempt))
        )
        return list(session.exec(query).all())
