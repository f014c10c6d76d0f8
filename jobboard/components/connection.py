"""What every page shows while the browser cannot reach the server."""

from __future__ import annotations

import logging

import redis
import reflex as rx
from reflex.app import default_backend_exception_handler
from reflex.event import EventSpec
from reflex_components_core.core.banner import has_connection_errors

log = logging.getLogger(__name__)

# True from the first failed reconnect attempt until the socket is back (Reflex clears the
# errors on connect); the page then rehydrates and its on_load reads a fresh snapshot.
offline = has_connection_errors


def connection_banner() -> rx.Component:
    """A bar over the page; replaces Reflex's default connection toaster."""
    return rx.cond(
        offline,
        rx.hstack(
            rx.spinner(size="2"),
            rx.text(
                rx.text.strong("Reconnecting to Jobboard… "),
                "Live updates are paused; this page catches up by itself when the server "
                "is back. Your jobs keep running.",
                size="2",
            ),
            id="connection-banner",
            role="status",
            align="center",
            justify="center",
            spacing="3",
            position="fixed",
            top="0",
            left="0",
            right="0",
            z_index="1000",
            padding="0.6em 1em",
            background="var(--amber-3)",
            color="var(--amber-12)",
            border_bottom="1px solid var(--amber-7)",
            custom_attrs={"aria-live": "polite"},
        ),
    )


def queue_banner() -> rx.Component:
    """Says so while the job queue (Redis) does not answer, though the app does.

    Reflex keeps each page's state in Redis, so then no Reflex event of the page gets through
    and the page cannot learn of the outage through its state: assets/jobboard.js asks
    `/api/health` every few seconds and writes the notice into this live region (empty, and
    so out of sight, while Redis answers)."""
    return rx.el.div(
        id="queue-banner",
        role="status",
        class_name="jb-queue-banner",
        custom_attrs={"aria-live": "polite"},
    )


def overlay() -> rx.Component:
    """What every page shows over its own content: the two outage notices."""
    return rx.fragment(connection_banner(), queue_banner())


def _caused_by_redis(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:  # a cause chain, not a cycle
        if isinstance(exc, redis.RedisError):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def backend_error(exception: Exception) -> EventSpec | None:
    """Reflex's answer to an event that failed in the backend. An event fails when Redis does
    not answer (Reflex keeps the page's state there): say that, not "An error occurred.
    Contact the website administrator." Anything else gets Reflex's own answer."""
    if not _caused_by_redis(exception):
        return default_backend_exception_handler(exception)
    log.warning("an event failed, Redis does not answer: %s", exception)
    return rx.toast.warning(
        "The job queue (Redis) is not answering.",
        description="This page cannot load or change anything until it is back; Jobboard "
        "keeps retrying. Try again when the notice at the top is gone.",
        id="backend_error",  # one toast, however many events fail
    )
