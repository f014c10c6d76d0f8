"""With the Content-Security-Policy on, every page renders, connects and stays live."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.conftest import SHOPIFY_SAMPLE, Account
from tests.utils.browser import sign_in_context

pytestmark = pytest.mark.browser

# The browser reports each blocked script, style or connection as a `securitypolicyviolation`
# event (recorded here) and as a console error naming the Content Security Policy.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""
PAGES = ["/", "/tasks", "/history", "/upload", "/ai", "/products", "/settings"]


@pytest.fixture
def context(browser: Browser, app_url: str, browser_account: Account) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.add_init_script(RECORD_VIOLATIONS)
    port = urlsplit(app_url).port
    for host in ("localhost", "127.0.0.1"):  # a cookie belongs to one host name
        sign_in_context(ctx, f"http://{host}:{port}", browser_account.secret)
    yield ctx
    ctx.close()


def watch_console(page: Page) -> list[str]:
    seen: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            seen.append(msg.text)

    page.on("console", on_console)
    return seen


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_every_page_renders_and_connects_without_a_csp_violation(
    context: BrowserContext, app_url: str, host: str
) -> None:
    base = f"http://{host}:{urlsplit(app_url).port}"
    page = context.new_page()
    console = watch_console(page)
    for path in PAGES:
        response = page.goto(base + path)
        assert response is not None and response.ok
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert page.evaluate("window.__csp") == [], (path, page.evaluate("window.__csp"))
        if path == "/":  # redirected to Tasks by an event, over the websocket
            page.wait_for_url(re.compile(r".*/tasks/?$"), timeout=15_000)
        # The header's live marker: the page's websocket is connected and follows job events.
        expect(page.locator("#header-slot")).to_have_attribute("data-live", "true", timeout=15_000)
        assert page.evaluate("window.__csp") == [], (path, page.evaluate("window.__csp"))
    assert console == []


def test_tasks_page_updates_live_under_the_csp(
    context: BrowserContext, app_url: str, empty_catalog: None
) -> None:
    page = context.new_page()
    console = watch_console(page)
    page.goto(f"{app_url}/upload")
    page.locator("#product-upload input[type=file]").set_input_files(str(SHOPIFY_SAMPLE))
    expect(page.locator("#selected-file")).to_contain_text("shopify_product_template.csv")
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r".*/tasks/?$"))
    row = page.locator("[data-job-id]").filter(has_text="shopify_product_template.csv").first
    expect(row).to_be_visible(timeout=5000)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    expect(row.locator("[data-field=status]")).to_have_text(
        re.compile("completed", re.I), timeout=30_000
    )
    expect(row.locator("[data-field=percentage]")).to_have_text("100 %")
    assert navigations == [], "the row must update live, not by reloading"
    job_id = row.get_attribute("data-job-id")
    page.click(f'[data-job-id="{job_id}"] a')
    page.wait_for_url(f"**/tasks/{job_id}")
    expect(page.get_by_text("imported 3")).to_be_visible()
    assert page.evaluate("window.__csp") == []
    assert console == []
