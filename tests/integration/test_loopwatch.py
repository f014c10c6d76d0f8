"""The event-loop stall meter (jobboard.core.loopwatch): off unless switched on, and a blocking
call on the loop counts as held, not as a wait for a core."""

from __future__ import annotations

import asyncio
import os
import time

from jobboard.core import loopwatch
from jobboard.core.redis import get_redis
from tests.utils.aio import run


def _watch_while(blocking_s: float, seconds: float) -> None:
    """Run the meter for `seconds`, blocking the loop for `blocking_s` early on."""

    async def scenario() -> None:
        task = asyncio.create_task(loopwatch.watch_forever())
        await asyncio.sleep(0.3)
        time.sleep(blocking_s)  # a blocking call on the loop, as a sync DB call would be
        await asyncio.sleep(seconds)
        task.cancel()

    run(scenario())


def _ours() -> loopwatch.Stall | None:
    """This process' report (the test stack's app processes report too while switched on)."""
    raw = get_redis().hget(loopwatch.KEY, str(os.getpid()))
    if raw is None:
        return None
    held, wall = raw.split()
    return loopwatch.Stall(float(held), float(wall))


def test_a_blocking_call_reads_as_held(services: object) -> None:
    loopwatch.switch_on(10)
    _watch_while(0.08, loopwatch.REPORT_EVERY * 2.5)
    stall = _ours()
    assert stall is not None
    assert 60 <= stall.held <= stall.wall + 0.001, stall
    assert stall.held < 1000, stall


def test_off_unless_switched_on(services: object) -> None:
    get_redis().delete(loopwatch.SWITCH)
    time.sleep(loopwatch.REPORT_EVERY * 1.5)  # rounds under way elsewhere end and report
    loopwatch.reset()
    _watch_while(0.08, loopwatch.REPORT_EVERY * 2.5)
    assert _ours() is None
