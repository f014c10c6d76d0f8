"""What every page shows while the browser cannot reach the server."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

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
