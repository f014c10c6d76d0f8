"""From a published job event to queued deliveries, without ever holding the job up.

`job_event()` runs right after `events.publish()` stored and announced an event, in whatever
process published it (a worker, mostly). It must cost next to nothing for an owner without
webhooks: one Redis GET of the owner's cached subscriptions (a short JSON list, refreshed from
the database at most once a minute and dropped whenever a webhook changes). For an owner with
webhooks, progress events pass a throttle (one per job per 5 s, plus every step change), an
ending passes once per job, and each subscribed webhook gets an RQ job on the `webhooks` queue.
Nothing here raises: a webhook problem is logged and the job goes on.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from rq import Queue
from sqlmodel import col, select

from jobboard.core.db import session_scope
from jobboard.core.public import JobPublic
from jobboard.core.redis import get_redis
from jobboard.core.webhooks.models import Webhook
from jobboard.core.webhooks.signing import new_message_id

log = logging.getLogger(__name__)

QUEUE = "webhooks"
DELIVER = "jobboard.core.webhooks.delivery.deliver"
SUBSCRIPTIONS_TTL = 60  # seconds; bounds how stale another process' view can be
PROGRESS_EVERY = 5.0  # seconds between two progress webhooks of one job (same step)
_THROTTLE_TTL = 7 * 24 * 3600
_ENDINGS = ("completed", "failed", "cancelled")

# KEYS: the job's webhook throttle hash, its live snapshot. ARGV: "progress" or the ending,
# the step, now (ms), the interval (ms), the TTL (s). Returns 1 when the event goes out.
_THROTTLE = """
if ARGV[1] == 'progress' then
  -- a late progress event after the ending (events.publish ignored it) never goes out
  if redis.call('HGET', KEYS[2], 'ended') == '1' then return 0 end
  local last = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1')
  local step = redis.call('HGET', KEYS[1], 'step')
  if last >= 0 and step == ARGV[2] and tonumber(ARGV[3]) - last < tonumber(ARGV[4]) then
    return 0
  end
  redis.call('HSET', KEYS[1], 'at', ARGV[3], 'step', ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
end
-- an ending is sent once, however often it is announced again (watchdog, resync)
if redis.call('HSETNX', KEYS[1], 'end:' .. ARGV[1], '1') == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""
_scripts: dict[int, Any] = {}


def subscriptions_key(owner_id: str) -> str:
    return f"jobboard:webhooks:subs:{owner_id}"


def throttle_key(job_id: str) -> str:
    return f"jobboard:webhooks:throttle:{job_id}"


def forget_subscriptions(owner_id: str) -> None:
    """Drop the owner's cached subscriptions (after any change to their webhooks)."""
    try:
        get_redis().delete(subscriptions_key(owner_id))
    except Exception:  # the cache expires within SUBSCRIPTIONS_TTL anyway
        log.warning("could not drop the webhook cache of %s", owner_id, exc_info=True)


def subscriptions(owner_id: str) -> list[dict[str, Any]]:
    """The owner's active webhooks as [{"id": ..., "events": [...]}], cached in Redis."""
    client = get_redis()
    key = subscriptions_key(owner_id)
    raw = client.get(key)
    if raw is not None:
        return json.loads(raw)
    with session_scope() as session:
        rows = session.exec(
            select(Webhook.id, Webhook.event_types)
            .where(Webhook.owner_id == owner_id, Webhook.active == True)  # noqa: E712
            .order_by(col(Webhook.created_at), col(Webhook.id))
        ).all()
    subs = [{"id": row[0], "events": list(row[1] or [])} for row in rows]
    client.set(key, json.dumps(subs), ex=SUBSCRIPTIONS_TTL)
    return subs


def event_type(status: str) -> str:
    """A job status as a webhook event type: queued and processing are `progress`."""
    return status if status in _ENDINGS else "progress"


def payload(public_job: dict[str, Any], owner_id: str, kind: str) -> dict[str, Any]:
    """The job's public shape (the one model) plus `event_type`, `user_id` and `job_id`."""
    job = JobPublic.model_validate(public_job).model_dump(
        mode="json", exclude={"error_data": {"details"}}
    )
    return job | {"event_type": kind, "user_id": owner_id, "job_id": job["id"]}


def _passes(job_id: str, kind: str, step: str) -> bool:
    client = get_redis()
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_THROTTLE)
    from jobboard.core.events import snapshot_key

    return bool(
        script(
            keys=[throttle_key(job_id), snapshot_key(job_id)],
            args=[
                kind if kind in _ENDINGS else "progress",
                step,
                int(time.time() * 1000),
                int(PROGRESS_EVERY * 1000),
                _THROTTLE_TTL,
            ],
        )
    )


def enqueue(
    webhook_id: str,
    message_id: str,
    kind: str,
    job_id: str | None,
    body: dict[str, Any],
    *,
    trigger: str = "event",
) -> None:
    """Queue the first attempt of a message on the `webhooks` queue."""
    Queue(QUEUE, connection=get_redis()).enqueue(
        DELIVER,
        webhook_id,
        message_id,
        kind,
        job_id,
        body,
        1,
        trigger,
        job_timeout=60,
        result_ttl=0,
        failure_ttl=7 * 24 * 3600,
        description=f"webhook {kind} → {webhook_id}",
    )


def job_event(public_job: dict[str, Any], owner_id: str) -> None:
    """Queue the webhook deliveries of one published job event. Never raises."""
    try:
        subs = subscriptions(owner_id)
        if not subs:
            return
        kind = event_type(str(public_job.get("status", "")))
        wanted = [s["id"] for s in subs if "all" in s["events"] or kind in s["events"]]
        if not wanted:
            return
        step = str((public_job.get("progress_data") or {}).get("current_step") or "")
        if not _passes(public_job["id"], kind, step):
            return
        body = payload(public_job, owner_id, kind)
        for webhook_id in wanted:
            enqueue(webhook_id, new_message_id(), kind, public_job["id"], body)
    except Exception:
        log.exception("webhooks of job %s not queued", public_job.get("id"))
