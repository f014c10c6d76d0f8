"""The process' job events (from the one subscription in jobboard.core.hub) to its sessions.

A page's on_load calls `watch()` *before* it reads its snapshot; events that arrive while
the snapshot is read wait for the state lock and are applied after it, and the version
check drops any that the snapshot already contains. Nothing is lost in between.

Two paths. An event that changes what a job *is* (created, started, ended, retried) goes
through each session's Reflex state (`_deliver`): rows move, toasts and notifications fire.
An event that only moves a running job's progress (by far the most) skips the state: its
progress fields are built once per process and pushed to the owner's sessions as a
`LiveState.frame` delta (`_push_progress`), which the browser keeps beside the rows
(assets/live_jobs.jsx). Reading and writing each session's state from Redis for every
progress tick was most of the app's CPU with a team watching (docs/BENCHMARKS.md, sessions).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import reflex as rx
from reflex.event import Event, EventSpec
from reflex.state import StateUpdate
from reflex_base.constants.state import FIELD_MARKER

from jobboard.core import format, hub, jobs, metrics, retention
from jobboard.core.models import JobStatus
from jobboard.core.settings import get_settings
from jobboard.core.watchdog import TICK_EVERY, Watchdog
from jobboard.state import fanout as fanout_
from jobboard.state import session
from jobboard.state.locale import locale_of
from jobboard.state.rows import live_entry

if TYPE_CHECKING:
    from reflex.app import App

log = logging.getLogger(__name__)

# Changes this close before the subscription failed may not have been delivered either.
RESYNC_MARGIN = timedelta(seconds=10)


class LiveView(Protocol):
    """A state that follows job events: `apply_job_event` (or `apply_job_events` for a batch)."""

    def apply_job_event(self, event: dict[str, Any]) -> list[EventSpec] | None:
        """Update the view; may return browser events (toasts, notifications) to run."""


class LiveState(rx.State):
    """Carries progress frames to the browser; never set here (see `_push_progress`)."""

    frame: dict[str, dict[str, Any]] = {}


# The delta key of LiveState.frame, as Reflex's own deltas name it.
_FRAME_DELTA = (LiveState.get_full_name(), "frame" + FIELD_MARKER)

# owner -> ids of the jobs this process last dispatched as running, while the owner had
# sessions here. Dropped with the owner's last session: events of owners without sessions
# are not even decoded, so what is known of their jobs would go stale (a job queued again).
_running: dict[str, dict[str, None]] = {}
_RUNNING_KEPT = 10_000  # per owner; the oldest are forgotten (their next event is a full one)

# Seconds between checks that an owner's sessions are still here and signed in. A tab that
# closed or signed out meanwhile is skipped by the send itself (no socket) or is at most this
# late on top of session.CACHE_SECONDS; a sign-out in this process forgets it at once.
CHECK_EVERY = 1.0
_checked_at: dict[str, float] = {}  # owner -> when its sessions were last checked

# owner_id -> client token -> slot ("page", "header", ...) -> the state class in that slot.
_watchers: dict[str, dict[str, dict[str, type[rx.State]]]] = defaultdict(dict)


def watch(owner_id: str, token: str, slot: str, state_class: type[rx.State] | None) -> None:
    """Route the owner's job events to `state_class` of this session; None empties the slot.

    A page takes the "page" slot (the next page replaces it); the header and the
    notifier keep theirs on every page.
    """
    for owner, tokens in list(_watchers.items()):
        if owner != owner_id and tokens.pop(token, None) is not None and not tokens:
            _forget_owner(owner)
    slots = _watchers[owner_id].setdefault(token, {})
    if state_class is None:
        slots.pop(slot, None)
    else:
        slots[slot] = state_class


def forget(token: str) -> None:
    """This session follows no one's jobs any more (signed out, or on a public page)."""
    for owner, tokens in list(_watchers.items()):
        if tokens.pop(token, None) is not None and not tokens:
            _forget_owner(owner)


def _forget_owner(owner: str) -> None:
    """The owner's last session here is gone: what this process knew of their jobs goes too."""
    _running.pop(owner, None)
    _checked_at.pop(owner, None)


