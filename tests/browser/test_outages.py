"""The server goes away mid-run — Redis restarts, the app crashes — and every page says so,
then catches up by itself: no finished job shown unfinished, no ending announced twice."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from jobboard.core import jobs
from jobboard.core.redis import get_redis
from scripts.stack import Stack
from tests.conftest import Account, wait_for
from tests.utils.browser import (
    RECORD_NOTIFICATIONS,
    big_csv,
    browser_owner,
    notes,
    open_live,
    sign_in_context,
    submit,
)

pytestmark = pytest.mark.browser

# "Within 5 s of its return every page shows the truth" (plus the browser's own latency).
CATCH_UP_SECONDS = 5.5


@pytest.fixture
def context(browser: Browser, app_url: str, browser_account: Account) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    sign_in_context(ctx, app_url, browser_account.secret)
    ctx.add_init_script(RECORD_NOTIFICATIONS)
    ctx.grant_permissions(["notifications"], origin=app_url)
    yield ctx
    ctx.close()


def _db_status(job_id: str) -> str | None:
    job = jobs.get_job(job_id, browser_owner())  # reads the DB when Redis is away
    return job and job["status"]


def _row(page: Page, job_id: str):
    return page.locator(f'[data-job-id="{job_id}"]')


def _start_big_job(page: Page, tmp_path: Path, name: str) -> str:
    job_id = submit(big_csv(tmp_path / name, 400_000))
    expect(_row(page, job_id).locator("[data-field=status]")).to_have_text(
        "processing", timeout=30_000
    )
    return job_id


def _announced_once(page: Page, job_id: str, title: str) -> None:
    toast = page.locator("[data-sonner-toast]").filter(has_text=title)
    expect(toast).to_have_count(1)
    shown = [n for n in notes(page) if n["tag"] == f"jobboard-job-{job_id}"]
    assert len(shown) <= 1, shown  # "only in background" may leave it to the toast


def test_redis_restart_mid_run_catches_up(
    context: BrowserContext, app_url: str, services: Stack, tmp_path: Path
) -> None:
    """Redis dies while a job runs and the job ends before it is back: the worker goes on,
    and within seconds of Redis' return the page shows the ending, announced once."""
    page = open_live(context.new_page(), f"{app_url}/tasks")
    job_id = _start_big_job(page, tmp_path, "redis-outage.csv")
    assert services.redis is not None and services.redis.process is not None
    get_redis().save()  # like `make run`'s Redis, which keeps its data across a restart
    services.redis.process.kill()
    services.redis.process.wait()
    # The worker keeps importing without Redis and records the ending in the database.
    wait_for(lambda: _db_status(job_id) == "completed", 90, "the job to end during the outage")
    expect(_row(page, job_id).locator("[data-field=status]")).to_have_text("processing")
    services.redis.start()
    back = time.monotonic()
    expect(_row(page, job_id).locator("[data-field=status]")).to_have_text(
        "completed", timeout=CATCH_UP_SECONDS * 1000
    )
    assert time.monotonic() - back < CATCH_UP_SECONDS
    expect(_row(page, job_id)).to_contain_text("400,000 / 400,000")
    expect(page.locator("#active-jobs-indicator")).to_have_text("No active jobs")
    _announced_once(page, job_id, "Upload finished")
    # A page load afterwards replays nothing (start() announces in the same update that
    # makes the header live, so by then a replay would be on screen).
    open_live(page, f"{app_url}/tasks")
    expect(_row(page, job_id)).to_contain_text("completed")
    expect(page.locator("[data-sonner-toast]")).to_have_count(0)
    assert notes(page) == []


