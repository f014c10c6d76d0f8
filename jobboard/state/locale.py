"""The locale each session's numbers are formatted in (`jobboard.core.format`).

Negotiated from the Accept-Language header of the browser's websocket handshake (the browser
sends its language preferences there as on every request; Reflex keeps it in the state's
router data), set around each event of the session by `LocaleMiddleware`, and remembered per
client token for the live fan-out (`jobboard.state.live`), which formats for a session outside
any event of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import reflex as rx
from reflex.middleware import Middleware

from jobboard.core import format

if TYPE_CHECKING:
    from reflex.app import App
    from reflex.event import Event
    from reflex.state import StateUpdate

_LIMIT = 10_000
# client token -> locale tag, process-local like the sockets it serves
_by_token: dict[str, str] = {}


def remember(token: str, tag: str) -> str:
    """Format for session `token` in `tag` (en-US if not a known locale); returns the tag."""
    tag = format.known_locale(tag)
    if token not in _by_token and len(_by_token) >= _LIMIT:
        _by_token.pop(next(iter(_by_token)))  # the oldest session
    _by_token[token] = tag
    return tag


def locale_of(token: str) -> str:
    """The locale of session `token`, en-US until its first event in this process."""
    return _by_token.get(token, format.DEFAULT_LOCALE)


def session_locale(state: rx.State) -> str:
    """The locale the browser of this state's session asked for."""
    return format.negotiate(state.router.headers.accept_language)


class LocaleMiddleware(Middleware):
    """Before every event: this session's numbers in its browser's locale.

    Reflex runs each event (middleware, handler, computed vars and the delta) in a task of its
    own, so the locale set here holds for exactly that event, threads it starts included
    (`asyncio.to_thread` copies the context). Added first, so it also holds for events another
    middleware answers itself (a redirect to sign-in).
    """

    async def preprocess(self, app: App, state: rx.State, event: Event) -> StateUpdate | None:  # type: ignore[override]
        token = state.router.session.client_token
        tag = session_locale(state)
        if token:
            remember(token, tag)
        format.set_locale(tag)
        return None
