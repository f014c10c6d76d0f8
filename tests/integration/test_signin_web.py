"""Browser sign-in over HTTP (/api/auth/*: the HttpOnly session cookie) and how the Reflex
state resolves it (the per-process cache and its bound)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from jobboard.api import create_api
from jobboard.core import accounts
from jobboard.core.signin import SESSION_COOKIE, cookie_value
from jobboard.state import session as state_session

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: Playwright's sync tests leave an event loop
    running in this one when they ran earlier in the session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


PASSWORD = "a long enough password"


@pytest.fixture
def client(services) -> Iterator[TestClient]:
    with TestClient(create_api(), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def user(services) -> accounts.User:
    return accounts.create_user(f"web-{uuid.uuid4().hex[:8]}@example.test", PASSWORD)


def _set_cookie(response) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if SESSION_COOKIE in h]
    return header


def test_json_sign_in_sets_an_httponly_lax_cookie(client: TestClient, user) -> None:
    answer = client.post(
        "/api/auth/sign-in", json={"email": user.email, "password": PASSWORD, "next": "/products"}
    )
    assert answer.status_code == 200 and answer.json() == {"next": "/products"}
    header = _set_cookie(answer).lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header
    assert "secure" not in header
    secret = cookie_value(answer.headers["set-cookie"])
    assert accounts.user_for_session(secret).id == user.id


def test_cookie_is_secure_behind_https(client: TestClient, user) -> None:
    answer = client.post(
        "/api/auth/sign-in",
        json={"email": user.email, "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert answer.status_code == 200
    assert "secure" in _set_cookie(answer).lower()


@pytest.mark.parametrize(
    "hostile", ["//evil.example", "https://evil.example", "javascript:alert(1)", "/\\evil", 7]
)
def test_hostile_next_becomes_tasks(client: TestClient, user, hostile) -> None:
    answer = client.post(
        "/api/auth/sign-in", json={"email": user.email, "password": PASSWORD, "next": hostile}
    )
    assert answer.json() == {"next": "/tasks"}


def test_form_posts_answer_with_redirects(client: TestClient, user) -> None:
    good = client.post(
        "/api/auth/sign-in", data={"email": user.email, "password": PASSWORD, "next": "/ai"}
    )
    assert good.status_code == 303 and good.headers["location"] == "/ai"
    bad = client.post(
        "/api/auth/sign-in", data={"email": user.email, "password": "wrong!", "next": "/ai"}
    )
    assert bad.status_code == 303
    assert bad.headers["location"].startswith("/sign-in?error=Wrong%20email")
    assert bad.headers["location"].endswith("&next=/ai")
    assert SESSION_COOKIE not in bad.headers.get("set-cookie", "")


def test_cross_site_posts_are_refused(client: TestClient, user) -> None:
    for route in ("sign-in", "sign-up", "sign-out"):
        answer = client.post(
            f"/api/auth/{route}",
            json={"email": user.email, "password": PASSWORD},
            headers={"Origin": "https://evil.example"},
        )
        assert answer.status_code == 403, route
        assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_sign_up_closed_once_users_exist(client: TestClient, user) -> None:
    answer = client.post(
        "/api/auth/sign-up", json={"email": "late@example.test", "password": PASSWORD}
    )
    assert answer.status_code == 403 and "closed" in answer.json()["detail"]


def test_sign_out_ends_the_session_and_clears_the_cookie(client: TestClient, user) -> None:
    secret = accounts.start_session(user, address="", user_agent="")
    client.cookies.set(SESSION_COOKIE, secret)
    answer = client.post("/api/auth/sign-out", json={})
    assert answer.status_code == 200 and answer.json() == {"next": "/sign-in"}
    header = _set_cookie(answer).lower()
    assert "max-age=0" in header and "httponly" in header
    assert accounts.user_for_session(secret) is None


def test_state_cache_is_bounded(services, user, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sign-out reaches the Reflex state within CACHE_SECONDS, at once when asked fresh."""
    secret = accounts.start_session(user, address="", user_agent="")
    assert run_async(state_session.resolve(secret)).id == user.id
    accounts.end_session(secret)
    assert run_async(state_session.resolve(secret)).id == user.id  # still cached
    now = state_session.time.monotonic()
    monkeypatch.setattr(
        state_session.time, "monotonic", lambda: now + state_session.CACHE_SECONDS + 0.01
    )
    assert run_async(state_session.resolve(secret)) is None
    assert run_async(state_session.resolve("")) is None


def test_fresh_lookup_skips_the_cache(services, user) -> None:
    secret = accounts.start_session(user, address="", user_agent="")
    assert run_async(state_session.resolve(secret)).id == user.id
    admin = accounts.create_user(
        f"admin-{uuid.uuid4().hex[:8]}@example.test", PASSWORD, is_admin=True
    )
    accounts.disable_user(admin.id, user.id)
    assert run_async(state_session.resolve(secret, fresh=True)) is None
    assert run_async(state_session.resolve(secret)) is None  # the cache learned it too


def test_live_events_stop_for_a_signed_out_tab(services, user) -> None:
    """Live events reach a tab only while its session still belongs to the job's owner."""
    secret = accounts.start_session(user, address="", user_agent="")
    signed_in = state_session.SignedIn(user.id, user.email, False)
    state_session._by_token["tab-1"] = (signed_in, secret)
    try:
        assert run_async(state_session.still_signed_in("tab-1", user.id))
        assert not run_async(state_session.still_signed_in("tab-1", "someone-else"))
        assert not run_async(state_session.still_signed_in("unknown-tab", user.id))
        accounts.end_session(secret)
        run_async(state_session.resolve(secret, fresh=True))  # as a page load would
        assert not run_async(state_session.still_signed_in("tab-1", user.id))
    finally:
        state_session._by_token.pop("tab-1", None)
