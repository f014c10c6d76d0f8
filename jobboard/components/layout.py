"""The shared header and page frame."""

from __future__ import annotations

import reflex as rx

from jobboard.components.active_jobs import active_jobs_indicator
from jobboard.components.live import live_feed
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
    return rx.el.li(rx.link(label, href=href, size="3", weight="medium", underline="none"))


def link_button(
    *children: rx.Component | str, href: str | rx.Var, is_external: bool = False, **props
) -> rx.Component:
    """A link that looks like a button: one element, one tab stop (never a button in a link).
    `is_external` for what the app's router must not handle (downloads from /api)."""
    link = rx.link(*children, href=href, underline="none", is_external=is_external or None)
    return rx.button(link, as_child=True, **props)


def account_menu() -> rx.Component:
    """Who is signed in, and a sign-out button (a plain form: the route clears the cookie)."""
    return rx.box(
        rx.text(AccountState.email, size="2", color_scheme="gray", id="account-email"),
        rx.el.form(
            rx.button("Sign out", type="submit", size="1", variant="soft", id="sign-out"),
            method="post",
            action="/api/auth/sign-out",
            custom_attrs={"data-auth": "sign-out"},
        ),
        class_name="jb-account",
    )


def header() -> rx.Component:
    """The site header. Below 768 px the navigation and the account fold into a menu that
    the toggle opens (assets/jobboard.js); the active-jobs indicator stays in the bar."""
    return rx.el.header(
        rx.link(
            rx.hstack(
                rx.icon("activity", size=22, aria_hidden="true"),
                rx.text("Jobboard", size="5", weight="bold"),
                align="center",
                spacing="2",
            ),
            href="/tasks",
            underline="none",
            color_scheme="gray",
            high_contrast=True,
            class_name="jb-brand",
            aria_label="Jobboard home: all tasks",
        ),
        rx.box(
            active_jobs_indicator(),
            permission_sync(),
            id="header-slot",
            class_name="jb-live",
            custom_attrs={"data-live": NotifyState.live.to_string()},
        ),
        rx.icon_button(
            rx.icon("menu", size=20),
            variant="soft",
            color_scheme="gray",
            size="3",
            id="menu-toggle",
            class_name="jb-menu-toggle",
            aria_label="Menu",
            aria_controls="site-menu",
            custom_attrs={"aria-expanded": "false", "data-menu-toggle": ""},
        ),
        rx.box(
            rx.el.nav(
                rx.el.ul(*(nav_link(label, href) for label, href in NAV)),
                aria_label="Main",
                class_name="jb-nav",
            ),
            account_menu(),
            id="site-menu",
            class_name="jb-menu",
        ),
        id="site-header",
        class_name="jb-header",
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
        rx.el.a("Skip to content", href="#main", class_name="jb-skip"),
        live_feed(),
        header(),
        rx.el.main(
            rx.container(
                rx.vstack(
                    rx.hstack(
                        rx.heading(title, as_="h1", size="7"),
                        rx.box(actions, class_name="jb-actions") if actions else rx.fragment(),
                        justify="between",
                        align="center",
                        wrap="wrap",
                        width="100%",
                    ),
                    *children,
                    spacing="5",
                    width="100%",
                    padding_y="1.5em",
                ),
                size="4",
            ),
            id="main",
            class_name="jb-main",
            tab_index=-1,
        ),
        min_height="100vh",
        background="var(--gray-2)",
    )


def auth_page(title: str | rx.Var, *children: rx.Component) -> rx.Component:
    """The frame of the sign-in and sign-up pages: no navigation, no live parts."""
    return rx.el.main(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.icon("activity", size=22, aria_hidden="true"),
                        rx.text("Jobboard", size="5", weight="bold"),
                        align="center",
                    ),
                    rx.heading(title, as_="h1", size="6", id="auth-title"),
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
        ),
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
    """A labelled input: the label wraps the input, so it names it whatever element gets the id."""
    return rx.el.label(
        rx.vstack(
            rx.text(label, size="2", weight="medium"),
            rx.input(size="3", width="100%", **props),
            spacing="1",
            width="100%",
        ),
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
        rx.text("Page ", page.to_string(), " of ", page_count.to_string(), size="2", flex="none"),
        rx.button(
            "Next", on_click=next_, disabled=page >= page_count, variant="soft", id="next-page"
        ),
        align="center",
        width="100%",
        spacing="3",
        wrap="wrap",
    )


def card_cell(
    col: str,
    *children: rx.Component | rx.Var,
    empty: rx.Var[bool] | None = None,
    bare: bool = False,
    **props,
) -> rx.Component:
    """A table cell named by its column, which places it in a phone's compact card
    (`jb-compact` in assets/jobboard.css). `empty` marks a cell with nothing to show, which
    the card leaves out; a `bare` cell shows its value without its column's name there."""
    attrs = {"data-col": col}
    if empty is not None:
        attrs["data-empty"] = empty.to_string()
    if bare:
        attrs["data-bare"] = ""
    return rx.table.cell(*children, custom_attrs=attrs, **props)
