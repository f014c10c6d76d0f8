"""The event loop's longest stall, per process: how long a blocking call kept every session of
that process waiting.

A lifespan task sleeps `TICK` seconds in a loop; anything beyond the tick is time the loop was
held by someone else. Part of that may be the kernel's doing rather than the app's: on a
machine short of cores the loop's thread can be ready to run and still wait for a core. Linux
counts that wait per thread (`/proc/.../schedstat`, "time spent waiting on a runqueue"), so
each stall is reported twice: `wall` (as the clock saw it) and `held` (wall minus that wait:
the app's own work or a blocking call, which is what the benchmarks' goal is about).

It measures only while switched on (`switch_on(seconds)`, the benchmarks do). Each process
then reports its worst stalls once a second to a Redis hash (field = pid, value =
"held wall"); `reset()` starts a new measuring window for every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from typing import NamedTuple

from jobboard.core.redis import get_async_redis, get_redis

log = logging.getLogger(__name__)

TICK = 0.01  # seconds between looks at the clock (a stall may read up to this much short)
REPORT_EVERY = 1.0  # seconds between reports to Redis
KEY = "jobboard:loop-stall"
SWITCH = "jobboard:loop-stall:on"  # measuring while this key lives (see `switch_on`)
_GEN = "gen"


class Stall(NamedTuple):
    """The longest stalls of a window, in ms."""

    held: float  # the loop ran something or was blocked (runqueue waits taken out)
    wall: float  # as the clock saw it


def _runqueue_reader() -> Callable[[], int] | None:
    """Nanoseconds this thread has waited for a core so far, or None where Linux does not say."""
    try:
        fd = os.open(f"/proc/self/task/{threading.get_native_id()}/schedstat", os.O_RDONLY)
    except OSError:
        return None

    def waited_ns() -> int:
        return int(os.pread(fd, 64, 0).split()[1])

    try:
        waited_ns()
    except (OSError, IndexError, ValueError):
        os.close(fd)
        return None
    return waited_ns


async def watch_forever() -> None:
    """Lifespan task: while switched on (`switch_on`), measure this process' event-loop
    stalls and report the worst ones.

    Off, it only looks at the switch once every `REPORT_EVERY`: ticking 100 times a second
    costs an idle process 2-3 % of a core on a small VM (waking a sleeping loop is what costs),
    which the live-updates benchmark would count as the app's."""
    loop = asyncio.get_running_loop()
    pid = str(os.getpid())
    client = get_async_redis()
    waited_ns = _runqueue_reader()
    generation: bytes | None = None
    worst_held = worst_wall = 0.0
    was_on = False
    try:
        while True:
            try:
                on = bool(await client.exists(SWITCH))
            except Exception:  # Redis away: nothing to report to either
                on = False
            if not on:
                was_on = False
                await asyncio.sleep(REPORT_EVERY)
                continue
            if not was_on:  # just switched on: this round belongs to the new window
                was_on, worst_held, worst_wall = True, 0.0, 0.0
                with contextlib.suppress(Exception):
                    generation = await client.hget(KEY, _GEN)
            waited = waited_ns() if waited_ns else 0
            started = loop.time()
            while loop.time() - started < REPORT_EVERY:
                before = loop.time()
                await asyncio.sleep(TICK)
                late = (loop.time() - before - TICK) * 1000
                queued = 0.0
                if waited_ns:
                    waited, previous = waited_ns(), waited
                    queued = (waited - previous) / 1e6
                worst_wall = max(worst_wall, late)
                worst_held = max(worst_held, late - queued)
            try:
                current = await client.hget(KEY, _GEN)
                if current != generation:  # a new window began: what came before is not in it
                    generation, worst_held, worst_wall = current, 0.0, 0.0
                await client.hset(KEY, pid, f"{worst_held:.3f} {worst_wall:.3f}")
                await client.expire(KEY, 86_400)
            except Exception as exc:  # Redis away: measuring goes on, reporting waits
                log.debug("could not report the event-loop stall: %s", exc)
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


def switch_on(seconds: float) -> None:
    """Every process measures its stalls for the next `seconds`, in a new window (they
    notice within `REPORT_EVERY`)."""
    get_redis().set(SWITCH, "1", px=int(seconds * 1000))
    reset()


def reset() -> None:
    """Start a new window: every process forgets its worst stall within `REPORT_EVERY`."""
    client = get_redis()
    client.hincrby(KEY, _GEN, 1)
    fields = [f for f in client.hkeys(KEY) if f != _GEN.encode()]
    if fields:
        client.hdel(KEY, *fields)


def longest_stall_ms() -> Stall:
    """The worst stalls any process reported in this window (waits for one report round)."""
    import time

    time.sleep(REPORT_EVERY * 1.5)
    values = get_redis().hgetall(KEY)
    stalls = [v.split() for k, v in values.items() if k != _GEN.encode()]
    return Stall(
        held=max((float(s[0]) for s in stalls), default=0.0),
        wall=max((float(s[-1]) for s in stalls), default=0.0),
    )
