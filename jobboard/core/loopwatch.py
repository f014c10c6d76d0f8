"""The event loop's longest stall, per process: how long a blocking call kept every session of
that process waiting.

A lifespan task sleeps `TICK` seconds in a loop; anything beyond the tick is time the loop was
held by someone else. Each process reports its worst stall once a second to a Redis hash (field
= pid); `reset()` starts a new measuring window for every process (the benchmarks use it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from jobboard.core.redis import get_async_redis, get_redis

log = logging.getLogger(__name__)

TICK = 0.01  # seconds between looks at the clock (a stall may read up to this much short)
REPORT_EVERY = 1.0  # seconds between reports to Redis
KEY = "jobboard:loop-stall"
_GEN = "gen"


async def watch_forever() -> None:
    """Lifespan task: measure this process' event-loop stalls and report the worst one."""
    loop = asyncio.get_running_loop()
    pid = str(os.getpid())
    client = get_async_redis()
    generation: bytes | None = None
    worst = 0.0
    last_report = loop.time()
    try:
        while True:
            before = loop.time()
            await asyncio.sleep(TICK)
            now = loop.time()
            worst = max(worst, (now - before - TICK) * 1000)
            if now - last_report < REPORT_EVERY:
                continue
            last_report = now
            try:
                current = await client.hget(KEY, _GEN)
                if current != generation:  # a new window began: what came before is not in it
                    generation, worst = current, 0.0
                await client.hset(KEY, pid, f"{worst:.3f}")
                await client.expire(KEY, 86_400)
            except Exception as exc:  # Redis away: measuring goes on, reporting waits
                log.debug("could not report the event-loop stall: %s", exc)
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


def reset() -> None:
    """Start a new window: every process forgets its worst stall within `REPORT_EVERY`."""
    client = get_redis()
    client.hincrby(KEY, _GEN, 1)
    fields = [f for f in client.hkeys(KEY) if f != _GEN.encode()]
    if fields:
        client.hdel(KEY, *fields)


def longest_stall_ms() -> float:
    """The worst stall any process reported in this window (waits for one report round)."""
    import time

    time.sleep(REPORT_EVERY * 1.5)
    values = get_redis().hgetall(KEY)
    stalls = [float(v) for k, v in values.items() if k != _GEN.encode()]
    return max(stalls, default=0.0)
