"""Numbers in the user's locale: a Czech browser sees "1 234" and "1 234,50" in Tasks rows, the
job page, Products, toasts, OS notifications and a job's step; an en-US browser sees "1,234"
and "1,234.50"; the API keeps raw numbers and its stored texts in the neutral en-US form."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from jobboard.core import jobs
from jobboard.core.db import session_scope
from jobboard.core.models import Job
from jobboard.core.progress import ProgressReporter
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
CS_SEP = "[\u00a0\u202f]"


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


def test_a_step_with_numbers_reads_in_the_viewers_locale(
    browser: Browser, app_url: str, browser_account: Account
) -> None:
    """A running step "Comparing products 12,664 of 300,617" (the worker's own reporter,
    driven from here) on the Tasks row, the header's active-jobs panel and the job page:
    Czech numbers for a Czech browser, live and read afresh, and after the job failed at that
    step; English for an English one; the API's text stays English."""
    job = Job(id=f"steps-{uuid.uuid4().hex[:10]}", owner_id=browser_owner(),
              kind="find_duplicates", title="step numbers")  # fmt: skip
    with session_scope() as session:
        session.add(job)  # on no queue: this test reports its progress
    started = jobs.start(job.id)
    assert started is not None
    reporter = ProgressReporter(started, interval=0, db_interval=0)
    template = "Comparing products {done} of {total}"
    cs_step = re.compile(rf"^Comparing products 12{CS_SEP}664 of 300{CS_SEP}617$")
    ctx = signed_in_context(
        browser, app_url, browser_account.user, locale="cs-CZ", timezone_id="Europe/Prague",
        viewport={"width": 1280, "height": 900},
    )  # fmt: skip
    try:
        page = open_live(ctx.new_page(), f"{app_url}/tasks")
        row = page.locator(f'[data-job-id="{job.id}"]')
        expect(row).to_be_visible()
        for done in (1000, 12664):  # the first as a row update, the next as a live frame
            reporter.update(
                step=template, step_values={"done": done, "total": 300617},
                processed=done, total=300617, unit="products",
            )  # fmt: skip
        expect(row.locator("[data-field=step]")).to_have_text(cs_step)
        indicator = page.locator("#active-jobs-indicator")
        expect(indicator).to_have_attribute("data-count", re.compile("[1-9]"))
        indicator.click()
        panel = page.locator(f'#active-jobs-panel [data-job-id="{job.id}"]')
        expect(panel.locator("[data-field=step]")).to_have_text(cs_step)
        page.goto(f"{app_url}/tasks/{job.id}")
        expect(page.locator("#job-progress [data-field=step]")).to_have_text(cs_step)

        en = signed_in_context(browser, app_url, browser_account.user, locale="en-US")
        en_page = en.new_page()
        en_page.goto(f"{app_url}/tasks/{job.id}")
        expect(en_page.locator("#job-progress [data-field=step]")).to_have_text(
            "Comparing products 12,664 of 300,617"
        )
        en.close()
        api = jobs.get_job(job.id, browser_owner())["progress_data"]
        assert api["current_step"] == "Comparing products 12,664 of 300,617"
    finally:
        jobs.fail(job.id, "stopped by the test", progress=reporter.close())
    # Ended at that step: the words say so, the numbers are still the viewer's.
    expect(page.locator("#job-progress [data-field=step]")).to_have_text(
        re.compile(rf"^Failed while comparing products 12{CS_SEP}664 of 300{CS_SEP}617$")
    )
    ctx.close()
