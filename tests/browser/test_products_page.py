"""The Products page in Chromium: a loading state, search / filters / sort in the URL, and
"select all N matching" as the scope of an AI job."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from jobboard.core import jobs
from jobboard.core.db import session_scope
from jobboard.core.models import Job
from jobboard.core.products import get_products, upsert_products
from tests.conftest import ProductRec, wait_for
from tests.utils.browser import browser_owner

pytestmark = pytest.mark.browser
SLOW = 30_000  # the first page of a freshly started app on a busy machine


def seed() -> dict[str, int]:
    upsert_products(
        browser_owner(),
        [
            *(
                ProductRec(
                    f"Cotton Shirt {n:02d}",
                    sku=f"SH-{n:02d}",
                    vendor="Acme",
                    product_type="Shirts",
                    price=10 + n,
                )
                for n in range(30)
            ),
            *(
                ProductRec(
                    f"Steel Kettle {n}",
                    sku=f"KT-{n}",
                    vendor="HomeCo",
                    product_type="Kitchen",
                    price=30 + n,
                )
                for n in range(5)
            ),
        ],
    )
    return {p.title: p.id for p in get_products(browser_owner())}  # type: ignore[misc]


def test_first_paint_is_a_loading_state_not_an_empty_catalog(
    page: Page, app_url: str, empty_catalog: None
) -> None:
    seed()
    response = page.goto(f"{app_url}/products")
    assert response is not None
    html = response.text()  # what the browser paints before the first snapshot arrives
    assert "products-loading" in html and "The catalog is empty" not in html
    expect(page.locator("[data-product-key]")).to_have_count(25, timeout=SLOW)
    expect(page.locator("#products-empty")).to_have_count(0)


def test_search_filter_sort_and_page_live_in_the_url(
    page: Page, app_url: str, empty_catalog: None
) -> None:
    seed()
    page.goto(f"{app_url}/products")
    expect(page.locator("#total-count")).to_have_text("35 products", timeout=SLOW)
    expect(page.locator("#products-table thead")).to_contain_text("Category")

    page.fill("#product-search", "kettle")
    page.press("#product-search", "Enter")
    page.wait_for_url(re.compile(r"/products\?q=kettle$"))
    expect(page.locator("#total-count")).to_have_text("5 products")
    expect(page.locator("[data-product-key]").first).to_contain_text("Steel Kettle")

    page.fill("#product-search", "sh-0")  # by SKU prefix
    page.press("#product-search", "Enter")
    expect(page.locator("#total-count")).to_have_text("10 products")

    page.goto(f"{app_url}/products?vendor=Acme&sort=price_desc&page=2")
    expect(page.locator("#total-count")).to_have_text("30 products", timeout=SLOW)
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.locator("[data-product-key]")).to_have_count(5)
    expect(page.locator("[data-product-key]").first).to_contain_text("Cotton Shirt 04")
    page.reload()
    expect(page.locator("[data-product-key]").first).to_contain_text(
        "Cotton Shirt 04", timeout=SLOW
    )
    page.click("#prev-page")
    page.wait_for_url(re.compile(r"vendor=Acme&sort=price_desc$"))
    expect(page.locator("[data-product-key]").first).to_contain_text("Cotton Shirt 29")
    page.go_back()
    expect(page.locator("[data-product-key]").first).to_contain_text("Cotton Shirt 04")

    # Hostile values: results or a message, never an error page.
    for query in ("q=%22%3B+DROP+TABLE+product%3B--", "q=NEAR(a+b)*", "page=-5&sort=x"):
        page.goto(f"{app_url}/products?{query}")
        expect(page.locator("#total-count")).to_be_visible(timeout=SLOW)
    page.goto(f"{app_url}/products?q=" + "x" * 300)
    expect(page.locator("#filter-message")).to_contain_text(
        "longer than 200 characters", timeout=SLOW
    )
    expect(page.locator("#total-count")).to_have_text("35 products")
    page.goto(f"{app_url}/products?q=zzz")
    expect(page.locator("#products-no-match")).to_contain_text("No products match", timeout=SLOW)


def test_select_all_matching_is_the_scope_of_an_ai_job(
    page: Page, app_url: str, empty_catalog: None
) -> None:
    ids = seed()
    page.goto(f"{app_url}/products?q=shirt")
    expect(page.locator("#total-count")).to_have_text("30 products", timeout=SLOW)
    page.locator("#select-page").click()
    expect(page.locator("#selection-count")).to_have_text("25 selected.")
    page.click("#select-all-matching")
    expect(page.locator("#selection-count")).to_contain_text(
        "All matching products are selected (30 products)"
    )
    expect(page.locator("#scope-summary")).to_contain_text("30 products matching “shirt”")

    page.click("#open-ai")  # the same table on the AI page, same search, same selection
    page.wait_for_url(re.compile(r"/ai\?q=shirt$"))
    expect(page.locator("#selection-count")).to_contain_text("(30 products)", timeout=SLOW)
    page.fill("#categories", "Shirts, Kitchen")
    page.click("#start-categorize")
    page.wait_for_url(re.compile(r".*/tasks/[0-9a-f-]{36}$"))
    job_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("[data-field=status]").first).to_have_text("completed", timeout=60_000)

    job = wait_for(lambda: jobs.get_job(job_id, browser_owner()), 5, "the job")
    assert job["title"] == "Auto-categorize into 2 categories (30 products matching “shirt”)"
    # The browser sent the filter, not ids; the worker resolved it for this user.
    with session_scope() as session:
        params = session.get(Job, job_id).params  # type: ignore[union-attr]
    assert params["filter"] == {"q": "shirt"} and params["product_ids"] is None
    shirts = {i for t, i in ids.items() if t.startswith("Cotton Shirt")}
    assert {a["product_id"] for a in job["result_data"]["assignments"]} == shirts
