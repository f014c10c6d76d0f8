"""Sign-in page: email and password; afterwards the visitor goes back to `next`."""

from __future__ import annotations

import reflex as rx

from jobboard.components.layout import auth_form, auth_page, field
from jobboard.state.session import PublicState


@rx.page(route="/sign-in", title="Sign in · Jobboard", on_load=PublicState.load_sign_in)
def sign_in() -> rx.Component:
    return auth_page(
        "Sign in",
        auth_form(
            "/api/auth/sign-in",
            field(
                "Email",
                name="email",
                type="email",
                required=True,
                id="email",
                auto_complete="username",
                auto_focus=True,
            ),
            field(
                "Password",
                name="password",
                type="password",
                required=True,
                id="password",
                auto_complete="current-password",
            ),
            submit="Sign in",
        ),
        rx.text(
            "No account? ",
            rx.link("Sign up", href="/sign-up"),
            " if sign-up is open, or ask an administrator.",
            size="2",
            color_scheme="gray",
        ),
    )
