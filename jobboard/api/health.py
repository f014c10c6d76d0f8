"""`GET /api/health`: whether the app's job queue (Redis) answers, for the pages' notice.

Reflex keeps each page's state in Redis, so while Redis is away a page's own events fail and
it cannot learn about the outage through Reflex: assets/jobboard.js asks this route instead
and shows "the job queue (Redis) is not answering" until it answers again. It tells nothing
about any account, so it needs no sign-in (like Reflex's `/ping`).
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from jobboard.core.redis import redis_answers

router = APIRouter(tags=["monitoring"])
# Every open page asks every few seconds: one PING per process per second answers them all.
CACHE_SECONDS = 1.0
PROBE_TIMEOUT_SECONDS = 1.0
_last: tuple[float, bool] = (float("-inf"), False)


async def queue_answers() -> bool:
    """Redis' answer to a PING, at most CACHE_SECONDS old."""
    global _last
    at, answers = _last
    if time.monotonic() - at >= CACHE_SECONDS:
        answers = await asyncio.to_thread(redis_answers, PROBE_TIMEOUT_SECONDS)
        _last = (time.monotonic(), answers)
    return answers


@router.get("/api/health", summary="Whether the job queue (Redis) answers")
async def health() -> JSONResponse:
    """200 either way (the app answers): `queue` says "up" or "down"."""
    queue = "up" if await queue_answers() else "down"
    return JSONResponse({"app": "up", "queue": queue}, headers={"Cache-Control": "no-store"})
