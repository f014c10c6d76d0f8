"""Helpers for the browser tests: the signed-in browser user, their jobs, notifications, live
pages."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from jobboard.core import accounts, jobs
from jobboard.core.signin import SESSION_COOKIE

# The account the browser tests sign in with (created by the `browser_account` fixture).
BROWSER_EMAIL = "browser-tests@example.test"
BROWSER_PASSWORD = "correct horse battery staple"

# Records every notification the page creates, keeping the real constructor's behaviour.
RECORD_NOTIFICATIONS = """
(() => {
  if (!("Notification" in window)) return;
  const Real = window.Notification;
  window.__notes = [];
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notes.push({ title, body: options && options.body, tag: options && options.tag });
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
})();
"""


@cache
def browser_owner() -> str:
    """The id of the browser tests' user: the owner of what the signed-in pages show."""
    for user in accounts.list_users():
        if user.email == BROWSER_EMAIL:
            return user.id
    raise LookupError("the browser_account fixture has not created the browser user")


def sign_in_context(ctx: BrowserContext, url: str, secret: str) -> BrowserContext:
    """Give a browser context the session cookie the app's sign-in route would set."""
    ctx.add_cookies(
        [{"name": SESSION_COOKIE, "value": secret, "url": url, "httpOnly": True, "sameSite": "Lax"}]
    )
    return ctx


def session_for(user: accounts.User) -> str:
    """A server-side sign-in session for `user`; returns the cookie's secret."""
    return accounts.start_session(user, address="127.0.0.1", user_agent="pytest")


def signed_in_context(browser: Browser, url: str, user: accounts.User, **options) -> BrowserContext:
    return sign_in_context(browser.new_context(**options), url, session_for(user))


def open_live(page: Page, url: str) -> Page:
    """Open a page and wait until it follows job events (jobs that end earlier never notify)."""
    page.goto(url)
    expect(page.locator("#header-slot")).to_have_attribute("data-live", "true")
    return page


def notes(page: Page) -> list[dict]:
    return page.evaluate("window.__notes || []")


def submit(path: Path, title: str | None = None) -> str:
    """Start an upload of `path` as the browser's signed-in user."""
    name = title or path.name
    return jobs.submit(
        "product_upload",
        owner_id=browser_owner(),
        title=name,
        params={"path": str(path), "filename": name},
    ).id


def big_csv(path: Path, rows: int) -> Path:
    with path.open("w") as out:
        out.write("sku,title,price\n")
        out.writelines(f"N-{i},Notify test {i},{i % 50 + 0.25}\n" for i in range(rows))
    return path