def test_app_crash_shows_reconnecting_then_resyncs(
    context: BrowserContext, app_url: str, services: Stack, tmp_path: Path
) -> None:
    """The app process dies mid-run: the page says so at once and the badge stops counting;
    when the app is back the page resyncs without a reload and announces the ending once."""
    page = open_live(context.new_page(), f"{app_url}/tasks")
    job_id = _start_big_job(page, tmp_path, "app-crash.csv")
    expect(page.locator("#active-jobs-indicator")).to_contain_text("1 active")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    assert services.app_proc is not None
    os.killpg(services.app_proc.pid, signal.SIGKILL)
    services.app_proc.wait()
    expect(page.locator("#connection-banner")).to_be_visible(timeout=2000)
    expect(page.locator("#connection-banner")).to_contain_text("Reconnecting")
    expect(page.locator("#active-jobs-indicator")).to_have_attribute("data-offline", "true")
    wait_for(lambda: _db_status(job_id) == "completed", 90, "the job to end while the app is down")
    services.start_app()
    services.wait_app()
    back = time.monotonic()
    expect(page.locator("#connection-banner")).to_have_count(0, timeout=30_000)
    expect(_row(page, job_id).locator("[data-field=status]")).to_have_text(
        "completed", timeout=CATCH_UP_SECONDS * 1000
    )
    expect(page.locator("#active-jobs-indicator")).to_have_text("No active jobs")
    assert navigations == [], "the page must resync by itself, not reload"
    assert time.monotonic() - back < CATCH_UP_SECONDS
    _announced_once(page, job_id, "Upload finished")


def _jobs_titled(title: str) -> list[str]:
    """The statuses of the browser user's jobs of that title, read from the database."""
    from sqlmodel import select

    from jobboard.core.db import session_scope
    from jobboard.core.models import Job

    with session_scope() as session:
        found = session.exec(
            select(Job.status).where(Job.owner_id == browser_owner(), Job.title == title)
        )
        return [str(status) for status in found]


QUEUE_DOWN = "the job queue (Redis) is not answering"


def test_redis_down_says_so_and_refuses_new_jobs_in_words(
    context: BrowserContext, app_url: str, services: Stack, tmp_path: Path
) -> None:
    """Redis stops while the app runs. Reflex keeps the pages' state in Redis, so their own
    events fail: every page still says what is wrong within seconds (jobboard.js asks
    /api/health), a new upload is refused in words instead of failing without one, and when
    Redis is back the notice goes and a page opened meanwhile gets its data."""
    tasks = open_live(context.new_page(), f"{app_url}/tasks")
    upload = open_live(context.new_page(), f"{app_url}/upload")
    name = f"queue-down-{time.monotonic_ns()}.csv"
    rows = tmp_path / name
    rows.write_text("sku,title,price\nQD-1,Queue down,1\n")
    upload.locator("#product-upload input[type=file]").set_input_files(str(rows))
    expect(upload.locator("#selected-file")).to_have_text(name)
    banner = "#queue-banner"
    expect(tasks.locator(banner)).to_be_empty()
    assert services.redis is not None and services.redis.process is not None
    get_redis().save()  # like `make run`'s Redis, which keeps its data across a restart
    services.redis.process.kill()
    services.redis.process.wait()
    late = context.new_page()
    try:
        for page in (tasks, upload):
            expect(page.locator(banner)).to_contain_text(QUEUE_DOWN, timeout=10_000)
            expect(page.locator(banner)).to_be_in_viewport()
        # The header stays usable under the notice, also scrolled.
        tasks.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        expect(tasks.locator(banner)).to_be_in_viewport()
        expect(tasks.locator('#site-menu a[href="/upload"]')).to_be_in_viewport()
        notice_box = tasks.locator(banner).bounding_box()
        header_box = tasks.locator("#site-header").bounding_box()
        assert notice_box and header_box
        assert header_box["y"] >= notice_box["y"] + notice_box["height"] - 1
        # A new upload: refused with a reason, nothing half-started.
        upload.click("#upload-submit")
        expect(upload.locator(banner)).to_contain_text("Not started")
        assert re.search(r"/upload/?$", upload.url), upload.url
        assert _jobs_titled(name) == []
        # A page opened during the outage says so too.
        late.goto(f"{app_url}/products")
        expect(late.locator(banner)).to_contain_text(QUEUE_DOWN, timeout=10_000)
    finally:
        services.redis.start()
    for page in (tasks, upload, late):
        expect(page.locator(banner)).to_be_empty(timeout=10_000)
    # The page opened during the outage never got its data; now it has it.
    expect(late.locator("#header-slot")).to_have_attribute("data-live", "true", timeout=20_000)
    expect(late.locator("#products-table, #products-empty").first).to_be_visible()
    # The tab left open through the outage starts the same upload now (Reflex's state locks
    # wait on keyspace notifications, which the restarted server must still send).
    upload.click("#upload-submit")
    upload.wait_for_url(re.compile(r".*/tasks"), timeout=30_000)
    wait_for(lambda: len(_jobs_titled(name)) == 1, 30, "the upload after the outage")
