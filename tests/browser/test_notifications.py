"""Notifications across pages and tabs, the permission banner and the active-jobs indicator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.conftest import SHOPIFY_SAMPLE, Account
from tests.utils.browser import (
    RECORD_NOTIFICATIONS,
    big_csv,
    notes,
    open_live,
    sign_in_context,
    submit,
)

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="window.__pwned=1">"><script>window.__pwned=2</script>.csv'


@pytest.fixture
def context(browser: Browser, app_url: str, browser_account: Account) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    sign_in_context(ctx, app_url, browser_account.secret)
    ctx.add_init_script(RECORD_NOTIFICATIONS)
    yield ctx
    ctx.close()


def granted(ctx: BrowserContext, app_url: str) -> BrowserContext:
    ctx.grant_permissions(["notifications"], origin=app_url)
    return ctx


def banner(page: Page) -> Locator:
    return page.locator("#notification-banner")


def test_banner_hidden_when_granted(context: BrowserContext, app_url: str) -> None:
    page = granted(context, app_url).new_page()
    open_live(page, f"{app_url}/tasks")
    expect(banner(page)).to_have_attribute("data-permission", "granted")
    expect(banner(page)).to_be_hidden()


def test_banner_default_asks_and_follows_permission_changes(
    context: BrowserContext, app_url: str
) -> None:
    page = context.new_page()
    open_live(page, f"{app_url}/upload")
    expect(banner(page)).to_have_attribute("data-permission", "default")
    expect(banner(page)).to_be_visible()
    expect(banner(page)).to_contain_text("desktop notification")
    expect(page.locator("#notification-enable")).to_be_visible()
    # Allowed elsewhere (site settings): the banner follows without a reload.
    context.grant_permissions(["notifications"], origin=app_url)
    expect(banner(page)).to_have_attribute("data-permission", "granted", timeout=10_000)
    expect(banner(page)).to_be_hidden()


def test_banner_dismissal_is_remembered(context: BrowserContext, app_url: str) -> None:
    page = context.new_page()
    open_live(page, f"{app_url}/tasks")
    expect(banner(page)).to_be_visible()
    page.click("#notification-banner-dismiss")
    expect(banner(page)).to_be_hidden()
    page.reload()
    expect(banner(page)).to_have_attribute("data-permission", "default")
    expect(banner(page)).to_be_hidden()
    open_live(page, f"{app_url}/upload")
    expect(banner(page)).to_be_hidden()


def test_banner_denied_explains_how_to_allow(context: BrowserContext, app_url: str) -> None:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    context_id = cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    cdp.send(
        "Browser.setPermission",
        {
            "permission": {"name": "notifications"},
            "setting": "denied",
            "origin": app_url,
            "browserContextId": context_id,
        },
    )
    open_live(page, f"{app_url}/tasks")
    expect(banner(page)).to_have_attribute("data-permission", "denied")
    expect(banner(page)).to_contain_text("blocked")
    expect(banner(page)).to_contain_text("Site settings")


def test_banner_unsupported_is_shown_once(
    browser: Browser, app_url: str, browser_account: Account
) -> None:
    ctx = sign_in_context(browser.new_context(), app_url, browser_account.secret)
    ctx.add_init_script("delete window.Notification;")
    try:
        page = ctx.new_page()
        page.goto(f"{app_url}/tasks")
        expect(banner(page)).to_have_attribute("data-permission", "unsupported")
        expect(banner(page)).to_be_visible()
        expect(banner(page)).to_contain_text("in the app instead")
        page.reload()
        expect(banner(page)).to_have_attribute("data-permission", "unsupported")
        expect(banner(page)).to_be_hidden()
    finally:
        ctx.close()


def test_badge_counts_active_jobs_live(
    context: BrowserContext, app_url: str, tmp_path: Path
) -> None:
    page = granted(context, app_url).new_page()
    open_live(page, f"{app_url}/products")
    indicator = page.locator("#active-jobs-indicator")
    expect(indicator).to_have_attribute("data-count", "0")
    job_id = submit(big_csv(tmp_path / "badge.csv", 150_000))
    expect(indicator).to_have_attribute("data-count", "1", timeout=10_000)
    indicator.click()
    panel = page.locator("#active-jobs-panel")
    expect(panel.locator(f'[data-job-id="{job_id}"]')).to_be_visible()
    expect(panel).to_contain_text("badge.csv")
    expect(indicator).to_have_attribute("data-count", "0", timeout=60_000)
    expect(panel).to_contain_text("Nothing is running")


def test_one_notification_when_a_job_completes_on_another_page(
    context: BrowserContext, app_url: str, empty_catalog: None
) -> None:
    page = granted(context, app_url).new_page()
    open_live(page, f"{app_url}/products")
    job_id = submit(SHOPIFY_SAMPLE, "shop.csv")
    toast = page.locator("[data-sonner-toast]").filter(has_text="Upload finished")
    expect(toast).to_contain_text("3 products imported from shop.csv")
    page.wait_for_function("(window.__notes || []).length > 0")
    assert notes(page) == [
        {
            "title": "Upload finished",
            "body": "3 products imported from shop.csv",
            "tag": f"jobboard-job-{job_id}",
        }
    ]
    # The products list followed too, and the toast links to the job.
    expect(page.locator('[data-product-key="example-shirt"]')).to_be_visible()
    toast.get_by_role("button", name="Open").click()
    page.wait_for_url(f"**/tasks/{job_id}")
    expect(page.get_by_text("imported 3")).to_be_visible()


def test_two_tabs_get_one_notification(context: BrowserContext, app_url: str) -> None:
    tabs = [granted(context, app_url).new_page() for _ in range(2)]
    open_live(tabs[0], f"{app_url}/tasks")
    open_live(tabs[1], f"{app_url}/settings")
    job_id = submit(SHOPIFY_SAMPLE, "twice.csv")
    for tab in tabs:  # both tabs hear about it in the app…
        expect(tab.locator("[data-sonner-toast]").filter(has_text="twice.csv")).to_be_visible()
    # …but the operating system is told once: one tab shows it, the other stands down.
    tag = f"jobboard-job-{job_id}"
    for tab in tabs:
        tab.wait_for_function("tag => tag in window.jobboard.outcomes", arg=tag)
    outcomes = sorted(tab.evaluate("tag => window.jobboard.outcomes[tag]", tag) for tab in tabs)
    assert outcomes == ["duplicate", "shown"]
    recorded = notes(tabs[0]) + notes(tabs[1])
    assert [n["tag"] for n in recorded] == [tag]


def test_failing_job_gives_error_toast_and_failure_notification(
    context: BrowserContext, app_url: str, tmp_path: Path
) -> None:
    page = granted(context, app_url).new_page()
    open_live(page, f"{app_url}/upload")
    bad = tmp_path / "prices.xlsx"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    submit(bad)
    toast = page.locator("[data-sonner-toast][data-type=error]")
    expect(toast).to_contain_text("Upload failed")
    expect(toast).to_contain_text("prices.xlsx is an Excel workbook")
    page.wait_for_function("(window.__notes || []).length > 0")
    [note] = notes(page)
    assert note["title"] == "Upload failed"
    assert note["body"].startswith("prices.xlsx is an Excel workbook")


def test_hostile_file_name_is_rendered_as_text(
    context: BrowserContext, app_url: str, tmp_path: Path
) -> None:
    page = granted(context, app_url).new_page()
    open_live(page, f"{app_url}/tasks")
    path = tmp_path / "hostile.csv"
    path.write_bytes(SHOPIFY_SAMPLE.read_bytes())
    job_id = submit(path, HOSTILE)
    row = page.locator(f'[data-job-id="{job_id}"]')
    expect(row.locator("[data-field=status]")).to_have_text(re.compile("completed"), timeout=30_000)
    expect(row).to_contain_text(HOSTILE)
    expect(page.locator("[data-sonner-toast]")).to_contain_text(HOSTILE)
    page.wait_for_function("(window.__notes || []).length > 0")
    # "imported", or "already up to date" when an earlier test brought in the same products.
    name = re.escape(HOSTILE)
    assert re.search(
        f"products (imported from {name}|from {name} already up to date)", notes(page)[0]["body"]
    )
    page.click("#active-jobs-indicator")
    page.goto(f"{app_url}/tasks/{job_id}")
    expect(page.get_by_role("heading", name=HOSTILE)).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src=x]").count() == 0
