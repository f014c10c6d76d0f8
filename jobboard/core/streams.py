"""Following a job, or all of an owner's jobs, as a resumable sequence of messages (for SSE).

Every message has a *position*. Events of the owner's log (see `events.log_key`) carry their
entry id, `<ms>-<seq>`; the messages made here (`connected`, `resync`, the present state
after connecting) carry the position they were made at plus a counter, `<ms>-<seq>.<n>`.
Positions increase along a stream, and resuming from any of them means "everything after
entry `<ms>-<seq>`".

Order of work, so that nothing is lost and nothing repeated: register with the process' hub
first, then read the log from the resume point (catch-up), then pass on live events, skipping
those at or before the last position sent. After the hub resubscribes (Redis was away), the
log is read again from there. A resume point the log no longer covers (older than its
retention, trimmed, unknown, or malformed) gets the present state and a `resync` message.

Knows no HTTP: `jobboard.api.v1.events` wraps these messages into Server-Sent Events.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from jobboard.core import events, jobs
from jobboard.core.hub import RESUBSCRIBED, get_hub
from jobboard.core.models import JobStatus, utcnow
from jobboard.core.public import JobPublic
from jobboard.core.redis import shared_async_redis
from jobboard.core.settings import get_settings

_POSITION = re.compile(r"(\d{1,20})-(\d{1,20})(?:\.(\d{1,9}))?")
_MAX_ID_PART = 2**64 - 1
CATCH_UP_PAGE = 500
# The present state of at most this many jobs after (re)connecting to the user stream.
PRESENT_LIMIT = 500


@dataclass(frozen=True, order=True)
class Position:
    ms: int
    seq: int
    n: int = 0  # > 0: the n-th message made at this place in the log

    @property
    def entry(self) -> str:
        return f"{self.ms}-{self.seq}"

    def __str__(self) -> str:
        return self.entry if self.n == 0 else f"{self.entry}.{self.n}"

    def after(self, other: Position) -> bool:
        """Whether this log entry comes after everything `other` accounts for."""
        return (self.ms, self.seq) > (other.ms, other.seq)

    def made(self) -> Position:
        """The position of the next message made here."""
        return Position(self.ms, self.seq, self.n + 1)


START = Position(0, 0)


def parse_position(raw: str | bytes | None) -> Position | None:
    """A position from `Last-Event-ID` / `last_event_id`; None when it is not one."""
    if raw is None:
        return None
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    match = _POSITION.fullmatch(text.strip())
    if match is None:
        return None
    ms, seq = int(match[1]), int(match[2])
    if ms > _MAX_ID_PART or seq > _MAX_ID_PART:
        return None
    return Position(ms, seq, int(match[3] or 0))


def status_update(job: dict[str, Any]) -> dict[str, Any]:
    """The `status_update` message of a job's public shape (validated by `JobPublic`)."""
    public = JobPublic.model_validate(job).model_dump(
        mode="json", exclude={"error_data": {"details"}}
    )
    progress = public["progress_data"]
    return {
        "type": "status_update",
        "job_id": public["id"],
        "status": public["status"],
        "progress": progress.get("percentage", 0.0),
        "progress_data": progress,
        "result": public["result_data"],
        "error": public["error_data"],
        "updated_at": public["updated_at"],
    }


# One event reaches every stream of its owner: encode it once.
_encoded: OrderedDict[str, str] = OrderedDict()
_ENCODED_LIMIT = 4096


def encoded_update(event: dict[str, Any]) -> str:
    """The JSON text of an event's `status_update`, cached by event id."""
    key = f"{event.get('event_id')}:{event['job'].get('id')}"
    text = _encoded.get(key)
    if text is None:
        text = dumps(status_update(event["job"]))
        _encoded[key] = text
        if len(_encoded) > _ENCODED_LIMIT:
            _encoded.popitem(last=False)
    return text


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=str)


@dataclass
class Message:
    position: Position
    data: str  # JSON
    final: bool = False  # the job stream ends after it

    @property
    def id(self) -> str:
        return str(self.position)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _resumable(client: Any, key: str, position: Position) -> bool:
    """Whether the log still holds every entry after `position` (and knows the position).

    The log loses entries only from its head (trimming by age and count), so it covers a
    position at or after its first entry; one before it only if nothing was ever trimmed and
    the position is within the retention (a log that expired and started again has not
    trimmed anything either).
    """
    try:
        info = await client.xinfo_stream(key)
    except redis.ResponseError:  # no log: nothing was published since `position`, if it is 0
        return position == START
    info = {_text(k): v for k, v in info.items()}
    last = parse_position(info.get("last-generated-id") or "0-0") or START
    if position.after(last):
        return False  # not a position of this log (from the future, or another server)
    first_entry = info.get("first-entry")
    first = parse_position(first_entry[0]) if first_entry else None
    if first is not None and not first.after(position):
        return True
    trimmed = int(info.get("entries-added") or 0) - int(info.get("length") or 0)
    window_ms = get_settings().event_log_seconds * 1000
    return trimmed == 0 and position.ms >= last.ms - window_ms


async def _log_tail(client: Any, key: str) -> Position:
    entries = await client.xrevrange(key, "+", "-", count=1)
    return parse_position(entries[0][0]) or START if entries else START


