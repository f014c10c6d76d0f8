"""The Tasks list in a real browser: view in the address (reload, back, share), loading state
instead of a false empty one, Newer/Older paging, search, landing after a submit."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from jobboard.core.db import session_scope
from jobboard.core.models import Job, JobStatus, utcnow
from tests.conftest import SHOPIFY_SAMPLE, Account
from tests.utils.browser import browser_owner

pytestmark = pytest.mark.browser

# Watches every DOM change from the first byte: did the page ever claim to be empty?
WATCH_FALSE_EMPTY = """
(() => {
  window.__seen = {falseEmpty: [], loading: false};
  const phrases = ["No jobs here yet", /(^|\\D)0 jobs/];
  const check = () => {
    const text = document.body ? document.body.innerText : "";
    if (document.getElementById("jobs-loading")) window.__seen.loading = true;
    const badge = document.getElementById("active-jobs-indicator");
    if (badge && window.__seen.badgeFirst === undefined) {
      window.__seen.badgeFirst = badge.getAttribute("data-loading") || badge.innerText;
    }
    for (const p of phrases) {
      const hit = typeof p === "string" ? text.includes(p) : p.test(text);
      if (hit && !window.__seen.falseEmpty.includes(String(p))) {
        window.__seen.falseEmpty.push(String(p));
      }
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true,
                                                 characterData: true});
})();
"""


def add_jobs(n: int, title: str, status: str = JobStatus.COMPLETED, **values) -> list[str]:
    """`n` ended jobs of the browser user, one a second apart, newest last."""
    now = utcnow() - timedelta(seconds=n + 5)
    rows = [
        Job(
            id=str(uuid.uuid4()),
            owner_id=browser_owner(),
            kind=values.get("kind", "product_upload"),
            title=f"{title} {i:02d}.csv",
            status=status,
            params={},
            progress_data={"percentage": 100, "current_step": "Completed"},
            created_at=now + timedelta(seconds=i),
        )
        for i in range(n)
    ]
    with session_scope() as session:
        session.add_all(rows)
    return [r.id for r in rows]


def shown_ids(page: Page) -> list[str]:
    return page.locator("#jobs-table [data-job-id]").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-job-id'))"
    )


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_first_paint_shows_loading_not_a_false_empty_state(
    page: Page, app_url: str, browser_account: Account
) -> None:
    add_jobs(3, "first paint")
    page.add_init_script(WATCH_FALSE_EMPTY)
    page.goto(f"{app_url}/tasks")
    expect(page.locator("#jobs-table [data-job-id]").first).to_be_visible(timeout=20_000)
    expect(page.locator("#active-jobs-indicator")).not_to_have_attribute("data-loading", "true")
    seen = page.evaluate("window.__seen")
    assert seen["falseEmpty"] == [], f"the page claimed to be empty first: {seen}"
    assert seen["loading"], "skeleton rows were shown until the snapshot arrived"
    assert seen["badgeFirst"] == "true", "the badge waits for its snapshot, not 'No active jobs'"


def test_filters_and_search_live_in_the_address(
    page: Page, app_url: str, browser_account: Account
) -> None:
    tag = f"addr{uuid.uuid4().hex[:8]}"
    failed = add_jobs(2, f"{tag} broken", status=JobStatus.FAILED)
    done = add_jobs(3, f"{tag} fine")
    page.goto(f"{app_url}/tasks")
    expect(page.locator("#jobs-table")).to_be_visible(timeout=20_000)

    # Search from the box: the address says so, and the list shows only matches.
    page.fill("#tasks-search", tag)
    page.press("#tasks-search", "Enter")
    page.wait_for_url(re.compile(rf".*/tasks/?\?q={tag}$"))
    expect(page.locator("#total-count")).to_have_text("5 jobs")
    assert set(shown_ids(page)) == set(failed + done)

    # A status from the menu joins the search in the address.
    page.locator("#status-filter").click()
    page.get_by_role("option", name="Failed").click()
    page.wait_for_url(re.compile(r".*status=failed.*"))
    assert query_of(page) == {"status": ["failed"], "q": [tag]}
    expect(page.locator("#total-count")).to_have_text("2 jobs")
    assert set(shown_ids(page)) == set(failed)

    # Reload and a shared link keep the view; back returns to the previous one.
    page.reload()
    expect(page.locator("#total-count")).to_have_text("2 jobs", timeout=20_000)
    expect(page.locator("#tasks-search")).to_have_value(tag)
    expect(page.locator("#status-filter")).to_contain_text("Failed")
    page.go_back()
    page.wait_for_url(re.compile(rf".*/tasks/?\?q={tag}$"))
    expect(page.locator("#total-count")).to_have_text("5 jobs")
    expect(page.locator("#status-filter")).to_contain_text("All statuses")

    # Nothing matches: words that say so, and a way out.
    page.goto(f"{app_url}/tasks?q={tag}&kind=export_catalog")
    expect(page.locator("#jobs-empty")).to_contain_text("No jobs match")
    page.locator("#clear-filters").click()
    page.wait_for_url(re.compile(r".*/tasks/?$"))
    expect(page.locator("#tasks-search")).to_have_value("")

    # Hostile addresses and searches: a message or results, never a broken page.
    for hostile in ("?before=garbage&page=9", '?q="*"', "?status=<b>x</b>&kind=rm", "?page=-3"):
        page.goto(f"{app_url}/tasks{hostile}")
        expect(page.locator("#total-count")).to_be_visible(timeout=20_000)
    page.goto(f"{app_url}/tasks?before=garbage&page=9")
    expect(page.locator("#tasks-message")).to_contain_text("not valid")
    expect(page.locator("#page-number")).to_contain_text("Page 1 ")


def test_newer_and_older_pages_by_cursor(
    page: Page, app_url: str, browser_account: Account
) -> None:
    tag = f"pages{uuid.uuid4().hex[:8]}"
    ids = add_jobs(45, tag)[::-1]  # newest first
    page.goto(f"{app_url}/tasks?q={tag}")
    expect(page.locator("#total-count")).to_have_text("45 jobs", timeout=20_000)
    expect(page.locator("#page-number")).to_have_text("Page 1 of 3")
    expect(page.locator("#prev-page")).to_be_disabled()
    assert shown_ids(page) == ids[:20]

    page.locator("#next-page").click()
    expect(page.locator("#page-number")).to_have_text("Page 2 of 3")
    assert query_of(page)["page"] == ["2"] and query_of(page)["before"]
    expect(page.locator(f'[data-job-id="{ids[20]}"]')).to_be_visible()
    assert shown_ids(page) == ids[20:40]
    add_jobs(2, tag)  # new jobs arrive: the pages stay where they were
    page.locator("#next-page").click()
    expect(page.locator("#page-number")).to_have_text("Page 3 of 3")
    expect(page.locator(f'[data-job-id="{ids[40]}"]')).to_be_visible()
    assert shown_ids(page) == ids[40:]
    expect(page.locator("#next-page")).to_be_disabled()

    page.reload()
    expect(page.locator(f'[data-job-id="{ids[40]}"]')).to_be_visible(timeout=20_000)
    assert shown_ids(page) == ids[40:]
    page.locator("#prev-page").click()
    expect(page.locator("#page-number")).to_have_text(re.compile(r"Page 2 of"))
    expect(page.locator(f'[data-job-id="{ids[20]}"]')).to_be_visible()
    assert shown_ids(page) == ids[20:40]
    page.go_back()
    expect(page.locator(f'[data-job-id="{ids[40]}"]')).to_be_visible()


def test_after_an_upload_the_new_job_is_in_view(
    page: Page, app_url: str, browser_account: Account
) -> None:
    add_jobs(1, "cancelled before", status=JobStatus.CANCELLED)
    page.goto(f"{app_url}/tasks?status=cancelled")
    expect(page.locator("#status-filter")).to_contain_text("Cancelled", timeout=20_000)
    page.goto(f"{app_url}/upload")
    page.locator("#product-upload input[type=file]").set_input_files(str(SHOPIFY_SAMPLE))
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r".*/tasks/?$"))
    expect(page.locator("#status-filter")).to_contain_text("All statuses")
    row = page.locator("[data-job-id]").filter(has_text="shopify_product_template.csv").first
    expect(row).to_be_visible(timeout=10_000)
