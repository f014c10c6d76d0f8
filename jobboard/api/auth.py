"""Sign-in, sign-up and sign-out over HTTP: the only places the session cookie is set or cleared.

The cookie `jobboard_session` is HttpOnly and SameSite=Lax (Secure over https), so page scripts
never read it and other sites' forms never send it. Each route takes a form post (answers with a
303 redirect) or JSON (answers `{"next": ...}` or `{"detail": ...}`).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from jobboard.core import accounts
from jobboard.core.signin import SESSION_COOKIE, cookie_value, safe_next

router = APIRouter(prefix="/api/auth", tags=["auth"], include_in_schema=False)

COOKIE_MAX_AGE = 30 * 24 * 3600  # the server session lasts 30 days (start_session's default)


def _is_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _same_origin(request: Request) -> bool:
    """Refuse cross-site posts: a browser always sends Origin on a cross-site POST, and it must
    name this host (a proxy in front must pass the Host header through). No Origin at all is a
    non-browser client, which has no cookies to abuse."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").strip().lower()


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


async def _payload(request: Request) -> tuple[dict[str, Any], bool]:
    """The submitted fields and whether the caller wants JSON back."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            data = {}
        return (data if isinstance(data, dict) else {}), True
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}, False


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def _answer(wants_json: bool, to: str, status: int = 200, **extra: Any) -> Response:
    if wants_json:
        return JSONResponse({"next": to, **extra}, status_code=status)
    return RedirectResponse(to, status_code=303)


def _refuse(wants_json: bool, page: str, nxt: str, message: str, status: int) -> Response:
    if wants_json:
        return JSONResponse({"detail": message}, status_code=status)
    query = f"?error={quote(message)}" + (f"&next={quote(nxt, safe='/')}" if nxt else "")
    return RedirectResponse(page + query, status_code=303)


def _set_cookie(response: Response, request: Request, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_is_https(request),
    )


async def _start(request: Request, user: accounts.User, nxt: str, wants_json: bool) -> Response:
    secret = await asyncio.to_thread(
        accounts.start_session,
        user,
        address=_address(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    response = _answer(wants_json, nxt)
    _set_cookie(response, request, secret)
    return response


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    data, wants_json = await _payload(request)
    nxt = safe_next(_text(data, "next"))
    if not _same_origin(request):
        return _refuse(wants_json, "/sign-in", nxt, "Sign in from Jobboard's own page.", 403)
    try:
        user = await asyncio.to_thread(
            accounts.authenticate,
            _text(data, "email"),
            _text(data, "password"),
            address=_address(request),
        )
    except accounts.SignInThrottled as exc:
        response = _refuse(wants_json, "/sign-in", nxt, str(exc), 429)
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except accounts.AccountError as exc:
        return _refuse(wants_json, "/sign-in", nxt, str(exc), 401)
    return await _start(request, user, nxt, wants_json)


@router.post("/sign-up")
async def sign_up(request: Request) -> Response:
    data, wants_json = await _payload(request)
    nxt = safe_next(_text(data, "next"))
    if not _same_origin(request):
        return _refuse(wants_json, "/sign-up", nxt, "Sign up from Jobboard's own page.", 403)
    if not await asyncio.to_thread(accounts.signup_allowed):
        message = "Sign-up is closed. Ask an administrator for an account."
        return _refuse(wants_json, "/sign-up", nxt, message, 403)
    password = _text(data, "password")
    confirm = data.get("confirm")
    if isinstance(confirm, str) and confirm != password:
        return _refuse(wants_json, "/sign-up", nxt, "The two passwords differ.", 400)
    try:
        user = await asyncio.to_thread(accounts.create_user, _text(data, "email"), password)
    except accounts.AccountError as exc:
        return _refuse(wants_json, "/sign-up", nxt, str(exc), 400)
    return await _start(request, user, nxt, wants_json)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    _, wants_json = await _payload(request)
    if not _same_origin(request):
        return _refuse(wants_json, "/tasks", "", "Sign out from Jobboard's own page.", 403)
    secret = cookie_value(request.headers.get("cookie", ""))
    if secret:
        await asyncio.to_thread(accounts.end_session, secret)
    response = _answer(wants_json, "/sign-in")
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_is_https(request)
    )
    return response
