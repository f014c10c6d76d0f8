"""One Redis subscription per backend process, fanned out to this process' sessions.

A page's on_load calls `watch()` *before* it reads its snapshot; events that arrive while
the snapshot is read wait for the state lock and are applied after it, and the version
check drops any that the snapshot already contains. Nothing is lost in between.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Protocol

import reflex as rx
from reflex.event import EventSpec, fix_events
from reflex.state import StateUpdate

from jobboard.core import events, jobs, retention
from jobboard.core.redis import get_async_redis

if TYPE_CHECKING:
    from reflex.app import App

log = logging.getLogger(__name__)


class LiveView(Protocol):
    """A state that follows job events: `apply_job_event` (or `apply_job_events` for a batch)."""

    def apply_job_event(self, event: dict[str, Any]) -> list[EventSpec] | None:
        """Update the view; may return browser events (toasts, notifications) to run."""


# owner_id -> client token -> slot ("page", "header", ...) -> the state class in that slot.
_watchers: dict[str, dict[str, dict[str, type[rx.State]]]] = defaultdict(dict)


def watch(owner_id: str, token: str, slot: str, state_class: type[rx.State] | None) -> None:
    """Route the owner's job events to `state_class` of this session; None empties the slot.

    A page takes the "page" slot (the next page replaces it); the header and the
    notifier keep theirs on every page.
    """
    for owner, tokens in list(_watchers.items()):
        if owner != owner_id:
            tokens.pop(token, None)
    slots = _watchers[owner_id].setdefault(token, {})
    if state_class is None:
        slots.pop(slot, None)
    else:
        slots[slot] = state_class


async def _deliver(
    app: App, token: str, classes: list[type[rx.State]], batch: list[dict[str, Any]]
) -> None:
    """Apply a batch of events to one session under one lock, then push the browser events."""
    browser_events: list[EventSpec] = []
    try:
        state_token = rx.BaseStateToken(ident=token, cls=classes[0])
        async with app.modify_state(state_token) as root:
            for cls in classes:
                state = await root.get_state(cls)
                if hasattr(state, "apply_job_events"):  # batch-aware view
                    browser_events.extend(state.apply_job_events(batch) or ())
                else:
                    for event in batch:
                        browser_events.extend(state.apply_job_event(event) or ())
        if browser_events and app.event_namespace is not None:
            update = StateUpdate(events=fix_events(browser_events))
            await app.event_namespace.emit_update(update, token)
    except Exception:
        log.exception("could not deliver job events to session %s", token)


def _connected_here(app: App, token: str) -> bool:
    namespace = app.event_namespace
    if namespace is None:
        return False
    manager = namespace._token_manager
    # With Redis, Reflex also records sockets of other processes; only our own count.
    record = manager.token_to_socket.get(token)
    return record is not None and record.instance_id == manager.instance_id


def _newest_per_job(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the newest event of each job matters: it carries the whole state (and any ending)."""
    newest: dict[str, dict[str, Any]] = {}
    for event in batch:
        job_id = event["job"]["id"]
        if job_id not in newest or event["version"] > newest[job_id]["version"]:
            newest[job_id] = event
    return sorted(newest.values(), key=lambda e: e["job"].get("created_at") or "")


async def dispatch(app: App, batch: list[dict[str, Any]]) -> None:
    """Apply events to every session of their owners connected to this process."""
    per_token: dict[str, tuple[list[type[rx.State]], list[dict[str, Any]]]] = {}
    for event in _newest_per_job(batch):
        tokens = _watchers.get(event.get("owner_id", ""))
        if not tokens:
            continue
        for token, slots in list(tokens.items()):
            if not _connected_here(app, token):  # closed tab, or its socket is elsewhere
                tokens.pop(token, None)
                continue
            if slots:
                per_token.setdefault(token, (list(slots.values()), []))[1].append(event)
    await asyncio.gather(
        *(_deliver(app, token, classes, evs) for token, (classes, evs) in per_token.items())
    )


async def _dispatch_forever(app: App, queue: asyncio.Queue[dict[str, Any]]) -> None:
    # While one batch is delivered the next one gathers, so a burst (50 jobs at 10
    # updates a second) costs one state update per session, not one per event.
    while True:
        batch = [await queue.get()]
        while not queue.empty():
            batch.append(queue.get_nowait())
        try:
            await dispatch(app, batch)
        except Exception:
            log.exception("could not dispatch %d job events", len(batch))


def _owner_of_channel(channel: bytes | str) -> str:
    name = channel.decode() if isinstance(channel, bytes) else channel
    return name.removeprefix(events.EVENTS_PREFIX)


async def subscribe_events(app: App) -> None:
    """Lifespan task: listen to every owner's events and dispatch them; reconnect on errors."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    dispatcher = asyncio.create_task(_dispatch_forever(app, queue), name="jobboard-dispatch")
    try:
        while True:
            client = get_async_redis()
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(events.EVENTS_PATTERN)
                log.info("listening for job events")
                async for message in pubsub.listen():
                    # Decode only events of owners with sessions in this process.
                    if message["type"] == "pmessage" and _watchers.get(
                        _owner_of_channel(message["channel"])
                    ):
                        queue.put_nowait(events.decode(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job event subscription failed; reconnecting")
                await asyncio.sleep(1)
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:
                    pass
    finally:
        dispatcher.cancel()


async def reap_stuck_jobs_forever() -> None:
    """Lifespan task: jobs whose worker died end `failed` even when no worker is running."""
    while True:
        try:
            await asyncio.to_thread(jobs.reap_stuck_jobs)
        except Exception:
            log.exception("stuck-job check failed")
        await asyncio.sleep(2)


async def purge_old_data_forever() -> None:
    """Lifespan task: delete jobs, files and Redis keys past retention, once an hour.

    Here rather than in the workers' reaper thread: a purge can take seconds of DB and file
    work, and that thread holds `_reaper_busy`, which every fork of a job waits for. RQ's own
    scheduling needs `with_scheduler` or an extra `rq cron` process. Every app process checks
    each minute; the Redis key in `purge_if_due` (SET NX PX one hour) lets one of them run it.
    """
    while True:
        try:
            await asyncio.to_thread(retention.purge_if_due)
        except Exception:
            log.exception("retention purge failed")
        await asyncio.sleep(60)
