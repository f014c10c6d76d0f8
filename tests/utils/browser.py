"""Helpers for the browser tests: jobs of the app's user, notifications, live pages."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from jobboard.core import jobs
from jobboard.core.settings import get_settings

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


def open_live(page: Page, url: str) -> Page:
    """Open a page and wait until it follows job events (jobs that end earlier never notify)."""
    page.goto(url)
    expect(page.locator("#header-slot")).to_have_attribute("data-live", "true")
    return page


def notes(page: Page) -> list[dict]:
    return page.evaluate("window.__notes || []")


def submit(path: Path, title: str | None = None) -> str:
    """Start an upload of `path` as the browser's user (the app's local user)."""
    name = title or path.name
    return jobs.submit(
        "product_upload",
        owner_id=get_settings().local_user,
        title=name,
        params={"path": str(path), "filename": name},
    ).id


def big_csv(path: Path, rows: int) -> Path:
    with path.open("w") as out:
        out.write("sku,title,price\n")
        out.writelines(f"N-{i},Notify test {i},{i % 50 + 0.25}\n" for i in range(rows))
    return path
