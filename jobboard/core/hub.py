"""One Redis subscription per process, fanned out to everything here that follows job events.

The hub holds the process' only pattern subscription to every owner's channel. Two kinds of
followers register with it:

- *listeners* (SSE streams, long polls): one owner each, a bounded queue each. A listener
  that does not keep up is marked overflowed and stops receiving; its stream ends and the
  client resumes from the event log. After every (re)subscription each listener gets
  `RESUBSCRIBED`, because events published while the subscription was away never arrive:
  it catches up from the log.
- *taps* (the Reflex UI): asked per owner whether they want the event, handed it, and told
  after a reconnect since when events may have been lost (so they can resync).

Events are decoded once, and only for owners somebody here follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobboard.core import events
from jobboard.core.models import utcnow
from jobboard.core.redis import get_async_redis

log = logging.getLogger(__name__)

RECONNECT_EVERY = 0.5  # seconds between attempts to get the subscription back
# The subscription's connection, by name in `CLIENT LIST`: one per app process, however many
# streams and pages follow events (other pub/sub users, e.g. Reflex's state lock, have their own).
CLIENT_NAME = "jobboard-events-hub"


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


RESUBSCRIBED = _Marker("RESUBSCRIBED")


class Overflow(Exception):
    """The listener's queue filled up: its follower was too slow and must start over."""


class Listener:
    """One follower of one owner's events (a bounded queue)."""

    def __init__(self, owner_id: str, maxsize: int, job_id: str | None = None) -> None:
        self.owner_id = owner_id
        self.job_id = job_id  # None: every job of the owner
        self.overflowed = False
        self._queue: asyncio.Queue[dict[str, Any] | _Marker] = asyncio.Queue(maxsize)

    def offer(self, item: dict[str, Any] | _Marker) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True

    async def get(self, timeout: float | None = None) -> dict[str, Any] | _Marker | None:
        """The next event or marker; None after `timeout` seconds; Overflow once overflowed."""
        if self.overflowed:
            raise Overflow(self.owner_id)
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None


@dataclass(eq=False)
class Tap:
    wants: Callable[[str], bool]
    deliver: Callable[[dict[str, Any]], None]
    on_reconnect: Callable[[datetime], Awaitable[None]] | None = None


class Hub:
    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = defaultdict(set)  # owner -> all its jobs
        # owner -> job -> listeners of that job only
        self._job_listeners: dict[str, dict[str, set[Listener]]] = defaultdict(dict)
        self._taps: list[Tap] = []
        self._task: asyncio.Task[None] | None = None
        self.connected = False

    # -- registration ---------------------------------------------------------------------
    @contextlib.contextmanager
    def listen(
        self, owner_id: str, maxsize: int = 1000, job_id: str | None = None
    ) -> Iterator[Listener]:
        """Follow one owner's events (only those of `job_id`, if given) while the block runs;
        starts the hub if needed."""
        self.start()
        listener = Listener(owner_id, maxsize, job_id)
        # Job listeners are indexed by job: an event wakes only the streams that want it,
        # however many streams follow the owner's other jobs.
        group = (
            self._listeners[owner_id]
            if job_id is None
            else self._job_listeners[owner_id].setdefault(job_id, set())
        )
        group.add(listener)
        try:
            yield listener
        finally:
            group.discard(listener)
            if job_id is None:
                if not group:
                    self._listeners.pop(owner_id, None)
            else:
                jobs_of_owner = self._job_listeners.get(owner_id, {})
                if not group:
                    jobs_of_owner.pop(job_id, None)
                if not jobs_of_owner:
                    self._job_listeners.pop(owner_id, None)

    def tap(self, tap: Tap) -> Tap:
        self._taps.append(tap)
        return tap

    def untap(self, tap: Tap) -> None:
        with contextlib.suppress(ValueError):
            self._taps.remove(tap)

    def listener_count(self) -> int:
        return sum(len(v) for v in self._listeners.values()) + sum(
            len(group) for jobs in self._job_listeners.values() for group in jobs.values()
        )

    def _all_listeners(self) -> list[Listener]:
        found = [listener for group in self._listeners.values() for listener in group]
        for jobs in self._job_listeners.values():
            found += [listener for group in jobs.values() for listener in group]
        return found

    # -- running --------------------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        """The hub's task in the running loop, started if it is not running."""
        loop = asyncio.get_running_loop()
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._task = loop.create_task(self._run(), name="jobboard-events-hub")
        return task

    async def serve(self) -> None:
        """Lifespan task: run the hub until cancelled."""
        task = self.start()
        try:
            await task
        finally:
            task.cancel()

    def _fan_out(self, message: dict[str, Any]) -> None:
        name = message["channel"]
        owner = (name.decode() if isinstance(name, bytes) else name).removeprefix(
            events.EVENTS_PREFIX
        )
        listeners = self._listeners.get(owner)
        job_listeners = self._job_listeners.get(owner)
        taps = [tap for tap in self._taps if tap.wants(owner)]
        if not listeners and not job_listeners and not taps:
            return
        try:
            event = events.decode(message["data"])
        except ValueError:
            log.warning("ignored an undecodable job event on %s", owner)
            return
        for listener in list(listeners or ()):
            listener.offer(event)
        if job_listeners:
            for listener in list(job_listeners.get((event.get("job") or {}).get("id"), ())):
                listener.offer(event)
        for tap in taps:
            tap.deliver(event)

    async def _subscribed(self, lost_at: datetime | None) -> None:
        self.connected = True
        log.info("listening for job events")
        for listener in self._all_listeners():
            listener.offer(RESUBSCRIBED)
        if lost_at is None:
            return
        for tap in list(self._taps):
            if tap.on_reconnect is not None:
                try:
                    await tap.on_reconnect(lost_at)
                except Exception:
                    log.exception("resync after the event subscription came back failed")

    async def _run(self) -> None:
        """Listen to every owner's events; reconnect on errors (followers catch up then)."""
        lost_at: datetime | None = None
        while True:
            client = get_async_redis(client_name=CLIENT_NAME)
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(events.EVENTS_PATTERN)
                async for message in pubsub.listen():
                    kind = message["type"]
                    if kind == "pmessage":
                        self._fan_out(message)
                        # While the socket buffer holds messages, reading them never suspends:
                        # a burst would keep the loop (pages, streams, the dispatcher) waiting.
                        await asyncio.sleep(0)
                    elif kind == "psubscribe":
                        # Confirmed: from here on every published event reaches us.
                        since, lost_at = lost_at, None
                        await self._subscribed(since)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected = False
                if lost_at is None:
                    lost_at = utcnow()
                    log.warning("job event subscription lost (%s); reconnecting", exc)
                await asyncio.sleep(RECONNECT_EVERY)
            finally:
                self.connected = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                    await client.aclose()


_hub = Hub()


def get_hub() -> Hub:
    """This process' hub."""
    return _hub
