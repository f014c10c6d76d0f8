"""Who the session belongs to. Until sign-in exists, every session is the one local user."""

from __future__ import annotations

import reflex as rx

from jobboard.core.settings import get_settings


def owner_of(state: rx.State) -> str:
    return get_settings().local_user


def token_of(state: rx.State) -> str:
    return state.router.session.client_token
