"""Who is calling: an API token (`Authorization: Bearer …`) or the browser's sign-in cookie.

Both are looked up in the database, so the dependency is a plain `def` (FastAPI runs it in its
thread pool, off the event loop). Every caller is also held to a per-token request rate.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from functools import lru_cache
from typing import Annotated

import redis
from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItemPerMinute
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from jobboard.core import accounts
from jobboard.core.accounts import stream_tokens
from jobboard.core.settings import get_settings

log = logging.getLogger(__name__)

SESSION_COOKIE = "jobboard_session"
CHALLENGE = {"WWW-Authenticate": "Bearer"}

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="API token",
    description="A personal API token: `Authorization: Bearer jb_…`",
)
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="Browser session",
    description="The cookie Jobboard's sign-in sets in the browser",
)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers=CHALLENGE)


@lru_cache(maxsize=4)
def _limiter(redis_url: str) -> MovingWindowRateLimiter:
    storage = RedisStorage(redis_url, key_prefix="jobboard:api", health_check_interval=30)
    return MovingWindowRateLimiter(storage)


def rate_limit(key: str) -> None:
    """Count one request for this credential; 429 with Retry-After past the per-minute rate.

    Without Redis the rate cannot be counted: the request goes on and a warning is logged.
    """
    item = RateLimitItemPerMinute(get_settings().api_rate_per_minute)
    limiter = _limiter(get_settings().redis_url)
    try:
        if limiter.hit(item, "rate", key):
            return
        reset, _remaining = limiter.get_window_stats(item, "rate", key)
    except redis.RedisError as exc:
        log.warning("API rate not counted, Redis is unreachable: %s", exc)
        return
    wait = max(1, math.ceil(reset - time.time()))
    raise HTTPException(
        429,
        f"too many requests: at most {item.amount} a minute per token; retry in {wait} s",
        headers={"Retry-After": str(wait)},
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def current_user(
    request: Request,
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[str | None, Depends(session_cookie)],
) -> accounts.User:
    if token is not None:
        raw = token.credentials.strip()
        user = accounts.user_for_token(raw) if accounts.looks_like_token(raw) else None
        if user is None:
            raise unauthorized("the API token is not valid: it is unknown, revoked or expired")
        rate_limit("token:" + _digest(raw))
        return user
    if request.headers.get("authorization"):
        raise unauthorized("use `Authorization: Bearer <token>` with a Jobboard API token")
    if session:
        user = accounts.user_for_session(session)
        if user is None:
            raise unauthorized("the sign-in session has ended; sign in again")
        rate_limit("session:" + _digest(session))
        return user
    raise unauthorized("not signed in: send `Authorization: Bearer <token>`")


CurrentUser = Annotated[accounts.User, Depends(current_user)]


def stream_user(
    request: Request,
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[str | None, Depends(session_cookie)],
    access_token: Annotated[
        str | None,
        Query(
            description="a stream token from `POST /api/v1/stream-tokens`, for clients that "
            "cannot send a header (only the stream routes accept it)"
        ),
    ] = None,
) -> accounts.User:
    """The caller of an SSE stream: an API token, the sign-in cookie, or a stream token
    that opens this stream (its job, or the user's streams)."""
    if access_token is None:
        return current_user(request, token, session)
    raw = access_token.strip()
    grant = stream_tokens.grant_for(raw)
    if grant is None:
        raise unauthorized(
            "the stream token is not valid: it is unknown or expired; mint a new one"
        )
    if not grant.allows(request.path_params.get("job_id")):
        raise HTTPException(403, "this stream token opens another stream")
    user = accounts.get_user(grant.user_id)
    if user is None or user.disabled_at is not None:
        raise unauthorized("the stream token is not valid any more")
    rate_limit("stream:" + _digest(raw))
    return user


StreamUser = Annotated[accounts.User, Depends(stream_user)]