async def _read_log(client: Any, key: str, after: Position) -> list[dict[str, Any]]:
    entries = await client.xrange(key, f"({after.entry}", "+", count=CATCH_UP_PAGE)
    return [events.decode_entry(entry_id, fields) for entry_id, fields in entries]


def _since(position: Position) -> datetime:
    """When a log position was written (bounded to the log's retention)."""
    oldest = utcnow() - timedelta(seconds=get_settings().event_log_seconds)
    try:
        at = datetime.fromtimestamp(position.ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return oldest
    return min(max(at, oldest), utcnow())


class Follow:
    """The messages of one stream: one job of an owner (`job_id`), or all of them."""

    def __init__(self, owner_id: str, job_id: str | None, resume: str | None) -> None:
        self.owner_id = owner_id
        self.job_id = job_id
        self.resume_raw = resume
        self.key = events.log_key(owner_id)
        self.position = START  # everything up to here is accounted for
        self.ended = False

    def _made(self, message: dict[str, Any]) -> Message:
        self.position = self.position.made()
        return Message(self.position, dumps(message))

    def _event(self, event: dict[str, Any]) -> Message | None:
        """The message of a logged/published event, or None if this stream skips it."""
        at = parse_position(event.get("event_id"))
        if at is None:  # a publisher without a log (older code): pass it on, unnumbered
            at = self.position.made()
        elif not at.after(self.position):
            return None  # already sent (catch-up and live overlap)
        self.position = at
        job = event["job"]
        if self.job_id is not None and job.get("id") != self.job_id:
            return None
        final = self.job_id is not None and job.get("status") in JobStatus.TERMINAL
        self.ended = self.ended or final
        return Message(at, encoded_update(event), final)

    async def _present(self, client: Any, current: dict[str, Any] | None) -> list[dict[str, Any]]:
        """Set the position to the log's tail and return the present state as of then."""
        if self.job_id is not None:
            assert current is not None
            async with client.pipeline(transaction=True) as pipe:
                pipe.xrevrange(self.key, "+", "-", count=1)
                pipe.hget(events.snapshot_key(self.job_id), "payload")
                tail, raw = await pipe.execute()
            self.position = (parse_position(tail[0][0]) or START) if tail else START
            job = current
            if raw:
                snap = events.decode(raw)
                if events.supersedes(
                    snap["version"],
                    snap["job"]["status"],
                    int(current.get("version") or 0),
                    current["status"],
                ):
                    job = snap["job"]
            return [job]
        since = _since(self.position) if self.resume_raw is not None else utcnow()
        self.position = await _log_tail(client, self.key)
        changed = await asyncio.to_thread(
            jobs.changed_since, self.owner_id, since, limit=PRESENT_LIMIT
        )
        return [event["job"] for event in reversed(changed)]  # oldest change first

    async def _catch_up(self, client: Any) -> AsyncIterator[Message]:
        while not self.ended:
            page = await _read_log(client, self.key, self.position)
            for event in page:
                message = self._event(event)
                if message is not None:
                    yield message
                if self.ended:
                    return
            if len(page) < CATCH_UP_PAGE:
                return

    async def messages(self, current: dict[str, Any] | None = None) -> AsyncIterator[Message]:
        """The stream's messages; `current` is the job's public shape (job streams).

        Raises `hub.Overflow` when the client fell too far behind.
        """
        client = shared_async_redis()
        settings = get_settings()
        hub = get_hub()
        with hub.listen(self.owner_id, settings.sse_queue_events, self.job_id) as listener:
            resume = parse_position(self.resume_raw)
            resumed = resume is not None and await _resumable(client, self.key, resume)
            hello: dict[str, Any] = {"type": "connected"}
            hello |= {"job_id": self.job_id} if self.job_id else {"user": self.owner_id}
            if resumed:
                assert resume is not None
                self.position = resume
                yield self._made(hello)
            else:
                if resume is not None:
                    self.position = resume  # its time bounds the user stream's replay
                present = await self._present(client, current)
                yield self._made(hello)
                if self.resume_raw is not None:
                    yield self._made({"type": "resync"})
                for job in present:
                    message = self._made(status_update(job))
                    if self.job_id is not None and job["status"] in JobStatus.TERMINAL:
                        self.ended = message.final = True
                    yield message
                    if self.ended:
                        return
            async for message in self._catch_up(client):
                yield message
            if (
                self.job_id is not None
                and not self.ended
                and current is not None
                and current["status"] in JobStatus.TERMINAL
            ):
                # It ended without an event in the log (recorded while Redis was away).
                message = self._made(status_update(current))
                message.final = self.ended = True
                yield message
                return
            while not self.ended:
                item = await listener.get()
                if item is RESUBSCRIBED:
                    async for message in self._catch_up(client):
                        yield message
                elif isinstance(item, dict):
                    message = self._event(item)
                    if message is not None:
                        yield message


async def ended_before(owner_id: str, job_id: str, position: Position) -> bool:
    """Whether the job's final event is at or before `position` (a client that resumes there
    has seen the end: there is nothing more to stream)."""
    client = shared_async_redis()
    raw = await client.hget(events.snapshot_key(job_id), "payload")
    if not raw:
        return False
    snap = events.decode(raw)
    at = parse_position(snap.get("event_id"))
    return (
        snap.get("owner_id") == owner_id
        and snap["job"].get("status") in JobStatus.TERMINAL
        and at is not None
        and not at.after(position)
    )
