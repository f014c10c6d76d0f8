"""The History page with real jobs: empty state, charts per kind, window switch; and /metrics
seeing the browser's session and the pushes it got."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Locator, expect

from jobboard.core import accounts, jobs, stats
from jobboard.core.models import utcnow
from tests.conftest import SHOPIFY_SAMPLE, Account, wait_for
from tests.integration.test_stats import _sample
from tests.utils.browser import signed_in_context

pytestmark = pytest.mark.browser


def _run(owner: str, path: Path, status: str) -> None:
    job = jobs.submit(
        "product_upload", owner_id=owner, title=path.name,
        params={"path": str(path), "filename": path.name},
    )  # fmt: skip
    wait_for(
        lambda: jobs.get_job(job.id, owner)["status"] == status, timeout=60, what=f"a {status} job"
    )


def en_hour(when: datetime) -> str:
    """The en-US clock label of `when`'s hour: "9:00 PM" (any space before AM/PM)."""
    return rf"{when.hour % 12 or 12}:00\s?{'AM' if when.hour < 12 else 'PM'}"


def either(*patterns: str) -> re.Pattern[str]:
    """One of the labels (the hour may turn between reading the page and checking it)."""
    return re.compile("^(?:" + "|".join(dict.fromkeys(patterns)) + ")$")


def last_tick(chart: Locator) -> Locator:
    """The x axis' last label: the newest slot (the axis always keeps its end)."""
    return chart.locator(".recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value").last


def test_history_page_with_real_jobs(
    browser: Browser, app_url: str, browser_account: Account, tmp_path: Path
) -> None:
    user = accounts.create_user(f"history-{uuid.uuid4().hex[:10]}@example.com", "pw-long-enough!")
    ctx = signed_in_context(
        browser, app_url, user, viewport={"width": 1280, "height": 900},
        locale="en-US", timezone_id="UTC",
    )  # fmt: skip
    page = ctx.new_page()
    page.goto(f"{app_url}/tasks")
    page.get_by_role("link", name="History").click()
    page.wait_for_url("**/history")
    empty = page.locator("#history-empty")
    expect(empty).to_contain_text("No jobs ended in the last 24 hours")
    expect(page.locator("#history-loading")).to_have_count(0)

    # Real jobs through the worker while the page is open: one completes, one fails.
    bad = tmp_path / "colours.csv"
    bad.write_text("colour,size\nred,XL\n")
    _run(user.id, SHOPIFY_SAMPLE, "completed")
    _run(user.id, bad, "failed")
    read_at = utcnow()
    page.reload()
    card = page.locator('[data-kind="product_upload"]')
    expect(card).to_be_visible()
    expect(card.locator("[data-field=total]")).to_have_text("2")
    expect(card.locator("[data-field=completed]")).to_have_text("1")
    expect(card.locator("[data-field=failed]")).to_have_text("1")
    expect(card.locator("[data-field=failure-rate]")).to_have_text("50 %")
    expect(card.locator("[data-field=p50]")).to_have_text(re.compile(r"^\d+(\.\d)? s$"))
    jobs_chart = card.locator("[data-chart=jobs]")
    # Stacked bars in this hour's slot: one green (completed), one red (failed).
    expect(jobs_chart.locator(".recharts-bar-rectangle path")).to_have_count(2)
    # The last slot is this hour, on the browser's clock (UTC here) in its locale's words.
    expect(last_tick(jobs_chart)).to_have_text(either(en_hour(read_at), en_hour(utcnow())))
    duration = card.locator("[data-chart=duration]")
    expect(duration.locator(".recharts-line")).to_have_count(2)  # p50 and p95
    expect(duration.locator(".recharts-legend-wrapper")).to_contain_text("p95")

    # An export that ended three days ago (a rollup row, as if its job had been purged): not
    # in the last 24 hours, in the last 7 days.
    three_days_ago = stats.epoch_hour(utcnow() - timedelta(days=3))
    stats.add_rows(
        [{"owner_id": user.id, "hour": three_days_ago, "kind": "export_catalog", "completed": 4}]
    )
    page.get_by_role("radio", name="7 days").click()
    export = page.locator('[data-kind="export_catalog"]')
    expect(export).to_be_visible()
    expect(export.locator("[data-field=completed]")).to_have_text("4")
    # Counted, but no run times recorded for them: said so rather than an empty chart.
    expect(export.locator("[data-chart=duration]")).to_contain_text("No job of this kind completed")
    expect(export.locator("[data-chart=duration] .recharts-line")).to_have_count(0)
    today = utcnow().date()
    expect(last_tick(card.locator("[data-chart=jobs]"))).to_have_text(f"{today.month}/{today.day}")
    page.get_by_role("radio", name="24 hours").click()
    expect(export).to_have_count(0)
    expect(card).to_be_visible()
    page.get_by_role("radio", name="30 days").click()
    expect(export).to_be_visible()
    expect(card.locator("[data-chart=jobs] .recharts-bar-rectangle path")).to_have_count(2)

    # /metrics sees this session and the job events pushed to it.
    token = accounts.create_api_token(browser_account.id, "metrics")[0]
    headers = {"Authorization": f"Bearer {token}"}

    def scrape() -> str:
        return httpx.get(f"{app_url}/metrics", headers=headers, timeout=30).text

    wait_for(
        lambda: (_sample(scrape(), "jobboard_sessions_connected") or 0) >= 1,
        timeout=30,
        what="the sessions gauge to count the open tab",
    )
    pushed = _sample(scrape(), "jobboard_event_push_lag_seconds_count")
    assert pushed is not None and pushed >= 1
    ctx.close()


