"""Honest outcomes in the browser: partial results read as such everywhere, skipped rows
download as a CSV to fix, Retry only where it can help (linked both ways), times in the
user's zone, and the job page leading with the outcome."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from jobboard.core import jobs
from jobboard.core.db import session_scope
from jobboard.core.models import Job
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

# 40 data rows, 9 of them invalid in themselves (no SKU, a price that is not a number).
BAD = {5: ("", "No SKU", "1.00"), 9: ("B-9", "Bad price", "abc")}


def partial_csv(path: Path) -> Path:
    # SKUs of their own: other tests' uploads for the same user must not turn these into updates.
    prefix = f"OUT{time.monotonic_ns()}"
    lines = ["sku,title,price"]
    for i in range(1, 41):
        if i % 5 == 0 and i <= 45:
            cells = BAD[5] if i % 10 == 5 else (f"B-{i}", f"Bad price {i}", "abc")
        else:
            cells = (f"{prefix}-{i}", f"Product {i}", f"{i}.50")
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def finished(job_id: str) -> dict:
    return wait_for(
        lambda: (j := jobs.get_job(job_id, browser_owner())) and j["status"] == "completed" and j,
        60,
        "the upload to finish",
    )


def test_partial_upload_reads_as_such_everywhere(
    browser: Browser, app_url: str, browser_account: Account, tmp_path: Path
) -> None:
    ctx = signed_in_context(
        browser, app_url, browser_account.user, viewport={"width": 1280, "height": 900}
    )
    ctx.grant_permissions(["notifications"], origin=app_url)
    ctx.add_init_script(RECORD_NOTIFICATIONS)
    page = open_live(ctx.new_page(), f"{app_url}/tasks")
    name = f"partial-{uuid.uuid4().hex[:6]}.csv"
    job_id = submit(partial_csv(tmp_path / name), name)
    done = finished(job_id)
    assert done["result_data"]["skipped"] == 8
    assert done["outcome"]["label"] == "completed · 8 skipped"

    # Row and badge: the outcome, in the warning colour, and no retry of invalid rows.
    row = page.locator(f'[data-job-id="{job_id}"]')
    badge = row.locator("[data-field=status]")
    expect(badge).to_have_text("completed · 8 skipped", timeout=30_000)
    expect(badge).to_have_attribute("data-tone", "amber")
    expect(row.locator("[data-action=retry]")).to_have_count(0)
    expect(row.locator("[data-action=retry-failed]")).to_have_count(0)

    # Toast and OS notification say it too.
    toast = page.locator("[data-sonner-toast]").filter(has_text="Upload finished · 8 skipped")
    expect(toast).to_be_visible(timeout=15_000)
    expect(toast).to_contain_text("32 products imported")
    wait_for(lambda: any(n["title"] == "Upload finished · 8 skipped" for n in notes(page)), 10)

    # The job page: title first, then the outcome and the skipped rows' download.
    page.goto(f"{app_url}/tasks/{job_id}")
    expect(page.locator("h1, h2").filter(has_text=name).first).to_be_visible()
    expect(page.locator("#job-outcome [data-field=status]")).to_have_text("completed · 8 skipped")
    expect(page.locator("[data-action=retry-failed]")).to_have_count(0)
    with page.expect_download() as info:
        page.click("#download-skipped")
    download = info.value
    assert download.suggested_filename == name.removesuffix(".csv") + "-skipped-rows.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 8
    by_row = {r["Row in original file"]: r for r in rows}
    assert by_row["6"]["Skipped because"] == "missing SKU" and by_row["6"]["title"] == "No SKU"
    assert by_row["11"]["Skipped because"] == "price 'abc' is not a number"
    assert by_row["11"]["sku"] == "B-10" and by_row["11"]["price"] == "abc"
    ctx.close()


def _failed_job(owner: str, path: Path, retryable: bool, message: str) -> str:
    job = Job(
        id=str(uuid.uuid4()),
        owner_id=owner,
        kind="product_upload",
        title=path.name,
        status="failed",
        params={"path": str(path), "filename": path.name},
        progress_data={"percentage": 40, "current_step": "Failed while importing products"},
        error_data={"message": message, "details": None, "retryable": retryable},
        started_at=datetime.now(UTC),
        completed_at=datetime.now(UTC),
    )
    with session_scope() as session:
        session.add(job)
    return job.id


def test_retry_links_both_ways_and_the_original_stops_offering_it(
    page: Page, app_url: str, tmp_path: Path
) -> None:
    path = tmp_path / f"lost-{uuid.uuid4().hex[:6]}.csv"
    path.write_text("sku,title\nL-1,Lost once\n")
    original = _failed_job(browser_owner(), path, True, jobs.WORKER_LOST)
    page.goto(f"{app_url}/tasks/{original}")
    expect(page.locator("#job-progress [data-field=step]")).to_have_text(
        "Failed while importing products"
    )
    page.click("[data-action=retry]")
    page.wait_for_url(re.compile(r".*/tasks/(?!" + original + ")[0-9a-f-]{36}$"))
    retry_id = page.url.rsplit("/", 1)[-1]
    expect(page.locator("#retry-of")).to_have_attribute("href", f"/tasks/{original}")
    expect(page.locator("#job-outcome [data-field=status]")).to_have_text(
        "completed", timeout=30_000
    )
    page.click("#retry-of")
    page.wait_for_url(f"**/tasks/{original}")
    expect(page.locator("#retried-by")).to_have_attribute("href", f"/tasks/{retry_id}")
    expect(page.locator("[data-action=retry]")).to_have_count(0)
    page.goto(f"{app_url}/tasks")
    row = page.locator(f'[data-job-id="{original}"]')
    expect(row).to_be_visible()
    expect(row.locator("[data-action=retry]")).to_have_count(0)


def test_no_retry_for_a_file_that_can_never_import(
    page: Page, app_url: str, tmp_path: Path
) -> None:
    path = tmp_path / f"never-{uuid.uuid4().hex[:6]}.csv"
    path.write_text("colour,size\nred,XL\n")
    job_id = _failed_job(browser_owner(), path, False, "never.csv has no SKU column")
    page.goto(f"{app_url}/tasks/{job_id}")
    expect(page.locator("#job-outcome [data-field=status]")).to_have_text("failed")
    expect(page.locator("#job-error")).to_contain_text("no SKU column")
    expect(page.locator("[data-action=retry]")).to_have_count(0)


def test_job_page_leads_with_the_outcome(page: Page, app_url: str, tmp_path: Path) -> None:
    path = tmp_path / f"order-{uuid.uuid4().hex[:6]}.csv"
    path.write_text("sku,title\nO-1,Order\n")
    job_id = submit(path, path.name)
    finished(job_id)
    page.goto(f"{app_url}/tasks/{job_id}")
    heading = page.locator("h1, h2").filter(has_text=path.name).first
    expect(heading).to_be_visible()
    outcome = page.locator("#job-outcome")
    expect(outcome).to_be_visible()
    metadata = page.locator("#job-metadata")
    result = page.get_by_text("imported 1")
    expect(result).to_be_visible()
    tops = [
        loc.bounding_box()["y"]  # type: ignore[index]
        for loc in (heading, outcome, result, metadata)
    ]
    assert tops == sorted(tops), f"heading, outcome, result, metadata in order: {tops}"


def test_times_in_the_browsers_zone_and_locale(
    browser: Browser, app_url: str, browser_account: Account, tmp_path: Path
) -> None:
    path = tmp_path / f"prague-{uuid.uuid4().hex[:6]}.csv"
    path.write_text("sku,title\nZ-1,Zone\n")
    job_id = submit(path, path.name)
    done = finished(job_id)
    ctx = signed_in_context(
        browser, app_url, browser_account.user, timezone_id="Europe/Prague", locale="cs-CZ"
    )
    page = ctx.new_page()
    page.goto(f"{app_url}/tasks/{job_id}")
    created = page.locator("#job-metadata time").first
    expect(created).to_have_attribute("datetime", re.compile(r"Z$"))
    # Recent: relative, in Czech ("před 5 sekundami", "nyní", "před 1 minutou").
    expect(created).to_have_text(re.compile(r"před|nyní|teď"))
    title = created.get_attribute("title") or ""
    at = datetime.fromisoformat(done["created_at"]).astimezone(UTC)
    expected = page.evaluate(
        """(iso) => new Intl.DateTimeFormat('cs-CZ', {dateStyle: 'medium', timeStyle: 'long',
            timeZone: 'Europe/Prague'}).format(new Date(iso))""",
        at.isoformat(),
    )
    assert title == expected, (title, expected)
    # Prague's zone is named, and the hour is Prague's, not UTC's.
    assert re.search(r"SEČ|SELČ|GMT\+[12]|CET|CEST", title), title

    # Products' "Updated" too: the same component, the same zone.
    page.goto(f"{app_url}/products")
    updated = page.locator('[data-product-key="Z-1"] time')
    expect(updated).to_have_text(re.compile(r"před|nyní|teď"))
    assert re.search(r"SEČ|SELČ|GMT\+[12]|CET|CEST", updated.get_attribute("title") or "")
    ctx.close()
