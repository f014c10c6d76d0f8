"""The spine in a real browser: upload → Tasks row updates live → job page → Products."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from jobboard.core import jobs
from tests.conftest import SHOPIFY_SAMPLE, Account, wait_for
from tests.utils.browser import browser_owner, sign_in_context, submit

pytestmark = pytest.mark.browser


def pct(page: Page, job_id: str) -> int:
    text = page.locator(f'[data-job-id="{job_id}"] [data-field=percentage]').inner_text()
    return int(re.sub(r"\D", "", text) or 0)


def test_upload_shopify_sample_and_watch_it_complete(
    page: Page, app_url: str, empty_catalog: None
) -> None:
    page.goto(f"{app_url}/upload")
    expect(page.get_by_text("up to 50 MB")).to_be_visible()
    page.locator("#product-upload input[type=file]").set_input_files(str(SHOPIFY_SAMPLE))
    expect(page.locator("#selected-file")).to_contain_text("shopify_product_template.csv")
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r".*/tasks$"))

    # The new job is the top row at once, and reaches "completed" without a reload.
    row = page.locator("[data-job-id]").filter(has_text="shopify_product_template.csv").first
    expect(row).to_be_visible(timeout=5000)
    job_id = row.get_attribute("data-job-id")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    expect(row.locator("[data-field=status]")).to_have_text(
        re.compile("completed", re.I), timeout=30_000
    )
    expect(row.locator("[data-field=percentage]")).to_have_text("100 %")
    expect(row).to_contain_text("17 / 17")
    # The bar jumps to each new value: a slide per update would repaint the page all along.
    fill = row.locator(".rt-ProgressIndicator")
    assert fill.evaluate("e => getComputedStyle(e).transitionDuration") == "0s"
    assert navigations == [], "the row must update live, not by reloading"

    page.click(f'[data-job-id="{job_id}"] a')
    page.wait_for_url(f"**/tasks/{job_id}")
    for words in ("imported 3", "updated 0", "skipped 0"):
        expect(page.get_by_text(words)).to_be_visible()
    expect(page.get_by_text(job_id)).to_be_visible()

    page.goto(f"{app_url}/products")
    for key in ("example-shirt", "example-pants", "example-hat"):
        expect(page.locator(f'[data-product-key="{key}"]')).to_be_visible()
    expect(page.locator('[data-product-key="example-shirt"]')).to_contain_text("Example T-Shirt")


def test_bad_file_shows_failed_with_message(page: Page, app_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "prices.csv"
    bad.write_text("colour,size\nred,XL\n")
    page.goto(f"{app_url}/upload")
    page.locator("#product-upload input[type=file]").set_input_files(str(bad))
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r".*/tasks$"))
    row = page.locator("[data-job-id]").filter(has_text="prices.csv").first
    expect(row.locator("[data-field=status]")).to_have_text(
        re.compile("failed", re.I), timeout=30_000
    )
    row.locator("a").first.click()
    expect(page.locator("#job-error")).to_contain_text("no recognisable columns in prices.csv")


def test_reload_mid_upload_resumes_live(page: Page, app_url: str, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("w") as out:
        out.write("sku,title,price,vendor\n")
        for i in range(400_000):
            out.write(f"R-{i},Reload test product {i},{i % 300 + 0.99},Acme\n")
    page.goto(f"{app_url}/tasks")
    job = jobs.submit(
        "product_upload",
        owner_id=browser_owner(),
        title="big.csv",
        params={"path": str(big), "filename": "big.csv"},
    )
    row = page.locator(f'[data-job-id="{job.id}"]')
    expect(row.locator("[data-field=status]")).to_have_text(
        re.compile("processing", re.I), timeout=20_000
    )
    expect(row.locator("[data-field=percentage]")).not_to_have_text("0 %", timeout=20_000)
    before = pct(page, job.id)
    assert before < 100

    page.reload()
    # The snapshot shows where the job is, not where it started…
    expect(row.locator("[data-field=status]")).to_have_text(
        re.compile("processing|completed", re.I), timeout=10_000
    )
    after_reload = pct(page, job.id)
    assert after_reload >= before
    # …and live events continue on the reloaded page to the end.
    if after_reload < 100:
        expect(row.locator("[data-field=percentage]")).not_to_have_text(
            f"{after_reload} %", timeout=20_000
        )
        assert pct(page, job.id) > after_reload
    expect(row.locator("[data-field=status]")).to_have_text(
        re.compile("completed", re.I), timeout=90_000
    )
    expect(row.locator("[data-field=step]")).to_have_text("Completed")


def test_every_open_tab_follows_the_job(
    browser: Browser, app_url: str, tmp_path: Path, browser_account: Account
) -> None:
    """Tabs land on different backend processes; each process updates its own sessions."""
    contexts = [
        sign_in_context(browser.new_context(), app_url, browser_account.secret) for _ in range(4)
    ]
    try:
        pages = [ctx.new_page() for ctx in contexts]
        for tab in pages:
            tab.goto(f"{app_url}/tasks")
            expect(tab.locator("#total-count")).to_be_visible(timeout=30_000)  # first snapshot
        data = "sku,title\n" + "".join(f"M-{i},Tab test {i}\n" for i in range(50_000))
        path = tmp_path / "tabs.csv"
        path.write_text(data)
        job = jobs.submit(
            "product_upload",
            owner_id=browser_owner(),
            title="tabs.csv",
            params={"path": str(path), "filename": "tabs.csv"},
        )
        for tab in pages:
            row = tab.locator(f'[data-job-id="{job.id}"]')
            expect(row.locator("[data-field=status]")).to_have_text("completed", timeout=60_000)
            expect(row).to_contain_text("50,000 / 50,000")
    finally:
        for ctx in contexts:
            ctx.close()


def test_cancel_a_long_job_from_the_tasks_page(page: Page, app_url: str, tmp_path: Path) -> None:
    big = tmp_path / "cancel-me.csv"
    with big.open("w") as out:
        out.write("sku,title\n")
        out.writelines(f"X-{i},Cancel test {i}\n" for i in range(400_000))
    page.goto(f"{app_url}/tasks")
    job = jobs.submit(
        "product_upload",
        owner_id=browser_owner(),
        title="cancel-me.csv",
        params={"path": str(big), "filename": "cancel-me.csv"},
    )
    row = page.locator(f'[data-job-id="{job.id}"]')
    expect(row.locator("[data-field=status]")).to_have_text("processing", timeout=20_000)
    row.locator('[data-action="cancel"]').click()
    expect(row.locator("[data-field=status]")).to_have_text("cancelled", timeout=15_000)
    expect(row.locator('[data-action="cancel"]')).to_have_count(0)
    row.locator('[data-action="retry"]').click()
    page.wait_for_url(re.compile(r".*/tasks/(?!" + job.id + ")[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name="cancel-me.csv")).to_be_visible()
    retried = page.url.rsplit("/", 1)[1]
    page.locator('[data-action="cancel"]').click()  # from the job's page this time
    expect(page.locator("[data-field=status]").first).to_have_text("cancelled", timeout=15_000)
    assert jobs.get_job(retried, browser_owner())["status"] == "cancelled"
    page.goto(f"{app_url}/tasks/{job.id}")
    expect(page.locator("#job-error")).to_contain_text("cancelled at")
    expect(page.locator("#job-error")).to_contain_text("of 400,000 rows done")


def test_export_the_catalog_from_the_products_page(page: Page, app_url: str) -> None:
    """The Products page starts an export; its job page offers the file when it is done."""
    upload = submit(SHOPIFY_SAMPLE)  # something to export
    wait_for(lambda: jobs.get_job(upload, browser_owner())["status"] == "completed", 30, "upload")
    page.goto(f"{app_url}/products")
    page.click("#export-plain")
    page.wait_for_url(re.compile(r".*/tasks/[0-9a-f-]+/?$"))
    expect(page.get_by_text("Export catalog (plain CSV)").first).to_be_visible()
    link = page.locator("[data-action=download]")
    # The whole catalog is exported: the tests before this one uploaded ~800,000 products.
    expect(link).to_be_visible(timeout=120_000)
    response = page.request.get(app_url + (link.get_attribute("href") or ""))
    assert response.ok and response.headers["content-type"].startswith("text/csv")
