"""Settings → Webhooks (`/settings/webhooks`): register, change, test, delivery log, resend."""

from __future__ import annotations

import reflex as rx

from jobboard.components.layout import on_load, page
from jobboard.components.webhooks import webhooks_panel
from jobboard.state.session import StaticPageState
from jobboard.state.webhooks import WebhooksState


@rx.page(
    route="/settings/webhooks",
    title="Webhooks · Settings · Jobboard",
    on_load=on_load(StaticPageState.enter, WebhooksState.load),
)
def webhooks_page() -> rx.Component:
    return page(
        "Webhooks",
        webhooks_panel(),
        actions=rx.link("← Settings", href="/settings", size="2", id="back-to-settings"),
    )
