"""The shared header and page frame."""

from __future__ import annotations

import reflex as rx

from jobboard.components.active_jobs import active_jobs_indicator
from jobboard.components.notifications import permission_sync
from jobboard.state.active_jobs import ActiveJobsState
from jobboard.state.notifications import NotifyState
from jobboard.state.session import AccountState, quiet_when_signed_out

NAV = (
    ("Upload", "/upload"),
    ("Tasks", "/tasks"),
    ("History", "/history"),
    ("Products", "/products"),
    ("AI", "/ai"),
    ("Settings", "/settings"),
)


def on_load(*handlers: rx.EventHandler) -> list[rx.EventHandler]:
    """A page's on_load plus the header's: every page follows the owner's jobs (the
    indicator and the notifications). On_load, not on_mount, because Reflex runs on_load
    again on every reconnect, which is how a page resyncs after the server was away."""
    rest = [*handlers, ActiveJobsState.start, NotifyState.start]
    quiet_when_signed_out(*rest)  # AccountState.load alone sends a visitor to sign-in
    return [AccountState.load, *rest]


def nav_link(label: str, href: str) -> rx.Component:
    return rx.link(label, href=href, size="3", weight="medium", underline="none")


def account_menu() -> rx.Component:
    """Who is signed in, and a sign-out button (a plain form: the route clears the cookie)."""
    return rx.hstack(
        rx.text(AccountState.email, size="2", color_scheme="gray", id="account-email"),
        rx.el.form(
            rx.button("Sign out", type="submit", size="1", variant="soft", id="sign-out"),
            method="post",
            action="/api/auth/sign-out",
            custom_attrs={"data-auth": "sign-out"},
        ),
        align="center",
        spacing="3",
    )


def header() -> rx.Component:
    return rx.hstack(
        rx.hstack(
            rx.link(
                rx.hstack(rx.icon("activity", size=22), rx.heading("Jobboard", size="5")),
                href="/tasks",
                underline="none",
                color_scheme="gray",
                high_contrast=True,
            ),
            rx.hstack(*(nav_link(label, href) for label, href in NAV), spacing="5"),
            spacing="7",
            align="center",
        ),
        rx.hstack(
            rx.box(
                active_jobs_indicator(),
                permission_sync(),
                id="header-slot",
                custom_attrs={"data-live": NotifyState.live.to_string()},
            ),
            account_menu(),
            align="center",
            spacing="5",
        ),
        justify="between",
        align="center",
        width="100%",
        padding_x="1.5em",
        padding_y="0.9em",
        border_bottom="1px solid var(--gray-a5)",
        background="var(--color-panel-solid)",
        position="sticky",
        top="0",
        z_index="10",
    )


def page(title: str, *children: rx.Component, actions: rx.Component | None = None) -> rx.Component:
    return rx.box(
        header(),
        rx.container(
            rx.vstack(
                rx.hstack(
                    rx.heading(title, size="7"),
                    actions or rx.fragment(),
                    justify="between",
                    align="center",
                    width="100%",
                ),
                *children,
                spacing="5",
                width="100%",
                padding_y="1.5em",
            ),
            size="4",
        ),
        min_height="100vh",
        background="var(--gray-2)",
    )


def auth_page(title: str | rx.Var, *children: rx.Component) -> rx.Component:
    """The frame of the sign-in and sign-up pages: no navigation, no live parts."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("activity", size=22),
                    rx.heading("Jobboard", size="5"),
                    align="center",
                ),
                rx.heading(title, size="6", id="auth-title"),
                *children,
                spacing="4",
                width="100%",
            ),
            size="4",
            width="100%",
            max_width="26em",
        ),
        min_height="100vh",
        padding="1.5em",
        background="var(--gray-2)",
    )


def auth_form(action: str, *fields: rx.Component, submit: str) -> rx.Component:
    """A sign-in/sign-up form. assets/jobboard.js posts it as JSON and shows the answer; without
    JavaScript it is an ordinary form post the route answers with a redirect."""
    return rx.el.form(
        rx.vstack(
            *fields,
            rx.el.input(type="hidden", name="next", value="", id="auth-next"),
            rx.el.p(
                id="auth-error",
                role="alert",
                hidden=True,
                style={"color": "var(--red-11)", "fontSize": "var(--font-size-2)"},
            ),
            rx.button(submit, type="submit", size="3", width="100%", id="auth-submit"),
            spacing="3",
            width="100%",
        ),
        method="post",
        action=action,
        custom_attrs={"data-auth": action.rsplit("/", 1)[-1]},
        width="100%",
    )


def field(label: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium", html_for=props.get("id")),
        rx.input(size="3", width="100%", **props),
        spacing="1",
        width="100%",
    )


def pager(
    page: rx.Var,
    page_count: rx.Var,
    total: rx.Var,
    prev: rx.EventHandler,
    next_: rx.EventHandler,
    noun: tuple[str, str],
) -> rx.Component:
    """Server-side pagination controls; `noun` is (singular, plural)."""
    return rx.hstack(
        rx.text(
            total.to_string(),
            " ",
            rx.cond(total == 1, noun[0], noun[1]),
            color_scheme="gray",
            size="2",
            id="total-count",
        ),
        rx.spacer(),
        rx.button("Previous", on_click=prev, disabled=page <= 1, variant="soft", id="prev-page"),
        rx.text("Page ", page.to_string(), " of ", page_count.to_string(), size="2"),
        rx.button(
            "Next", on_click=next_, disabled=page >= page_count, variant="soft", id="next-page"
        ),
        align="center",
        width="100%",
        spacing="3",
    )
