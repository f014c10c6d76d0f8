"""Who the session belongs to: the signed-in user of the browser's `jobboard_session` cookie.

The cookie is HttpOnly (set by `jobboard.api.auth`), so the browser's JavaScript never sees it;
the state reads it from the headers of the websocket handshake, which the browser sends and a page
cannot forge. Every event of our states passes `AuthMiddleware` first: without a signed-in user
it does nothing and the page goes to sign-in.

Resolved sessions are cached per process for `CACHE_SECONDS`, keyed by the secret's SHA-256: a
sign-out or a disabled account takes effect in every process within that bound (at once on the
public pages, which always ask the database).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from urllib.parse import quote

import reflex as rx
from reflex.event import Event
from reflex.middleware import Middleware
from reflex.state import StateUpdate

from jobboard.core.signin import cookie_value, safe_next

CACHE_SECONDS = 5.0
_CACHE_LIMIT = 10_000
APP_STATE_PREFIX = rx.State.get_full_name() + ".jobboard___"


class NotSignedIn(RuntimeError):
    """An owner was asked for where no signed-in user is known."""


@dataclass(frozen=True)
class SignedIn:
    id: str
    email: str
    is_admin: bool


# sha256(secret) -> (monotonic expiry, the user or None)
_cache: dict[str, tuple[float, SignedIn | None]] = {}
# client token -> the user its latest event was checked for, and the cookie secret it came with
_by_token: dict[str, tuple[SignedIn, str]] = {}


def _key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def session_secret(state: rx.State) -> str:
    """The sign-in secret the websocket handshake carried (never anything the page sends)."""
    headers = state.router.headers
    raw = headers.cookie or headers.raw_headers.get("cookie", "")
    return cookie_value(raw)


def _lookup(secret: str) -> SignedIn | None:
    from jobboard.core.accounts import user_for_session

    user = user_for_session(secret)
    return None if user is None else SignedIn(user.id, user.email, user.is_admin)


async def resolve(secret: str, *, fresh: bool = False) -> SignedIn | None:
    """The user signed in with this secret, from the cache (unless `fresh`) or the database
    (off the loop)."""
    if not secret:
        return None
    key = _key(secret)
    now = time.monotonic()
    hit = _cache.get(key)
    if not fresh and hit is not None and hit[0] > now:
        return hit[1]
    user = await asyncio.to_thread(_lookup, secret)
    if len(_cache) >= _CACHE_LIMIT:
        for stale in [k for k, (until, _) in _cache.items() if until <= now] or list(_cache):
            _cache.pop(stale, None)
    _cache[key] = (time.monotonic() + CACHE_SECONDS, user)
    return user


async def current_user(state: rx.State, *, fresh: bool = False) -> SignedIn | None:
    """The signed-in user of this state's browser, or None; remembered for `owner_of`."""
    secret = session_secret(state)
    user = await resolve(secret, fresh=fresh)
    token = token_of(state)
    if user is None:
        _by_token.pop(token, None)
    else:
        if len(_by_token) >= _CACHE_LIMIT and token not in _by_token:
            _by_token.pop(next(iter(_by_token)))
        _by_token[token] = (user, secret)
    return user


async def still_signed_in(token: str, owner_id: str) -> bool:
    """Whether the session `token` still belongs to `owner_id` (for live events, which reach a
    tab without any event of its own): asks the database at most once per CACHE_SECONDS."""
    entry = _by_token.get(token)
    if entry is None or entry[0].id != owner_id:
        return False
    user = await resolve(entry[1])
    return user is not None and user.id == owner_id


def owner_of(state: rx.State) -> str:
    """The signed-in user's id (the owner of their data), as `current_user` found it for this
    session's current event (`AuthMiddleware` runs it before every event of our states).

    Never touches the database; raises NotSignedIn rather than guessing.
    """
    entry = _by_token.get(token_of(state))
    if entry is None:
        raise NotSignedIn("no signed-in user for this session")
    return entry[0].id


