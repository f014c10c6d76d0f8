"""Identities in the browser: sign-up of the first user, sign-in/out, `next`, isolation between
users, API tokens in Settings, and pages without a session doing nothing."""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import delete, insert, select

from jobboard.core import accounts, jobs
from jobboard.core.db import session_scope
from jobboard.core.signin import SESSION_COOKIE, safe_next
from tests.conftest import Account
from tests.utils.browser import big_csv, session_for, signed_in_context

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"


def at(path: str, next_: str = "") -> re.Pattern[str]:
    """The app's URL of `path` (the production build may add a trailing slash), optionally with
    ?next=<next_>."""
    query = ""
    if next_:
        query = r"\?next=" + re.escape(next_).replace("/", "(?:/|%2F)") + "(?:/|%2F)?"
    return re.compile(r"^https?://[^/]+" + re.escape(path) + "/?" + query + "$")


def new_user(tag: str) -> accounts.User:
    return accounts.create_user(f"{tag}-{secrets.token_hex(4)}@example.test", PASSWORD)


@pytest.fixture
def visitor(browser: Browser, app_url: str) -> Iterator[BrowserContext]:
    """A browser with no session cookie."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


def sign_in(page: Page, email: str, password: str) -> None:
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#auth-submit").click()


@contextlib.contextmanager
def no_users() -> Iterator[None]:
    """A fresh install for the duration: accounts and sessions are set aside, then restored
    (and whatever was created meanwhile removed)."""
    tables = (accounts.SignInSession.__table__, accounts.User.__table__)
    with session_scope() as session:
        saved = {t.name: [dict(r._mapping) for r in session.execute(select(t))] for t in tables}
        for table in tables:
            session.execute(delete(table))
    try:
        yield
    finally:
        with session_scope() as session:
            for table in tables:
                session.execute(delete(table))
            for table in reversed(tables):
                if saved[table.name]:
                    session.execute(insert(table), saved[table.name])


def test_fresh_install_leads_to_creating_the_administrator(
    visitor: BrowserContext, app_url: str
) -> None:
    page = visitor.new_page()
    with no_users():
        page.goto(f"{app_url}/products")
        expect(page).to_have_url(at("/sign-up"))
        expect(page.locator("#auth-title")).to_have_text("Create the administrator account")
        page.screenshot(path="/tmp/g/sign-up-first.png")
        page.locator("#email").fill("  Admin@Example.test ")
        page.locator("#password").fill(PASSWORD)
        page.locator("#confirm").fill(PASSWORD + "x")
        page.locator("#auth-submit").click()
        expect(page.locator("#auth-error")).to_have_text("The two passwords differ.")
        page.locator("#confirm").fill(PASSWORD)
        page.locator("#auth-submit").click()
        expect(page).to_have_url(at("/tasks"))
        expect(page.locator("#account-email")).to_have_text("admin@example.test")
        [admin] = accounts.list_users()
        assert admin.is_admin and admin.email == "admin@example.test"


def test_sign_up_is_closed_once_someone_can_sign_in(
    visitor: BrowserContext, app_url: str, browser_account: Account
) -> None:
    page = visitor.new_page()
    page.goto(f"{app_url}/sign-up")
    expect(page.locator("#auth-title")).to_have_text("Sign-up is closed")
    expect(page.locator("#signup-closed")).to_be_visible()
    page.screenshot(path="/tmp/g/sign-up-closed.png")
    answer = page.request.post(
        f"{app_url}/api/auth/sign-up",
        data={"email": "late@example.test", "password": PASSWORD},
        headers={"Origin": app_url},
    )
    assert answer.status == 403
    assert "closed" in answer.json()["detail"]


def test_sign_in_returns_to_next_and_sign_out_ends_the_session(
    visitor: BrowserContext, app_url: str
) -> None:
    user = new_user("walker")
    page = visitor.new_page()
    page.goto(f"{app_url}/products")
    expect(page).to_have_url(at("/sign-in", "/products"))
    sign_in(page, user.email, "not the password")
    expect(page.locator("#auth-error")).to_have_text("Wrong email or password.")
    page.screenshot(path="/tmp/g/sign-in-error.png")
    sign_in(page, user.email.upper(), PASSWORD)
    expect(page).to_have_url(at("/products"))
    expect(page.locator("#account-email")).to_have_text(user.email)
    page.screenshot(path="/tmp/g/header.png")

    [cookie] = [c for c in visitor.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert page.evaluate("document.cookie").find(SESSION_COOKIE) == -1
    assert accounts.user_for_session(cookie["value"]).id == user.id

    other_tab = visitor.new_page()
    other_tab.goto(f"{app_url}/tasks")
    expect(other_tab.locator("#account-email")).to_have_text(user.email)

    page.locator("#sign-out").click()
    expect(page).to_have_url(at("/sign-in"))
    assert accounts.user_for_session(cookie["value"]) is None
    assert not [c for c in visitor.cookies() if c["name"] == SESSION_COOKIE]
    other_tab.reload()
    expect(other_tab).to_have_url(at("/sign-in", "/tasks"))


@pytest.mark.parametrize(
    "hostile", ["//evil.example", "https://evil.example", "javascript:alert(1)", "/\\evil.example"]
)
def test_hostile_next_stays_on_site(visitor: BrowserContext, app_url: str, hostile: str) -> None:
    user = new_user("next")
    page = visitor.new_page()
    page.goto(f"{app_url}/sign-in?next={quote(hostile, safe='')}")
    sign_in(page, user.email, PASSWORD)
    expect(page).to_have_url(at("/tasks"))


def test_next_values() -> None:
    assert safe_next("/tasks/abc?x=1") == "/tasks/abc?x=1"
    for bad in ("//evil", "https://e", "javascript:x", "/\\e", "", None, "tasks", "/a\nb"):
        assert safe_next(bad) == "/tasks"
    assert safe_next("/sign-in?next=/x") == "/tasks"


def test_sign_in_is_throttled_with_retry_after(visitor: BrowserContext, app_url: str) -> None:
    email = f"nobody-{secrets.token_hex(4)}@example.test"
    statuses = []
    for _ in range(6):
        answer = visitor.request.post(
            f"{app_url}/api/auth/sign-in", data={"email": email, "password": "wrong password"}
        )
        statuses.append(answer.status)
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert int(answer.headers["retry-after"]) >= 1
    assert answer.json()["detail"].startswith("Too many failed sign-ins")


def test_cross_site_sign_in_is_refused(visitor: BrowserContext, app_url: str) -> None:
    answer = visitor.request.post(
        f"{app_url}/api/auth/sign-in",
        form={"email": "x@example.test", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
        max_redirects=0,
    )
    assert answer.status == 303 and "error=" in answer.headers["location"]
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_two_users_see_only_their_own_jobs(browser: Browser, app_url: str, tmp_path: Path) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    ctx_a = signed_in_context(browser, app_url, alice)
    ctx_b = signed_in_context(browser, app_url, bob)
    try:
        page_a, page_b = ctx_a.new_page(), ctx_b.new_page()
        page_a.goto(f"{app_url}/tasks")
        page_b.goto(f"{app_url}/tasks")
        expect(page_a.locator("#account-email")).to_have_text(alice.email)
        expect(page_b.locator("#total-count")).to_have_text("0 jobs")
        path = big_csv(tmp_path / "alice.csv", 30_000)
        job_a = jobs.submit(
            "product_upload",
            owner_id=alice.id,
            title="alice.csv",
            params={"path": str(path), "filename": "alice.csv"},
        )
        row_a = page_a.locator(f'[data-job-id="{job_a.id}"]')
        expect(page_a.locator("#active-jobs-indicator")).to_have_attribute("data-count", "1")
        expect(page_b.locator("#active-jobs-indicator")).to_have_attribute("data-count", "0")
        expect(row_a.locator("[data-field=status]")).to_have_text("completed", timeout=90_000)
        # Bob's tab was open all along: none of Alice's events reached it.
        expect(page_b.locator("#total-count")).to_have_text("0 jobs")
        expect(page_b.locator(f'[data-job-id="{job_a.id}"]')).to_have_count(0)
        page_b.goto(f"{app_url}/tasks/{job_a.id}")
        expect(page_b.get_by_text("No such job, or it is not yours.")).to_be_visible()
        page_a.goto(f"{app_url}/tasks/{job_a.id}")
        expect(page_a.get_by_text("No such job, or it is not yours.")).to_have_count(0)
        expect(page_a.get_by_text("alice.csv").first).to_be_visible()
    finally:
        ctx_a.close()
        ctx_b.close()


def test_api_token_is_shown_once_and_revoked(browser: Browser, app_url: str) -> None:
    user = new_user("tokens")
    ctx = signed_in_context(browser, app_url, user, viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        page.goto(f"{app_url}/settings")
        expect(page.locator("#token-list-empty")).to_be_visible()
        expect(page.locator("#users")).to_have_count(0)  # not an administrator
        page.locator("#token-name").fill("nightly export")
        page.locator("#token-days").fill("0")
        page.locator("#create-token").click()
        expect(page.locator("#token-error")).to_contain_text("number of days")
        page.locator("#token-name").fill("nightly export")
        page.locator("#token-days").fill("7")
        page.locator("#create-token").click()
        expect(page.locator("#new-token")).to_have_text(re.compile(r"^jb_\w{36}$"))
        raw = page.locator("#new-token").inner_text()
        assert accounts.user_for_token(raw).id == user.id
        row = page.locator('.token-row[data-token-name="nightly export"]')
        expect(row).to_contain_text(raw[:9])
        expect(row).to_contain_text("active")
        page.locator("#api-tokens").screenshot(path="/tmp/g/settings-tokens.png")
        page.reload()
        expect(row).to_contain_text("active")
        expect(page.locator("#new-token")).to_have_count(0)
        assert raw not in page.content()
        row.locator(".revoke-token").click()
        expect(row).to_contain_text("revoked")
        assert accounts.user_for_token(raw) is None
    finally:
        ctx.close()


def test_admin_lists_creates_and_disables_users(
    page: Page, app_url: str, browser_account: Account
) -> None:
    page.goto(f"{app_url}/settings")
    expect(page.locator(f'.user-row[data-email="{browser_account.user.email}"]')).to_contain_text(
        "(you)"
    )
    email = f"invited-{secrets.token_hex(4)}@example.test"
    page.locator("#new-user-email").fill(email)
    page.locator("#new-user-password").fill(PASSWORD)
    page.locator("#create-user").click()
    expect(page.locator("#user-message")).to_contain_text(email)
    row = page.locator(f'.user-row[data-email="{email}"]')
    expect(row).to_contain_text("never")
    page.locator("#users").screenshot(path="/tmp/g/settings-users.png")
    invited = next(u for u in accounts.list_users() if u.email == email)
    secret = accounts.start_session(invited, address="", user_agent="")
    row.locator(".disable-user").click()
    expect(row).to_contain_text("disabled")
    assert accounts.user_for_session(secret) is None


def test_a_page_without_a_session_does_nothing(visitor: BrowserContext, app_url: str) -> None:
    forged = visitor
    forged.add_cookies([{"name": SESSION_COOKIE, "value": "forged", "url": app_url}])
    page = forged.new_page()
    page.goto(f"{app_url}/settings")
    expect(page).to_have_url(at("/sign-in", "/settings"))
    # None of its on_load events loaded anything: no account, no tokens were shown.
    expect(page.locator("#account-email")).to_have_count(0)
    expect(page.locator("#auth-title")).to_have_text("Sign in")


def test_another_account_in_the_same_tab_starts_afresh(browser: Browser, app_url: str) -> None:
    """Someone else signs in in this browser (another tab): this tab, reloaded, is theirs and
    runs on a new Reflex session, not on the state the first account left behind."""
    first, second = new_user("first"), new_user("second")
    ctx = signed_in_context(browser, app_url, first)
    try:
        page = ctx.new_page()
        page.goto(f"{app_url}/tasks")
        expect(page.locator("#account-email")).to_have_text(first.email)
        token = page.evaluate("window.sessionStorage.getItem('token')")
        ctx.add_cookies([{"name": SESSION_COOKIE, "value": session_for(second), "url": app_url}])
        page.reload()
        expect(page.locator("#account-email")).to_have_text(second.email)
        expect(page.locator("#total-count")).to_have_text("0 jobs")
        assert page.evaluate("window.sessionStorage.getItem('token')") != token
    finally:
        ctx.close()
