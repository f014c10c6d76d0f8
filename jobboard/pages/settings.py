"""Settings page: notifications, API tokens, webhooks (summary; /settings/webhooks has the rest),
users (administrators), data retention."""

from __future__ import annotations

import reflex as rx

from jobboard.components.accounts import tokens_section, users_section
from jobboard.components.layout import on_load, page
from jobboard.components.notifications import notification_status
from jobboard.components.retention import retention_section
from jobboard.components.webhooks import webhooks_summary
from jobboard.state.accounts import TokensState, UsersState
from jobboard.state.retention import RetentionState
from jobboard.state.session import StaticPageState
from jobboard.state.webhooks import WebhooksState


@rx.page(
    route="/settings",
    title="Settings · Jobboard",
    on_load=on_load(
        StaticPageState.enter,
        TokensState.load,
        WebhooksState.load,
        UsersState.load,
        RetentionState.load,
    ),
)
def settings() -> rx.Component:
    return page(
        "Settings",
        notification_status(),
        tokens_section(),
        webhooks_summary(),
        users_section(),
        retention_section(),
    )
