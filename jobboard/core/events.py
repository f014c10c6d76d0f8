"""Live snapshots, versioned events and the event log in Redis.

Every change to a job goes through `publish()`: one Lua script bumps the job's version,
appends the event to its owner's log (a Redis Stream), stores the snapshot and publishes
the event atomically, so a reader that takes the snapshot and then listens never sees
versions out of order, and the log's entry ids follow the order of the published events.

An event, as published and as kept in the snapshot:
`{"event_id": "<ms>-<seq>", "version": int, "owner_id": str, "job": {...public shape...}}`.
`event_id` is the event's entry in the owner's log (`log_key(owner)`), which keeps at least
`event_log_seconds` of events (and at most about `event_log_max_entries`), so an SSE client
can resume from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import redis

from jobboard.core import metrics
from jobboard.core.redis import get_redis
from jobboard.core.settings import get_settings
from jobboard.core.webhooks.dispatch import job_event as queue_webhooks

EVENTS_PATTERN = "jobboard:events:*"
_ENDED = ("completed", "failed", "cancelled")
EVENTS_PREFIX = "jobboard:events:"
LOG_PREFIX = "jobboard:log:"

_PUBLISH = """
-- A job that ended stays ended: a late progress event (from a work horse being stopped)
-- must not reach pages after the final one.
if redis.call('HGET', KEYS[1], 'ended') == '1' and ARGV[6] ~= '1' then
  return tonumber(redis.call('HGET', KEYS[1], 'v'))
end
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
local floor = tonumber(ARGV[3])
if v <= floor then
  v = floor + 1
  redis.call('HSET', KEYS[1], 'v', v)
end
local body = '"version":' .. v .. ',"owner_id":' .. ARGV[4] .. ',"job":' .. ARGV[2] .. '}'
-- The owner's log: bounded by count on the way in, by age (measured on Redis' own clock, the
-- one its entry ids use) right after; a log without new events for the whole period expires.
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'e', '{' .. body)
local ms = tonumber(string.match(id, '^(%d+)'))
redis.call('XTRIM', KEYS[2], 'MINID', '~', string.format('%.0f', ms - tonumber(ARGV[8])))
redis.call('PEXPIRE', KEYS[2], ARGV[8])
local payload = '{"event_id":"' .. id .. '",' .. body
redis.call('HSET', KEYS[1], 'payload', payload)
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'ended', '1')
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('PUBLISH', ARGV[1], payload)
return v
"""


def supersedes(new_version: int, new_status: str, old_version: int, old_status: str) -> bool:
    """Whether an event should replace what a view shows of the same job.

    Newer versions win, except that an ending always beats a running state: after a Redis
    outage the durable record may end a job with a version lower than the last progress
    event a page saw, and a finished job must never be shown unfinished.
    """
    if (new_status in _ENDED) != (old_status in _ENDED):
        return new_status in _ENDED
    return new_version > old_version


def snapshot_key(job_id: str) -> str:
    return f"jobboard:job:{job_id}"


def channel(owner_id: str) -> str:
    return f"{EVENTS_PREFIX}{owner_id}"


def log_key(owner_id: str) -> str:
    """The owner's event log (a Redis Stream; entries `{"e": <event without event_id>}`)."""
    return f"{LOG_PREFIX}{owner_id}"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


class _Script:
    """Lazily registered Lua script (one registration per client)."""

    def __init__(self) -> None:
        self._scripts: dict[int, Any] = {}

    def __call__(self, client: redis.Redis, keys: list[str], args: list[Any]) -> Any:
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts[id(client)] = client.register_script(_PUBLISH)
        return script(keys=keys, args=args)


_publish_script = _Script()


def publish(public_job: dict[str, Any], owner_id: str, floor_version: int = 0) -> int:
    """Store the job's live snapshot, publish it to its owner, return the new version."""
    client = get_redis()
    settings = get_settings()
    version = int(
        _publish_script(
            client,
            [snapshot_key(public_job["id"]), log_key(owner_id)],
            [
                channel(owner_id),
                _dumps(public_job),
                floor_version,
                _dumps(owner_id),
                settings.snapshot_ttl_seconds,
                "1" if public_job["status"] in _ENDED else "0",
                settings.event_log_max_entries,
                settings.event_log_seconds * 1000,
            ],
        )
    )
    queue_webhooks(public_job, owner_id)  # never raises; costs one GET without webhooks
    metrics.event_published()
    return version


def decode(payload: bytes | str) -> dict[str, Any]:
    """An event as published: {"event_id": str, "version": int, "owner_id": str, "job": {...}}."""
    return json.loads(payload)


def decode_entry(entry_id: bytes | str, fields: dict[Any, Any]) -> dict[str, Any]:
    """An event read back from the log, in the published form (`event_id` included)."""
    event_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    raw = fields.get(b"e", fields.get("e"))
    return {"event_id": event_id} | json.loads(raw)


def read_snapshots(job_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The live snapshots (event form) of the given jobs that Redis still holds."""
    ids = list(job_ids)
    if not ids:
        return {}
    pipe = get_redis().pipeline(transaction=False)
    for job_id in ids:
        pipe.hget(snapshot_key(job_id), "payload")
    out: dict[str, dict[str, Any]] = {}
    for job_id, raw in zip(ids, pipe.execute(), strict=True):
        if raw:
            out[job_id] = decode(raw)
    return out
