"""Server-Sent Events: follow one job, or all of the caller's jobs, with resume.

The messages and their ids come from `jobboard.core.streams`; this module only authenticates,
answers the cases without a stream, and frames the messages with sse-starlette.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from jobboard.api.v1.deps import CurrentUser, StreamUser
from jobboard.api.v1.jobs import JobId
from jobboard.core import jobs, streams
from jobboard.core.accounts import stream_tokens
from jobboard.core.hub import Overflow
from jobboard.core.models import JobStatus
from jobboard.core.settings import get_settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["live streams"])

# A client that takes longer than this to accept one message has stopped reading.
SEND_TIMEOUT = 30.0
STREAM_DOC = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "Server-Sent Events; every `data:` is JSON with a `type`: `connected`, "
        "`status_update`, `resync` or `error`",
    },
}
LastEventId = Annotated[
    str | None,
    Query(
        description="resume after this message id (as the `Last-Event-ID` header, which wins "
        "when both are sent)"
    ),
]


def _resume_point(request: Request, last_event_id: str | None) -> str | None:
    raw = request.headers.get("last-event-id") or last_event_id
    return raw if raw and raw.strip() else None


async def _frames(follow: streams.Follow, current: dict[str, Any] | None) -> AsyncIterator[Any]:
    try:
        async for message in follow.messages(current):
            yield ServerSentEvent(data=message.data, id=message.id)
    except Overflow:
        # Never buffer without bound: the client resumes with Last-Event-ID.
        log.info("closed the event stream of a client that stopped reading")


def _stream(body: AsyncIterator[Any], status_code: int = 200) -> EventSourceResponse:
    return EventSourceResponse(
        body,
        status_code=status_code,
        ping=get_settings().sse_heartbeat_seconds,
        send_timeout=SEND_TIMEOUT,
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache, no-transform"},
    )


async def _not_found() -> AsyncIterator[Any]:
    yield ServerSentEvent(
        data=streams.dumps({"type": "error", "message": "not found"}),
        id=str(streams.START.made()),
    )


@router.get(
    "/jobs/{job_id}/events",
    response_class=EventSourceResponse,
    responses=STREAM_DOC
    | {
        204: {"description": "resumed after the job's final status: nothing more to send"},
        404: {"description": "no such job of yours (the stream carries an `error` message)"},
    },
    summary="Follow one job (SSE)",
    description="`connected`, then the job's present state and a `status_update` for every "
    "change; the stream ends after the final status. Resume with `Last-Event-ID` (or "
    "`?last_event_id=`): every missed message, then live ones; a resume point the 24-hour "
    "event log no longer covers gets `resync` and the present state.",
)
async def job_events(
    job_id: JobId, user: StreamUser, request: Request, last_event_id: LastEventId = None
) -> Response:
    current = await run_in_threadpool(jobs.get_job, job_id, user.id)
    if current is None:
        # 404 makes a browser's EventSource stop; SSE clients still read the error message.
        return _stream(_not_found(), status_code=404)
    resume = _resume_point(request, last_event_id)
    position = streams.parse_position(resume)
    if (
        position is not None
        and current["status"] in JobStatus.TERMINAL
        and await streams.ended_before(user.id, job_id, position)
    ):
        return Response(status_code=204)  # tells an EventSource to stop reconnecting
    return _stream(_frames(streams.Follow(user.id, job_id, resume), current))


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses=STREAM_DOC,
    summary="Follow all of your jobs (SSE)",
    description="`connected`, the present state of your active jobs, then a `status_update` "
    "for every change of any of your jobs. Resume as for one job.",
)
async def user_events(
    user: StreamUser, request: Request, last_event_id: LastEventId = None
) -> EventSourceResponse:
    resume = _resume_point(request, last_event_id)
    return _stream(_frames(streams.Follow(user.id, None, resume), None))


class StreamTokenIn(BaseModel):
    job_id: str | None = Field(
        None, min_length=1, max_length=64, description="the job to follow; omit for all your jobs"
    )


class StreamToken(BaseModel):
    token: str = Field(description="pass it as `?access_token=`; it opens the streams only")
    scope: str = Field(description="`job` or `user`")
    job_id: str | None
    expires_in: int = Field(description="seconds")
    expires_at: datetime
    url: str = Field(description="the stream's path with the token")


@router.post(
    "/stream-tokens",
    status_code=201,
    response_model=StreamToken,
    responses={404: {"description": "no such job of yours"}},
    summary="Mint a short-lived token for one stream",
    description="For SSE clients that cannot send an `Authorization` header (a browser's "
    "`EventSource` on another site, some tools): the token goes in the URL as "
    "`?access_token=`, opens the stream of one job (or, without `job_id`, your streams) and "
    "nothing else, and expires after a few minutes; connections opened before then stay open.",
)
async def create_stream_token(
    user: CurrentUser, body: Annotated[StreamTokenIn | None, Body()] = None
) -> StreamToken:
    job_id = body.job_id if body else None
    if job_id is not None and await run_in_threadpool(jobs.get_job, job_id, user.id) is None:
        raise HTTPException(404, "not found")
    raw, ttl = await asyncio.to_thread(stream_tokens.mint, user.id, job_id)
    path = f"/api/v1/jobs/{job_id}/events" if job_id else "/api/v1/events"
    return StreamToken(
        token=raw,
        scope="job" if job_id else "user",
        job_id=job_id,
        expires_in=ttl,
        expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
        url=f"{path}?access_token={raw}",
    )