async def _deliver(
    app: App, token: str, classes: list[type[rx.State]], batch: list[dict[str, Any]]
) -> None:
    """Apply a batch of events to one session under one lock, then push the browser events."""
    format.set_locale(locale_of(token))  # its rows, texts and toasts; a task of its own (gather)
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
            update = StateUpdate(events=Event.from_event_type(browser_events))
            await app.event_namespace.emit_update(update, token)
        metrics.pushed(batch)  # the state's delta went out when modify_state closed
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


def _progress_only(owner: str, event: dict[str, Any]) -> bool:
    """True when the event only moves a job this process already sent as running.

    Any other event (a job first seen here, a status change, an ending) changes rows,
    counts or the notifier, so it goes through the sessions' states."""
    job_id = event["job"]["id"]
    running = _running.setdefault(owner, {})
    was_running = job_id in running
    if event["job"]["status"] != JobStatus.PROCESSING:
        running.pop(job_id, None)
        return False
    if not was_running:
        if len(running) >= _RUNNING_KEPT:
            running.pop(next(iter(running)))
        running[job_id] = None
    return was_running


async def _sessions_of(app: App, owner: str) -> dict[str, dict[str, type[rx.State]]]:
    """The owner's sessions connected to this process and still signed in (checked at most
    once per `CHECK_EVERY`: a team's 50 sessions were 50 checks per progress event)."""
    tokens = _watchers.get(owner)
    if not tokens:
        return {}
    now = time.monotonic()
    if now - _checked_at.get(owner, -CHECK_EVERY) < CHECK_EVERY:
        return tokens
    _checked_at[owner] = now
    for token in list(tokens):
        if not _connected_here(app, token):  # closed tab, or its socket is elsewhere
            tokens.pop(token, None)
        elif not await session.still_signed_in(token, owner):
            tokens.pop(token, None)  # signed out or disabled since (within CACHE_SECONDS)
    if not tokens:
        _forget_owner(owner)
    return tokens


async def _push_progress(
    app: App, fanout: fanout_.Fanout, tokens: list[str], frame: dict[str, Any]
) -> None:
    """One delta of LiveState.frame to the owner's sessions: no state read, nothing
    re-rendered here, and the message is encoded once for all of them."""
    namespace = app.event_namespace
    if namespace is None:
        return
    records = namespace._token_manager.token_to_socket
    sids = [record.sid for token in tokens if (record := records.get(token)) is not None]
    if not sids:
        return
    update = StateUpdate(delta={_FRAME_DELTA[0]: {_FRAME_DELTA[1]: frame}})
    try:
        message = fanout_.encode(
            namespace.server, namespace.namespace, str(rx.constants.SocketEvent.EVENT), update
        )
        await fanout.send(sids, message)
    except Exception:
        log.exception("could not push progress to %d sessions", len(sids))


async def dispatch(app: App, batch: list[dict[str, Any]]) -> None:
    """Apply events to every session of their owners connected to this process."""
    per_token: dict[str, tuple[list[type[rx.State]], list[dict[str, Any]]]] = {}
    progress: dict[str, list[dict[str, Any]]] = {}  # owner -> progress-only events
    checked: dict[str, dict[str, dict[str, type[rx.State]]]] = {}  # owner -> sessions, once

    async def sessions(owner: str) -> dict[str, dict[str, type[rx.State]]]:
        if owner not in checked:
            checked[owner] = await _sessions_of(app, owner)
        return checked[owner]

    for event in _newest_per_job(batch):
        owner = event.get("owner_id", "")
        if not _watchers.get(owner):
            continue
        if _progress_only(owner, event):
            progress.setdefault(owner, []).append(event)
            continue
        for token, slots in (await sessions(owner)).items():
            if slots:
                per_token.setdefault(token, (list(slots.values()), []))[1].append(event)
    namespace = app.event_namespace
    fanout = fanout_.Fanout(namespace.server, namespace.namespace) if namespace else None
    for owner, events in progress.items():
        # One frame per locale the owner's sessions read numbers in (usually one).
        by_locale: dict[str, list[str]] = {}
        for token, slots in (await sessions(owner)).items():
            if slots:
                by_locale.setdefault(locale_of(token), []).append(token)
        for tag, tokens in by_locale.items():
            with format.use_locale(tag):
                frame = {
                    e["job"]["id"]: live_entry(e["job"] | {"version": e["version"]}) for e in events
                }
            if fanout is not None:  # one account after another: see fanout.YIELD_EVERY
                await _push_progress(app, fanout, tokens, frame)
    await asyncio.gather(
        *(_deliver(app, token, classes, evs) for token, (classes, evs) in per_token.items())
    )
    metrics.pushed([e for events in progress.values() for e in events])


