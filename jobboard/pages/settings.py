"""Settings page: notification permission and preferences."""

from __future__ import annotations

import reflex as rx

from jobboard.components.layout import on_load, page
from jobboard.components.notifications import notification_status
from jobboard.state.session import StaticPageState


@rx.page(route="/settings", title="Settings · Jobboard", on_load=on_load(StaticPageState.enter))
def settings() -> rx.Component:
    return page("Settings", notification_status())
