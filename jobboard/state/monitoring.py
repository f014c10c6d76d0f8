"""App-side Prometheus figures that only a Reflex process knows (see jobboard.core.metrics)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from jobboard.core import metrics

if TYPE_CHECKING:
    from reflex.app import App

COUNT_EVERY = 5.0  # seconds; a scrape every 15 s or more sees a fresh figure


async def count_sessions_forever(app: App) -> None:
    """Lifespan task: keep the connected-sessions gauge of this process current; when the
    process stops, its share leaves the sum."""
    try:
        while True:
            namespace = app.event_namespace
            metrics.sessions_connected(len(namespace.sid_to_token) if namespace else 0)
            await asyncio.sleep(COUNT_EVERY)
    finally:
        metrics.process_exiting()
