"""Any screen, any user: axe-core on every page, the phone-sized menu, no nested controls."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from jobboard.core import accounts, jobs
from jobboard.core.products import upsert_products
from tests.conftest import SHOPIFY_SAMPLE, Account, ProductRec, wait_for
from tests.utils.browser import browser_owner, open_live, sign_in_context, submit

pytestmark = pytest.mark.browser

AXE = Axe()
BLOCKING = ("serious", "critical")
PHONE = {"width": 390, "height": 844}
NAV_TARGETS = ("/upload", "/tasks", "/products", "/ai", "/settings")
# What can take a click or the keyboard on its own; nesting one in another makes two tab stops
# (or one unreachable control) and confuses screen readers.
INTERACTIVE = (
    "a[href], button, input:not([type=hidden]), select, textarea, summary, "
    "[role=button], [role=link], [role=checkbox], [role=radio], [role=switch], "
    "[role=combobox], [role=menuitem], [role=tab]"
)
NESTED_INTERACTIVE = f"""
() => {{
  const sel = {INTERACTIVE!r};
  const out = [];
  for (const el of document.querySelectorAll(sel)) {{
    const outer = el.parentElement && el.parentElement.closest(sel);
    if (outer) out.push(outer.outerHTML.slice(0, 160) + "  >>  " + el.outerHTML.slice(0, 160));
  }}
  return out;
}}
"""


def blocking_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, one readable line per node."""
    results = AXE.run(page)
    lines = []
    for v in results.response["violations"]:
        if v["impact"] in BLOCKING:
            for node in v["nodes"]:
                why = " ".join((node.get("failureSummary") or "").split())[:300]
                lines.append(f"[{v['impact']}] {v['id']}: {node['target']} — {why}")
    return lines


def done(job_id: str) -> bool:
    job = jobs.get_job(job_id, browser_owner())
    return bool(job and job["status"] in ("completed", "failed", "cancelled"))


