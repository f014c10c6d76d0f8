"""Numbers in the user's locale: a Czech browser sees "1 234" and "1 234,50" in Tasks rows, the
job page, Products, toasts and OS notifications; an en-US browser sees "1,234" and "1,234.50";
the API keeps raw numbers and its stored texts in the neutral en-US form."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from jobboard.core import jobs
from tests.conftest import Account, wait_for
from tests.utils.browser import (
    RECORD_NOTIFICATIONS,
    browser_owner,
    notes,
    open_live,
    signed_in_context,
    submit,
)

pytestmark = pytest.mark.browser

ROWS = 1234
# Czech groups digits with a no-break space (CLDR: U+00A0); some locales use the narrow one.
CS_COUNT = "1[\u00a0\u202f]234"
CS_PRICE = "1[\u00a0\u202f]234,50"


def locale_csv(path: Path, prefix: str) -> Path:
    lines = ["sku,title,price", *(f"{prefix}-{i},Locale {i},1234.5" for i in range(ROWS))]
    path.write_text("\n".join(lines) + "\n")
    return path


def finished(job_id: str) -> dict:
    return wait_for(
        lambda: (j := jobs.get_job(job_id, browser_owner())) and j["status"] == "completed" and j,
        60,
        "the upload to finish",
    )


def shows(page: Page, app_url: str, job_id: str, prefix: str, number: str, money: str) -> None:
    """The Tasks row, the job page and the Products table, each with its number."""
    page.goto(f"{app_url}/tasks")
    row = page.locator(f'[data-job-id="{job_id}"]')
    expect(row).to_contain_text(re.compile(rf"{number} / {number} rows"), timeout=15_000)
    page.goto(f"{app_url}/tasks/{job_id}")
    expect(page.locator("[data-count=imported]")).to_have_text(re.compile(rf"^imported {number}$"))
    page.goto(f"{app_url}/products?q={prefix}-1233")
    product = page.locator(f'[data-product-key="{prefix}-1233"]')
    expect(product).to_contain_text(re.compile(money))


def test_a_czech_browser_sees_czech_numbers_and_english_stays(
    browser: Browser, app_url: str, browser_account: Account, tmp_path: Path
) -> None:
    ctx = signed_in_context(
        browser,
        app_url,
        browser_account.user,
        locale="cs-CZ",
        timezone_id="Europe/Prague",
        viewport={"width": 1280, "height": 900},
    )
    ctx.grant_permissions(["notifications"], origin=app_url)
    ctx.add_init_script(RECORD_NOTIFICATIONS)
    page = open_live(ctx.new_page(), f"{app_url}/tasks")
    prefix = f"LOC{time.monotonic_ns()}"  # new SKUs: imported, not updated
    name = f"locale-{uuid.uuid4().hex[:6]}.csv"
    job_id = submit(locale_csv(tmp_path / name, prefix), name)
    done = finished(job_id)
    assert done["result_data"]["imported"] == ROWS  # the API: raw numbers

    # Live: the row, the toast and the OS notification, formatted for this session.
    row = page.locator(f'[data-job-id="{job_id}"]')
    expect(row).to_contain_text(re.compile(rf"{CS_COUNT} / {CS_COUNT} rows"), timeout=30_000)
    toast = page.locator("[data-sonner-toast]").filter(has_text=name)
    expect(toast).to_contain_text(re.compile(rf"{CS_COUNT} products imported"), timeout=15_000)
    wait_for(
        lambda: any(
            re.search(rf"{CS_COUNT} products imported", n.get("body") or "") for n in notes(page)
        ),
        10,
        "a notification in Czech numbers",
    )
    # And read afresh: Tasks, the job page, Products' prices.
    shows(page, app_url, job_id, prefix, CS_COUNT, CS_PRICE)
    ctx.close()

    # The same job in an en-US browser: as before.
    en = signed_in_context(browser, app_url, browser_account.user, locale="en-US")
    shows(en.new_page(), app_url, job_id, prefix, "1,234", "1,234.50")
    en.close()


def test_an_unusable_language_header_reads_as_english(
    browser: Browser, app_url: str, browser_account: Account, tmp_path: Path
) -> None:
    path = tmp_path / f"hostile-{uuid.uuid4().hex[:6]}.csv"
    prefix = f"HOS{time.monotonic_ns()}"
    job_id = submit(locale_csv(path, prefix), path.name)
    finished(job_id)
    ctx = signed_in_context(
        browser,
        app_url,
        browser_account.user,
        extra_http_headers={"Accept-Language": "../../etc/passwd, xx-YY;q=0.9, <b>;q=0.8"},
    )
    page = ctx.new_page()
    page.goto(f"{app_url}/tasks/{job_id}")
    expect(page.locator("[data-count=imported]")).to_have_text("imported 1,234")
    ctx.close()