def token_of(state: rx.State) -> str:
    return state.router.session.client_token


def _any_user() -> bool:
    from sqlmodel import select

    from jobboard.core.accounts import User
    from jobboard.core.db import session_scope

    with session_scope() as session:
        return session.exec(select(User.id).limit(1)).first() is not None


async def users_exist() -> bool:
    """Whether anyone can sign in yet (asked only for visitors who are not signed in)."""
    return await asyncio.to_thread(_any_user)


def sign_in_url(path: str) -> str:
    target = safe_next(path, "")
    return "/sign-in" + (f"?next={quote(target, safe='/')}" if target else "")


def _wanted_path(state: rx.State) -> str:
    url = state.router.url
    path = getattr(url, "path", "") or "/"
    query = getattr(url, "query", "")
    return f"{path}?{query}" if query else path


# Page-load handlers that follow a page's first one (AccountState.load): when nobody is signed
# in they do nothing quietly, so a page load sends the visitor to sign-in exactly once.
_quiet_when_signed_out: set[str] = set()


def quiet_when_signed_out(*handlers: rx.EventHandler) -> None:
    from reflex_base.utils.format import format_event_handler

    _quiet_when_signed_out.update(format_event_handler(h) for h in handlers)


class AuthMiddleware(Middleware):
    """Every event of a Jobboard state needs a signed-in user; without one the event does
    nothing, the tab stops receiving job events and the page goes to sign-in (or to sign-up on
    a fresh install). Reflex's own events (hydrate, on_load plumbing) and the public pages'
    state pass."""

    async def preprocess(self, app, state, event) -> StateUpdate | None:  # type: ignore[override]
        if not event.name.startswith(APP_STATE_PREFIX) or event.name.startswith(PUBLIC_PREFIX):
            return None
        if await current_user(state) is not None:
            return None
        from jobboard.state import live

        live.forget(token_of(state))
        if event.name in _quiet_when_signed_out:
            return StateUpdate()
        fresh_install = not await users_exist()
        target = "/sign-up" if fresh_install else sign_in_url(_wanted_path(state))
        return StateUpdate(events=Event.from_event_type([rx.redirect(target)]))


class StaticPageState(rx.State):
    """For pages without live content: stop routing job events to the last page's state."""

    @rx.event
    def enter(self) -> None:
        from jobboard.state import live

        live.watch(owner_of(self), token_of(self), "page", None)


class PublicState(rx.State):
    """The sign-in and sign-up pages (no user needed): what the page should offer."""

    mode: str = ""  # sign-up: "first" | "open" | "closed"

    @rx.event
    async def load_sign_up(self) -> rx.event.EventSpec | None:
        from jobboard.core.accounts import signup_allowed
        from jobboard.state import live

        live.forget(token_of(self))
        if await current_user(self, fresh=True) is not None:
            return rx.redirect(safe_next(self.router.url.query_parameters.get("next")))
        if not await users_exist():
            self.mode = "first"
        else:
            self.mode = "open" if await asyncio.to_thread(signup_allowed) else "closed"
        return None

    @rx.event
    async def load_sign_in(self) -> rx.event.EventSpec | None:
        from jobboard.state import live

        live.forget(token_of(self))
        if await current_user(self, fresh=True) is not None:
            return rx.redirect(safe_next(self.router.url.query_parameters.get("next")))
        if not await users_exist():
            return rx.redirect("/sign-up")
        return None


PUBLIC_PREFIX = PublicState.get_full_name() + "."


class AccountState(rx.State):
    """The header's account: who is signed in."""

    email: str = ""
    is_admin: bool = False

    _owner: str = ""

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        user = await current_user(self)
        if user is None:
            return None
        if self._owner and self._owner != user.id:
            # Another account signed in in this browser since this tab's session started: what
            # the tab's states hold is the other account's. Start the tab afresh.
            return rx.call_script("window.sessionStorage.removeItem('token'); location.reload()")
        self._owner, self.email, self.is_admin = user.id, user.email, user.is_admin
        return None