@pytest.fixture(scope="module")
def realistic(browser_account: Account, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A user with a catalog, finished jobs (one with skipped rows, one failed) and a token."""
    folder = tmp_path_factory.mktemp("a11y")
    upsert_products(
        browser_owner(),
        [
            ProductRec(
                f"Product {i}",
                sku=f"A11Y-{i}",
                vendor="Acme",
                product_type="Shirts",
                price=9.5 + i,
                tags=["summer"],
            )
            for i in range(30)
        ],
    )
    partial = folder / "with-bad-rows.csv"
    partial.write_text("sku,title,price\nA-1,Good row,3.5\nA-2,,oops\nA-3,Another,4\n")
    bad = folder / "prices.csv"
    bad.write_text("colour,size\nred,XL\n")
    ids = {
        "sample": submit(SHOPIFY_SAMPLE, "shop.csv"),
        "partial": submit(partial),
        "bad": submit(bad),
    }
    for job_id in ids.values():
        wait_for(lambda job_id=job_id: done(job_id), timeout=60, what="the seeded jobs to end")
    if not accounts.list_api_tokens(browser_account.id):
        accounts.create_api_token(browser_account.id, "nightly export")
    return ids


def _pages(app_url: str, ids: dict) -> dict[str, str]:
    return {
        "tasks": f"{app_url}/tasks",
        "upload": f"{app_url}/upload",
        "products": f"{app_url}/products",
        "ai": f"{app_url}/ai",
        "settings": f"{app_url}/settings",
        "webhooks": f"{app_url}/settings/webhooks",
        "job": f"{app_url}/tasks/{ids['partial']}",
    }


READY = {
    "tasks": "#jobs-table",
    "upload": "#upload-submit",
    "products": "#products-table",
    "ai": "#start-duplicates",
    "settings": "#token-list",
    "webhooks": "#create-webhook",
    "job": "[data-count=imported]",
}


@pytest.mark.parametrize("name", list(READY))
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_axe_signed_in_pages(
    browser: Browser,
    app_url: str,
    browser_account: Account,
    realistic: dict,
    name: str,
    viewport: str,
) -> None:
    size = PHONE if viewport == "phone" else {"width": 1280, "height": 800}
    ctx = sign_in_context(browser.new_context(viewport=size), app_url, browser_account.secret)
    try:
        page = ctx.new_page()
        open_live(page, _pages(app_url, realistic)[name])
        expect(page.locator(READY[name]).first).to_be_visible()
        if name == "ai":  # the shared catalog table, with a selection and its controls shown
            table = page.locator("#products-table")
            expect(table.locator("tbody tr").first).to_be_visible()
            # The header's box on a wide screen; on a phone (stacked cards) the bar's own.
            shown, hidden = ("#select-page-phone", "#select-page")
            if viewport == "desktop":
                shown, hidden = hidden, shown
            expect(page.locator(hidden)).to_be_hidden()
            page.locator(shown).click()
            expect(page.locator("#selection-count")).to_contain_text("25 selected")
            expect(page.locator("#select-all-matching")).to_be_visible()
            expect(page.locator("#clear-selection")).to_be_visible()
        found = blocking_violations(page)
        assert not found, f"{name} ({viewport}):\n" + "\n".join(found)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} is {width} px wide on a {size['width']} px screen"
        assert page.locator("h1").count() == 1, f"{name}: exactly one h1"
        for landmark in ("header", "nav", "main"):
            assert page.locator(landmark).count() >= 1, f"{name}: no <{landmark}>"
    finally:
        ctx.close()


@pytest.mark.parametrize("route", ["/sign-in", "/sign-up"])
def test_axe_public_pages(browser: Browser, app_url: str, route: str) -> None:
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(app_url + route)
        expect(page.locator("#auth-title")).to_be_visible()
        expect(page.locator("#auth-title")).not_to_have_text("")
        found = blocking_violations(page)
        assert not found, f"{route}:\n" + "\n".join(found)
        assert page.locator("h1").count() == 1
        assert page.locator("main").count() == 1
    finally:
        ctx.close()


def test_no_interactive_element_inside_another(
    browser: Browser, app_url: str, browser_account: Account, realistic: dict, tmp_path: Path
) -> None:
    ctx = sign_in_context(browser.new_context(), app_url, browser_account.secret)
    try:
        page = ctx.new_page()
        for name, url in _pages(app_url, realistic).items():
            open_live(page, url)
            expect(page.locator(READY[name]).first).to_be_visible()
            nested = page.evaluate(NESTED_INTERACTIVE)
            assert not nested, f"{name}:\n" + "\n".join(nested)
        # The active-jobs panel with a running job: its Cancel is a control of its own.
        page.goto(f"{app_url}/products")
        rows = tmp_path / "long.csv"
        with rows.open("w") as out:
            out.write("sku,title,price\n")
            out.writelines(f"L-{i},Long {i},1\n" for i in range(150_000))
        job_id = submit(rows)
        indicator = page.locator("#active-jobs-indicator")
        expect(indicator).to_have_attribute("data-count", re.compile("[1-9]"), timeout=20_000)
        indicator.click()
        panel = page.locator("#active-jobs-panel")
        expect(panel.locator(f'[data-job-id="{job_id}"]')).to_be_visible()
        assert not page.evaluate(NESTED_INTERACTIVE)
        cancel = panel.locator(f'[data-job-id="{job_id}"] [data-action=cancel]')
        link = panel.locator(f'[data-job-id="{job_id}"] a[href="/tasks/{job_id}"]')
        expect(link).to_be_visible()
        cancel.click()
        wait_for(lambda: done(job_id), timeout=30, what="the cancelled job to end")
    finally:
        ctx.close()


def test_phone_menu_reaches_every_control(
    browser: Browser, app_url: str, browser_account: Account, realistic: dict
) -> None:
    ctx = sign_in_context(browser.new_context(viewport=PHONE), app_url, browser_account.secret)
    try:
        page = ctx.new_page()
        open_live(page, f"{app_url}/tasks")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width} px wide on a 390 px screen"
        # The active-jobs indicator stays in the bar, on screen.
        indicator = page.locator("#active-jobs-indicator")
        expect(indicator).to_be_in_viewport()
        indicator.click()
        expect(page.locator("#active-jobs-panel")).to_be_visible()
        page.keyboard.press("Escape")
        toggle = page.locator("#menu-toggle")
        for target in NAV_TARGETS:
            expect(toggle).to_have_attribute("aria-expanded", "false")
            expect(page.locator(f'#site-menu a[href="{target}"]')).to_be_hidden()
            toggle.click()
            expect(toggle).to_have_attribute("aria-expanded", "true")
            link = page.locator(f'#site-menu a[href="{target}"]')
            expect(link).to_be_in_viewport()
            expect(page.locator("#sign-out")).to_be_in_viewport()
            expect(page.locator("#account-email")).to_be_in_viewport()
            link.click()
            page.wait_for_url(f"**{target}")
            expect(page.locator("#header-slot")).to_have_attribute("data-live", "true")
            expect(page.locator("h1")).to_be_visible()
            expect(page.locator("#menu-toggle")).to_be_in_viewport()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{target} is {width} px wide on a 390 px screen"
        # Keyboard: the menu opens with Enter and closes with Escape, focus back on the toggle.
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Escape")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        page.wait_for_function(
            "document.activeElement && document.activeElement.id === 'menu-toggle'"
        )
    finally:
        ctx.close()


def test_desktop_header_has_no_menu_button(
    browser: Browser, app_url: str, browser_account: Account
) -> None:
    ctx = sign_in_context(
        browser.new_context(viewport={"width": 1280, "height": 800}),
        app_url,
        browser_account.secret,
    )
    try:
        page = ctx.new_page()
        open_live(page, f"{app_url}/tasks")
        expect(page.locator("#menu-toggle")).to_be_hidden()
        for target in NAV_TARGETS:
            expect(page.locator(f'#site-menu a[href="{target}"]')).to_be_in_viewport()
        expect(page.locator("#sign-out")).to_be_in_viewport()
    finally:
        ctx.close()


OVERLAPS = """
(toast) => {
  const box = toast.getBoundingClientRect();
  const hit = (r) => r.width > 0 && r.height > 0 && r.left < box.right && r.right > box.left &&
    r.top < box.bottom && r.bottom > box.top;
  return Array.from(document.querySelectorAll(SELECTOR))
    .filter((el) => !el.closest("[data-sonner-toaster]") && hit(el.getBoundingClientRect()))
    .map((el) => el.outerHTML.slice(0, 120));
}
"""


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_toast_covers_no_control_at_the_end_of_a_page(
    browser: Browser, app_url: str, browser_account: Account, realistic: dict, viewport: str
) -> None:
    """Pages keep room under their content, so the pager and the last rows can always be
    scrolled clear of the toasts (bottom right; full width on a phone)."""
    size = PHONE if viewport == "phone" else {"width": 1280, "height": 800}
    ctx = sign_in_context(browser.new_context(viewport=size), app_url, browser_account.secret)
    try:
        page = ctx.new_page()
        for i in range(12):  # enough rows for the Tasks page to scroll
            submit(SHOPIFY_SAMPLE, f"toast-{viewport}-{i}.csv")
        open_live(page, f"{app_url}/tasks")
        expect(page.locator("#next-page")).to_be_visible()
        submit(SHOPIFY_SAMPLE, f"toast-{viewport}.csv")
        toast = page.locator("[data-sonner-toast]").filter(has_text=f"toast-{viewport}.csv")
        expect(toast).to_be_visible(timeout=30_000)
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        expect(page.locator("#next-page")).to_be_in_viewport()
        covered = toast.evaluate(OVERLAPS.replace("SELECTOR", repr(INTERACTIVE)))
        assert not covered, "the toast covers:\n" + "\n".join(covered)
        found = blocking_violations(page)  # the toast's own colours and buttons too
        assert not found, "\n".join(found)
    finally:
        ctx.close()


def test_toast_offers_open_only_away_from_the_job_page(
    browser: Browser, app_url: str, browser_account: Account, tmp_path: Path
) -> None:
    ctx = sign_in_context(browser.new_context(), app_url, browser_account.secret)
    try:
        page = ctx.new_page()
        rows = tmp_path / "watched.csv"
        with rows.open("w") as out:
            out.write("sku,title,price\n")
            out.writelines(f"W-{i},Watched {i},1\n" for i in range(100_000))
        job_id = submit(rows)
        open_live(page, f"{app_url}/tasks/{job_id}")
        toast = page.locator("[data-sonner-toast]").filter(has_text="watched.csv")
        expect(toast).to_be_visible(timeout=60_000)
        expect(toast.get_by_role("button", name="Close toast")).to_be_visible()
        expect(toast.get_by_role("button", name="Open")).to_have_count(0)
        # Elsewhere the same kind of toast offers the way to the job.
        open_live(page, f"{app_url}/products")
        other = submit(SHOPIFY_SAMPLE, "elsewhere.csv")
        toast = page.locator("[data-sonner-toast]").filter(has_text="elsewhere.csv")
        toast.get_by_role("button", name="Open").click()
        page.wait_for_url(f"**/tasks/{other}")
    finally:
        ctx.close()


# A card's parts, read in the page: its box, which cells show (and with which name before the
# value), and whether each control in it can be hit where it is drawn.
CARD = """
(row) => {
  const box = row.getBoundingClientRect();
  const cells = Array.from(row.children).map((c) => {
    const r = c.getBoundingClientRect();
    return {
      col: c.dataset.col, label: c.dataset.label, shown: r.width > 0 && r.height > 0,
      name: getComputedStyle(c, "::before").content, text: c.textContent.trim(),
    };
  });
  const controls = Array.from(row.querySelectorAll(SELECTOR)).map((el) => {
    el.scrollIntoView({ block: "center" });
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    const rb = row.getBoundingClientRect();
    return {
      html: el.outerHTML.slice(0, 100), hit: !!hit && (hit === el || el.contains(hit)),
      inside: r.left >= rb.left && r.right <= rb.right && r.top >= rb.top &&
        r.bottom <= rb.bottom && r.right <= window.innerWidth,
    };
  });
  return { height: box.height, display: getComputedStyle(row).display, cells, controls };
}
""".replace("SELECTOR", repr(INTERACTIVE))
# At 390 px a table row was one labelled line per column (a product card 318 px tall, under
# three to a screen); a compact card keeps several on screen.
CARD_MAX_HEIGHT = {"#products-table": 140, "#jobs-table": 200}


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_tables_become_compact_cards_on_a_phone(
    browser: Browser, app_url: str, browser_account: Account, realistic: dict, viewport: str
) -> None:
    size = PHONE if viewport == "phone" else {"width": 1280, "height": 800}
    ctx = sign_in_context(browser.new_context(viewport=size), app_url, browser_account.secret)
    try:
        page = ctx.new_page()
        # The seeded products have no category; the failed job has no row counts.
        for route, table in (
            ("/products?q=A11Y-", "#products-table"),
            ("/ai?q=A11Y-", "#products-table"),
            ("/tasks", "#jobs-table"),
        ):
            open_live(page, app_url + route)
            rows = page.locator(f"{table} tbody tr")
            expect(rows.first).to_be_visible()
            # Each cell carries its column's name (whatever the columns are).
            name = (page.locator(f"{table} thead th").nth(1).text_content() or "").strip()
            assert name
            expect(rows.first.locator("td, th").nth(1)).to_have_attribute("data-label", name)
            header = page.locator(f"{table} thead")
            cards = [rows.nth(i).evaluate(CARD) for i in range(min(rows.count(), 4))]
            if viewport == "desktop":
                assert {c["display"] for c in cards} == {"table-row"}, cards
                expect(header).to_be_visible()
                continue
            assert header.evaluate("h => h.getBoundingClientRect().height") <= 1
            box = page.locator(table).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
            for card in cards:
                assert card["display"] == "flex", card
                assert card["height"] <= CARD_MAX_HEIGHT[table], (route, card)
                for cell in card["cells"]:
                    if not cell["text"] and cell["col"] not in ("select", "actions"):
                        assert not cell["shown"], f"{route}: an empty field is shown: {cell}"
                    if cell["shown"] and cell["col"] in ("vendor", "type", "done", "time"):
                        assert cell["name"] == f'"{cell["label"]}"', cell  # "Vendor Acme"
                    if cell["col"] in ("title", "price", "sku", "job", "status"):
                        assert cell["name"] in ("none", "normal"), cell  # the value alone
                assert card["controls"], f"{route}: a card with no control"
                for control in card["controls"]:
                    assert control["hit"] and control["inside"], f"{route}: {control}"
            if table == "#products-table":
                shown = {c["col"] for c in cards[0]["cells"] if c["shown"]}
                assert {"select", "title", "sku", "price", "vendor", "type"} <= shown, shown
                assert "category" not in shown  # empty here
                # The card's checkbox selects its product (or unselects it: /ai shares the
                # selection made on /products).
                box, count = rows.first.get_by_role("checkbox"), page.locator("#selection-count")
                was, words = box.get_attribute("aria-checked"), count.text_content()
                box.click()
                expect(box).to_have_attribute("aria-checked", "false" if was == "true" else "true")
                expect(count).not_to_have_text(words or "")
    finally:
        ctx.close()
