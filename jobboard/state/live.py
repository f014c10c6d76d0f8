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

from jobboard.core import events
from jobboard.core.redis import get_async_redis

if TYPE_CHECKING:
    from reflex.app import App

log = logging.getLogger(__name__)


class LiveView(Protocol):
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


def watcher_count() -> int:
    return sum(len(t) for t in _watchers.values())


async def _deliver(app: App, token: str, classes: list[type[rx.State]], event: dict) -> None:
    browser_events: list[EventSpec] = []
    try:
        state_token = rx.BaseStateToken(ident=token, cls=classes[0])
        async with app.modify_state(state_token) as root:
            for cls in classes:
                state = await root.get_state(cls)
                browser_events.extend(state.apply_job_event(event) or ())  # type: ignore[attr-defined]
        if browser_events and app.event_namespace is not None:
            update = StateUpdate(events=fix_events(browser_events))
            await app.event_namespace.emit_update(update, token)
    except Exception:
        log.exception("could not deliver job event to session %s", token)


def _connected_here(app: App, token: str) -> bool:
    namespace = app.event_namespace
    if namespace is None:
        return False
    manager = namespace._token_manager
    # With Redis, Reflex also records sockets of other processes; only our own count.
    record = manager.token_to_socket.get(token)
    return record is not None and record.instance_id == manager.instance_id


async def dispatch(app: App, event: dict[str, Any]) -> None:
    """Apply one event to every session of its owner connected to this process."""
    tokens = _watchers.get(event.get("owner_id", ""))
    if not tokens:
        return
    deliveries = []
    for token, slots in list(tokens.items()):
        if not _connected_here(app, token):  # closed tab, or its socket moved to another process
            tokens.pop(token, None)
            continue
        if slots:
            deliveries.append(_deliver(app, token, list(slots.values()), event))
    await asyncio.gather(*deliveries)


async def subscribe_events(app: App) -> None:
    """Lifespan task: listen to every owner's events and dispatch them; reconnect on errors."""
    while True:
        client = get_async_redis()
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(events.EVENTS_PATTERN)
            log.info("listening for job events")
            async for message in pubsub.listen():
                if message["type"] != "pmessage":
                    continue
                await dispatch(app, events.decode(message["data"]))
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
