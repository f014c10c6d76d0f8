"""Notification permission banner and status: what the browser allows, and how to change it."""

from __future__ import annotations

import reflex as rx

from jobboard.state.notifications import NotifyState

S = NotifyState


def permission_sync() -> rx.Component:
    """Hidden: the page's script clicks it when the browser's permission changes."""
    return rx.el.button(
        id="jb-permission-sync",
        on_click=S.read_permission,
        display="none",
        aria_hidden="true",
        tab_index=-1,
    )


def _banner_body(icon: str, text: rx.Component, *actions: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=20),
        rx.box(text, flex="1", min_width="min(14em, 100%)"),
        *actions,
        rx.icon_button(
            rx.icon("x", size=16),
            variant="ghost",
            color_scheme="gray",
            on_click=S.dismiss_banner,
            aria_label="Dismiss",
            id="notification-banner-dismiss",
        ),
        align="center",
        spacing="3",
        width="100%",
        wrap="wrap",
    )


def notification_permission_banner() -> rx.Component:
    """Shown on dashboard pages until notifications are allowed or the banner is dismissed."""
    return rx.box(
        rx.match(
            S.permission,
            (
                "default",
                _banner_body(
                    "bell-ring",
                    rx.text(
                        "Get a desktop notification the moment an upload finishes or fails, "
                        "even from another tab."
                    ),
                    rx.button(
                        "Enable notifications",
                        on_click=S.request_permission,
                        id="notification-enable",
                        size="2",
                    ),
                ),
            ),
            (
                "denied",
                _banner_body(
                    "bell-off",
                    rx.text(
                        rx.text.strong("Notifications are blocked. "),
                        "To allow them, click the icon left of the address bar, open "
                        "Site settings and set Notifications to Allow, then come back.",
                    ),
                ),
            ),
            (
                "unsupported",
                _banner_body(
                    "info",
                    rx.text(
                        "This browser cannot show desktop notifications here, so Jobboard will "
                        "tell you in the app instead."
                    ),
                ),
            ),
            rx.fragment(),
        ),
        id="notification-banner",
        custom_attrs={"data-permission": S.permission},
        display=rx.cond(S.banner_visible, "block", "none"),
        padding="0.9em 1.1em",
        border_radius="10px",
        background=rx.match(
            S.permission,
            ("denied", "var(--red-3)"),
            ("unsupported", "var(--gray-3)"),
            "var(--accent-3)",
        ),
        border="1px solid var(--gray-a5)",
        width="100%",
    )


def _pref(label: str, name: str, value: rx.Var[bool]) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.switch(
                checked=value,
                on_change=lambda checked: S.set_pref(name, checked),
                id=f"pref-{name}",
            ),
            rx.text(label),
            align="center",
            spacing="3",
        ),
    )


def notification_status() -> rx.Component:
    """Settings: the current permission in words, a test button and the preferences."""
    return rx.card(
        rx.vstack(
            rx.heading("Browser notifications", as_="h2", size="4"),
            rx.hstack(
                rx.badge(S.permission, size="2", id="notification-permission"),
                rx.text(S.permission_words),
                align="center",
                spacing="3",
            ),
            rx.hstack(
                rx.cond(
                    S.permission == "default",
                    rx.button("Enable notifications", on_click=S.request_permission),
                ),
                rx.button(
                    "Send a test notification",
                    on_click=S.send_test,
                    disabled=S.permission != "granted",
                    variant="soft",
                    id="notification-test",
                ),
                spacing="3",
            ),
            rx.divider(),
            rx.text("Notify me when a job", weight="medium"),
            _pref("completes", "on_completed", S.on_completed),
            _pref("fails", "on_failed", S.on_failed),
            _pref("is cancelled", "on_cancelled", S.on_cancelled),
            _pref(
                "Only when the Jobboard tab is in the background",
                "only_in_background",
                S.only_in_background,
            ),
            rx.text(
                "In-app messages appear for every job that ends, whatever you choose here.",
                size="1",
                color_scheme="gray",
            ),
            spacing="3",
        ),
        width="100%",
        max_width="40em",
    )
