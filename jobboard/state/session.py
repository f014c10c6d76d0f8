"""Who the session belongs to. Until sign-in exists, every session is the one local user."""

from __future__ import annotations

import reflex as rx

from jobboard.core.settings import get_settings


def owner_of(state: rx.State) -> str:
    return get_settings().local_user


def token_of(state: rx.State) -> str:
    return state.router.session.client_token


class StaticPageState(rx.State):
    """For pages without live content: stop routing job events to the last page's state."""

    @rx.event
    def enter(self) -> None:
        from jobboard.state import live

        live.watch(owner_of(self), token_of(self), "page", None)
