"""Review before apply in Chromium: a confidence threshold, per-row accept / reject / change,
accept everything shown, apply, undo — and another user's job stays "not found"."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from jobboard.core.db import session_scope
from jobboard.core.models import Job, JobStatus, utcnow
from jobboard.core.products import get_products, upsert_products
from tests.conftest import ProductRec, wait_for
from tests.utils.browser import browser_owner

pytestmark = pytest.mark.browser
SLOW = 30_000
PROPOSED = [  # a backpack put into wallets with high confidence: the reviewer fixes it
    ("Leather Backpack", "Wallets", 0.954),
    ("Slim Wallet", "Wallets", 0.91),
    ("Canvas Tote", "Bags", 0.62),
    ("Wide Belt", "Belts", 0.8),
]


def finished_categorize_job(owner: str) -> str:
    upsert_products(owner, [ProductRec(t, sku=f"R-{n}") for n, (t, _, _) in enumerate(PROPOSED)])
    ids = {p.title: p.id for p in get_products(owner)}
    job = Job(
        id=str(uuid.uuid4()),
        owner_id=owner,
        kind="auto_categorize",
        title="Auto-categorize into 3 categories (whole catalog)",
        status=JobStatus.COMPLETED,
        params={"product_ids": None, "categories": ["Bags", "Wallets", "Belts"]},
        result_data={
            "categories": ["Bags", "Wallets", "Belts"],
            "compared": 4,
            "counts": {"Bags": 1, "Wallets": 2, "Belts": 1},
            "assignments": [
                {"product_id": ids[t], "title": t, "category": c, "confidence": conf}
                for t, c, conf in PROPOSED
            ],
        },
        started_at=utcnow(),
        completed_at=utcnow(),
    )
    with session_scope() as session:
        session.add(job)
    return job.id


def categories() -> dict[str, str]:
    return {p.title: p.category for p in get_products(browser_owner())}


def row(page: Page, title: str):
    return page.locator("#review-table [data-review-product]").filter(has_text=title)


def test_review_then_apply_with_threshold_reject_and_undo(
    page: Page, app_url: str, empty_catalog: None
) -> None:
    job_id = finished_categorize_job(browser_owner())
    page.goto(f"{app_url}/tasks/{job_id}")
    rows = page.locator("#review-table [data-review-product]")
    expect(rows).to_have_count(3, timeout=SLOW)  # the tote (0.62) is below the default 0.7
    expect(page.locator("#review-hidden")).to_have_text("1 hidden")
    expect(row(page, "Canvas Tote")).to_have_count(0)
    expect(page.locator('[data-action="apply"]')).to_be_disabled()  # nothing accepted yet

    # Change the backpack's category (that accepts it), reject the belt, accept the rest shown.
    row(page, "Leather Backpack").get_by_role("combobox").click()
    page.get_by_role("option", name="Bags").click()
    expect(row(page, "Leather Backpack").locator("[data-decision]")).to_have_text("Accepted")
    row(page, "Wide Belt").locator('[data-action="reject"]').click()
    expect(row(page, "Wide Belt").locator("[data-decision]")).to_have_text("Rejected")
    page.click("#accept-shown")
    expect(row(page, "Slim Wallet").locator("[data-decision]")).to_have_text("Accepted")
    expect(row(page, "Wide Belt").locator("[data-decision]")).to_have_text("Rejected")
    assert categories() == dict.fromkeys(categories(), "")  # nothing applied yet

    apply = page.locator('[data-action="apply"]')
    expect(apply).to_have_text("Apply 2 accepted")
    apply.click()
    expect(
        page.locator("[data-sonner-toast]").filter(has_text="Updated the category of 2 products")
    ).to_be_visible()
    assert categories() == {
        "Leather Backpack": "Bags",
        "Slim Wallet": "Wallets",
        "Canvas Tote": "",
        "Wide Belt": "",
    }

    # Lower the threshold: the tote shows up, still to review.
    page.locator("#review-threshold").click()
    page.get_by_role("option", name="0.5", exact=True).click()
    expect(rows).to_have_count(4)
    expect(page.locator("#review-hidden")).to_have_text("0 hidden")
    expect(row(page, "Canvas Tote").locator("[data-decision]")).to_have_text("To review")

    # Undo the apply: the old (empty) categories come back.
    page.click("#undo-apply")
    expect(
        page.locator("[data-sonner-toast]").filter(has_text="Undone: 2 products")
    ).to_be_visible()
    wait_for(lambda: set(categories().values()) == {""}, 10, "the old categories back")
    expect(page.locator("#undo-apply")).to_have_count(0)

    # The applied categories are visible on the Products page.
    page.goto(f"{app_url}/tasks/{job_id}")
    row(page, "Slim Wallet").locator('[data-action="accept"]').click()
    page.locator('[data-action="apply"]').click()
    expect(
        page.locator("[data-sonner-toast]").filter(has_text="Updated the category")
    ).to_be_visible()
    page.goto(f"{app_url}/products?q=wallet")
    expect(page.locator("[data-product-key] [data-col=category]")).to_have_text(
        "Wallets", timeout=SLOW
    )


def test_another_users_job_cannot_be_reviewed(
    page: Page, app_url: str, empty_catalog: None
) -> None:
    job_id = finished_categorize_job(f"someone-else-{uuid.uuid4().hex[:8]}")
    page.goto(f"{app_url}/tasks/{job_id}")
    expect(page.get_by_text("No such job, or it is not yours.")).to_be_visible(timeout=SLOW)
    expect(page.locator("#review-table")).to_have_count(0)
