"""Sign-up page: the administrator on a fresh install; others only while sign-up is open."""

from __future__ import annotations

import reflex as rx

from jobboard.components.layout import auth_form, auth_page, field
from jobboard.core.accounts import MIN_PASSWORD
from jobboard.state.session import PublicState


def _form() -> rx.Component:
    return auth_form(
        "/api/auth/sign-up",
        field("Email", name="email", type="email", required=True, id="email",
              auto_complete="username", auto_focus=True),
        field(f"Password (at least {MIN_PASSWORD} characters)", name="password",
              type="password", required=True, id="password", auto_complete="new-password"),
        field("Password again", name="confirm", type="password", required=True, id="confirm",
              auto_complete="new-password"),
        submit=rx.cond(PublicState.mode == "first", "Create the administrator account",
                       "Create account"),
    )  # fmt: skip


@rx.page(route="/sign-up", title="Sign up · Jobboard", on_load=PublicState.load_sign_up)
def sign_up() -> rx.Component:
    return auth_page(
        rx.match(
            PublicState.mode,
            ("first", "Create the administrator account"),
            ("closed", "Sign-up is closed"),
            "Sign up",
        ),
        rx.match(
            PublicState.mode,
            (
                "first",
                rx.vstack(
                    rx.text(
                        "Welcome to Jobboard. This first account is the administrator: it "
                        "can add users and takes over the jobs and products already here.",
                        size="2",
                        id="first-run",
                    ),
                    _form(),
                    width="100%",
                ),
            ),
            ("open", _form()),
            (
                "closed",
                rx.vstack(
                    rx.text(
                        "New accounts are created by an administrator. Ask yours for one.",
                        size="2",
                        id="signup-closed",
                    ),
                    rx.link("Sign in", href="/sign-in"),
                ),
            ),
            rx.spinner(),
        ),
    )
