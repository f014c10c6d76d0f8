"""Settings sections: personal API tokens, and the administrator's list of users."""

from __future__ import annotations

import reflex as rx

from jobboard.components.time import local_time
from jobboard.state.accounts import TokenRow, TokensState, UserRow, UsersState


def _error(text: rx.Var, id_: str) -> rx.Component:
    return rx.cond(
        text != "",
        rx.callout(text, icon="triangle_alert", color_scheme="red", size="1", id=id_),
    )


def _labelled(label: str, control: rx.Component) -> rx.Component:
    """A form control under its visible name (the label wraps it: no placeholder-only inputs)."""
    return rx.el.label(rx.text(label, size="1", weight="medium"), control, class_name="jb-field")


def _token_row(row: rx.Var[TokenRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.name),
        rx.table.cell(rx.code(row.prefix)),
        rx.table.cell(local_time(row.created, fallback="—")),
        rx.table.cell(local_time(row.last_used, fallback="never")),
        rx.table.cell(local_time(row.expires, fallback="never")),
        rx.table.cell(
            rx.badge(
                row.status,
                color_scheme=rx.match(row.status, ("active", "green"), ("expired", "gray"), "red"),
                high_contrast=True,
            )
        ),
        rx.table.cell(
            rx.cond(
                row.status == "active",
                rx.button(
                    "Revoke",
                    size="1",
                    color_scheme="red",
                    variant="soft",
                    on_click=TokensState.revoke(row.id),
                    class_name="revoke-token",
                ),
            )
        ),
        custom_attrs={"data-token-name": row.name},
        class_name="token-row",
    )


def _new_token() -> rx.Component:
    return rx.cond(
        TokensState.new_token != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round")),
            rx.vstack(
                rx.text(
                    "Your new token “",
                    TokensState.new_token_name,
                    "”. Copy it now: it is shown only this once.",
                    weight="medium",
                    size="2",
                ),
                rx.hstack(
                    rx.code(TokensState.new_token, id="new-token", size="3"),
                    rx.button(
                        rx.icon("copy", size=14),
                        "Copy",
                        size="1",
                        variant="soft",
                        on_click=rx.set_clipboard(TokensState.new_token),
                    ),
                    rx.button(
                        "Done", size="1", variant="ghost", on_click=TokensState.dismiss_new_token
                    ),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(
                    "Send it as Authorization: Bearer <token> to /api/v1.",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="2",
            ),
            color_scheme="green",
            id="new-token-box",
        ),
    )


def tokens_section() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("API tokens", as_="h2", size="4"),
            rx.text(
                "Personal tokens let scripts use the REST API as you. Only a short prefix is "
                "kept after creation; revoke a token you no longer use.",
                size="2",
            ),
            rx.form(
                rx.hstack(
                    _labelled(
                        "Name",
                        rx.input(
                            name="name",
                            placeholder="e.g. nightly export",
                            required=True,
                            max_length=100,
                            id="token-name",
                            width="18em",
                        ),
                    ),
                    _labelled(
                        "Expires in days",
                        rx.input(
                            name="days",
                            placeholder="empty: never",
                            type="number",
                            id="token-days",
                            width="16em",
                        ),
                    ),
                    rx.button("Create token", type="submit", id="create-token"),
                    align="end",
                    wrap="wrap",
                ),
                on_submit=TokensState.create,
                reset_on_submit=True,
            ),
            _error(TokensState.error, "token-error"),
            _new_token(),
            rx.cond(
                TokensState.tokens.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *(
                                rx.table.column_header_cell(h)
                                for h in (
                                    "Name",
                                    "Prefix",
                                    "Created",
                                    "Last used",
                                    "Expires",
                                    "Status",
                                    "",
                                )
                            )
                        )
                    ),
                    rx.table.body(rx.foreach(TokensState.tokens, _token_row)),
                    variant="surface",
                    size="1",
                    width="100%",
                    id="token-list",
                ),
                rx.text("No tokens yet.", size="2", color_scheme="gray", id="token-list-empty"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="api-tokens",
    )


def _user_row(row: rx.Var[UserRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.email, rx.cond(row.is_you, rx.text.em(" (you)"))),
        rx.table.cell(local_time(row.created, fallback="—")),
        rx.table.cell(local_time(row.last_sign_in, fallback="never")),
        rx.table.cell(rx.cond(row.admin, rx.badge("admin", color_scheme="blue"), "")),
        rx.table.cell(
            rx.cond(
                row.disabled,
                rx.badge("disabled", color_scheme="red"),
                rx.cond(
                    row.is_you,
                    rx.fragment(),
                    rx.button(
                        "Disable",
                        size="1",
                        color_scheme="red",
                        variant="soft",
                        on_click=UsersState.disable(row.id),
                        class_name="disable-user",
                    ),
                ),
            )
        ),
        custom_attrs={"data-email": row.email},
        class_name="user-row",
    )


def users_section() -> rx.Component:
    return rx.cond(
        UsersState.is_admin,
        rx.card(
            rx.vstack(
                rx.heading("Users", as_="h2", size="4"),
                rx.text(
                    "Everyone who can sign in. Disabling an account signs it out everywhere "
                    "and stops its API tokens.",
                    size="2",
                ),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *(
                                rx.table.column_header_cell(h)
                                for h in ("Email", "Created", "Last sign-in", "Role", "")
                            )
                        )
                    ),
                    rx.table.body(rx.foreach(UsersState.users, _user_row)),
                    variant="surface",
                    size="1",
                    width="100%",
                    id="user-list",
                ),
                rx.heading("Add a user", as_="h3", size="3"),
                rx.form(
                    rx.hstack(
                        _labelled(
                            "Email",
                            rx.input(
                                name="email",
                                type="email",
                                required=True,
                                id="new-user-email",
                                width="16em",
                            ),
                        ),
                        _labelled(
                            "Initial password",
                            rx.input(
                                name="password",
                                type="password",
                                required=True,
                                id="new-user-password",
                                width="14em",
                                auto_complete="new-password",
                            ),
                        ),
                        rx.button("Create account", type="submit", id="create-user"),
                        align="end",
                        wrap="wrap",
                    ),
                    on_submit=UsersState.create,
                    reset_on_submit=True,
                ),
                _error(UsersState.error, "user-error"),
                rx.cond(
                    UsersState.message != "",
                    rx.callout(UsersState.message, icon="check", size="1", id="user-message"),
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            id="users",
        ),
    )
