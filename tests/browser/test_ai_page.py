"""The AI page in Chromium: start a duplicate search, follow it, read and use its results."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from jobboard.core.products import upsert_products
from tests.conftest import ProductRec
from tests.utils.browser import browser_owner

pytestmark = pytest.mark.browser


def seed() -> None:
    upsert_products(
        browser_owner(),
        [
            ProductRec("Blue Cotton T-Shirt", sku="AI-1", vendor="Acme", product_type="Shirts"),
            ProductRec("T-Shirt, cotton, blue", sku="AI-2", vendor="Acme", product_type="Shirts"),
            ProductRec(
                "Stainless Steel Electric Kettle 1.7 L",
                sku="AI-3",
                vendor="Acme",
                product_type="Kitchen",
            ),
            ProductRec("Leather Hiking Boots", sku="AI-4", vendor="Acme", product_type="Shoes"),
        ],
    )


def test_find_duplicates_from_the_ai_page(page: Page, app_url: str, empty_catalog: None) -> None:
    seed()
    page.goto(f"{app_url}/ai")
    expect(page.locator("#start-duplicates")).to_be_visible()
    # No provider in the tests: generation says how to set one up and refuses.
    expect(page.locator("#provider-missing")).to_contain_text("JOBBOARD_AI_BASE_URL")
    expect(page.locator("#start-describe")).to_be_disabled()

    page.click("#start-duplicates")
    page.wait_for_url(re.compile(r".*/tasks/[0-9a-f-]{36}$"))
    status = page.locator("[data-field=status]").first
    expect(status).to_have_text(re.compile("queued|processing|completed"))
    expect(status).to_have_text("completed", timeout=60_000)
    expect(page.locator("[data-field=percentage]").first).to_have_text("100 %")
    groups = page.locator("#duplicate-groups")
    expect(groups).to_contain_text("Blue Cotton T-Shirt")
    expect(groups).to_contain_text("T-Shirt, cotton, blue")
    expect(groups).not_to_contain_text("Kettle")
    expect(page.locator("#result-summary")).to_contain_text("Compared 4 products")


def test_categorize_then_apply(page: Page, app_url: str, empty_catalog: None) -> None:
    seed()
    page.goto(f"{app_url}/ai")
    page.fill("#categories", "Shirts, Kitchen, Shoes")
    page.click("#start-categorize")
    page.wait_for_url(re.compile(r".*/tasks/[0-9a-f-]{36}$"))
    expect(page.locator("[data-field=status]").first).to_have_text("completed", timeout=60_000)
    table = page.locator("#review-table")
    page.locator("#review-threshold").click()  # review every row, whatever its confidence
    page.get_by_role("option", name="0.0", exact=True).click()
    expect(table.locator("[data-review-product]")).to_have_count(4)
    expect(table.locator("tr").filter(has_text="Kettle").get_by_role("combobox")).to_have_text(
        "Kitchen"
    )
    page.click("#accept-shown")
    page.locator('[data-action="apply"]').click()
    expect(
        page.locator("[data-sonner-toast]").filter(has_text="Updated the category of 4 products")
    ).to_be_visible()
    page.goto(f"{app_url}/products?q=kettle")
    expect(page.locator("[data-product-key] [data-col=category]")).to_have_text(
        "Kitchen", timeout=30_000
    )


def test_products_page_paginates_on_the_server(
    page: Page, app_url: str, empty_catalog: None
) -> None:
    upsert_products(
        browser_owner(),
        [ProductRec(f"Paged product {n:02d}", sku=f"P-{n:02d}") for n in range(30)],
    )
    page.goto(f"{app_url}/products")
    expect(page.locator("#total-count")).to_have_text("30 products", timeout=30_000)
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    expect(page.locator("[data-product-key]")).to_have_count(25)
    page.click("#next-page")
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.locator("[data-product-key]")).to_have_count(5)
    page.click("#prev-page")
    expect(page.locator("[data-product-key]")).to_have_count(25)