def test_history_in_the_browsers_time_zone_and_locale(
    browser: Browser, app_url: str, browser_account: Account
) -> None:
    """A Czech browser in Prague: the charts say Europe/Prague, hours on Prague's clock and
    days written the Czech way ("26. 11.")."""
    prague = ZoneInfo("Europe/Prague")
    user = accounts.create_user(f"history-{uuid.uuid4().hex[:10]}@example.com", "pw-long-enough!")
    hour = stats.epoch_hour(utcnow())
    # Two completed in 0.1–0.2 s: the run-time axis has fractions of a second.
    stats.add_rows(
        [{"owner_id": user.id, "hour": hour, "kind": "export_catalog", "completed": 2, "d01": 2}]
    )
    ctx = signed_in_context(
        browser, app_url, user, viewport={"width": 1280, "height": 900},
        locale="cs-CZ", timezone_id="Europe/Prague",
    )  # fmt: skip
    page = ctx.new_page()
    read_at = utcnow()
    page.goto(f"{app_url}/history")
    card = page.locator('[data-kind="export_catalog"]')
    expect(card.locator("[data-field=completed]")).to_have_text("2")
    chart = card.locator("[data-chart=jobs]")
    expect(chart).to_contain_text("Jobs per hour, Europe/Prague")

    def cs_hour(when: datetime) -> str:
        return f"{when.astimezone(prague).hour}:00"

    expect(last_tick(chart)).to_have_text(either(cs_hour(read_at), cs_hour(utcnow())))
    # Run-time ticks in the Czech way too: "0,15 s", not "0.15 s".
    ticks = card.locator(
        "[data-chart=duration] .recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value"
    )
    expect(ticks.filter(has_text=re.compile(r"^0,\d+\s?s$")).first).to_be_visible()
    assert not [t for t in ticks.all_text_contents() if "." in t], ticks.all_text_contents()
    page.get_by_role("radio", name="7 days").click()
    expect(chart).to_contain_text("Jobs per day, Europe/Prague")
    day = utcnow().astimezone(prague).date()
    expect(last_tick(chart)).to_have_text(re.compile(rf"^{day.day}\.\s{day.month}\.$"))
    ctx.close()

    # A browser whose zone the server does not know (a made-up name, as a tampered page would
    # send) is read in UTC, and the page says so.
    odd = signed_in_context(browser, app_url, user, locale="en-US")
    odd.add_init_script(
        "Intl.DateTimeFormat.prototype.resolvedOptions = function () {"
        " return { timeZone: '../../etc/passwd', locale: 'en-US' }; };"
    )
    page = odd.new_page()
    page.goto(f"{app_url}/history")
    chart = page.locator('[data-kind="export_catalog"] [data-chart=jobs]')
    expect(chart).to_contain_text("Jobs per hour, UTC")
    odd.close()