async def _dispatch_forever(app: App, queue: asyncio.Queue[dict[str, Any]]) -> None:
    # At most one frame per `pace`: what arrives meanwhile goes out together (each job's
    # newest only), so a burst (50 jobs at 10 updates a second) costs one frame or state
    # update per session per pace, not one per event. The wait comes after an event, not
    # after each frame: a quiet stream sets no timer (waking an idle loop costs CPU too).
    pace = get_settings().live_frame_ms / 1000
    last = -pace
    while True:
        batch = [await queue.get()]
        wait = last + pace - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        while not queue.empty():
            batch.append(queue.get_nowait())
        last = time.monotonic()
        try:
            await dispatch(app, batch)
        except Exception:
            log.exception("could not dispatch %d job events", len(batch))


async def resync(app: App, since: datetime) -> None:
    """Replay the truth to every session here: what changed while events could not arrive.

    Views apply only what supersedes what they show, and the notifier announces each
    ending once, so a replay never repeats a toast or a notification.
    """
    batch: list[dict[str, Any]] = []
    for owner in [owner for owner, tokens in _watchers.items() if tokens]:
        batch.extend(await asyncio.to_thread(jobs.changed_since, owner, since))
    if batch:
        await dispatch(app, batch)
    log.info("resynced %d jobs after the event subscription came back", len(batch))


async def subscribe_events(app: App) -> None:
    """Lifespan task: follow every owner's events through the process' hub and dispatch them.

    The hub (jobboard.core.hub) holds the one subscription and reconnects it; after a
    reconnect every session here is resynced: events published while the subscription was
    down were never delivered.
    """
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    dispatcher = asyncio.create_task(_dispatch_forever(app, queue), name="jobboard-dispatch")

    async def resynced(lost_at: datetime) -> None:
        await resync(app, lost_at - RESYNC_MARGIN)

    # Decode only events of owners with sessions in this process.
    tap = hub.Tap(
        wants=lambda owner: bool(_watchers.get(owner)),
        deliver=queue.put_nowait,
        on_reconnect=resynced,
    )
    events_hub = hub.get_hub()
    events_hub.tap(tap)
    try:
        await events_hub.serve()
    finally:
        events_hub.untap(tap)
        dispatcher.cancel()


async def watchdog_forever() -> None:
    """Lifespan task: jobs whose worker died end `failed` even when no worker is running,
    and endings recorded while Redis was away are announced when it is back."""
    watchdog = Watchdog()
    while True:
        try:
            await asyncio.to_thread(watchdog.tick)
        except Exception:
            log.exception("watchdog check failed")
        await asyncio.sleep(TICK_EVERY)


async def purge_old_data_forever() -> None:
    """Lifespan task: delete jobs, files and Redis keys past retention, once an hour.

    Here rather than in the worker pool's watchdog thread: a purge can take seconds of DB
    and file work, and that thread holds a lock every fork of a worker waits for. RQ's own
    scheduling needs `with_scheduler` or an extra `rq cron` process. Every app process checks
    each minute; the Redis key in `purge_if_due` (SET NX PX one hour) lets one of them run it.
    """
    while True:
        try:
            await asyncio.to_thread(retention.purge_if_due)
        except Exception:
            log.exception("retention purge failed")
        await asyncio.sleep(60)
