"""Settings → Webhooks in the browser: create (secret shown once), a refused URL keeps the form,
send a test event and see it in the delivery log, resend, pause, and the notice for a webhook
Jobboard turned off."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook as Verifier

from jobboard.core import jobs, webhooks
from jobboard.core.db import session_scope
from jobboard.core.webhooks.models import Webhook
from tests.conftest import Account, wait_for
from tests.utils.receiver import Received, Receiver, receiver

pytestmark = pytest.mark.browser


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with receiver() as rec:
        yield rec


@pytest.fixture
def clean(browser_account: Account) -> Iterator[None]:
    # The test stack has one worker, and a delivery waits behind a job still running from an
    # earlier test (a 30 s wait was not always enough on a slow machine).
    wait_for(
        lambda: jobs.count_active(browser_account.id) == 0,
        timeout=180,
        what="the browser user's jobs from earlier tests to end",
    )
    for hook in webhooks.list_webhooks(browser_account.id):
        webhooks.delete_webhook(browser_account.id, hook.id)
    yield
    for hook in webhooks.list_webhooks(browser_account.id):
        webhooks.delete_webhook(browser_account.id, hook.id)


def sent_test_events(hooks: Receiver, secret: str, count: int) -> list[Received]:
    """The requests at /browser that carry the test event (each verified with `secret`),
    once there are `count` of them."""

    def found() -> list[Received]:
        got = [
            r
            for r in hooks.at("/browser")
            if Verifier(secret).verify(r.body, r.headers)["event_type"] == "test"
        ]
        return got if len(got) >= count else []

    got = wait_for(found, timeout=30, what=f"{count} test deliveries")
    assert len(got) == count, got
    return got


def test_webhooks_page_create_test_log_resend(
    page: Page, app_url: str, hooks: Receiver, browser_account: Account, clean: None
) -> None:
    page.goto(f"{app_url}/settings/webhooks")
    expect(page.locator("#webhook-list-empty")).to_be_visible()

    # A refused address: a clear message, and the typed URL is still there to correct.
    page.locator("#webhook-url").fill("http://169.254.169.254/latest/meta-data")
    page.locator("#create-webhook").click()
    expect(page.locator("#webhook-error")).to_contain_text("link-local")
    expect(page.locator("#webhook-url")).to_have_value("http://169.254.169.254/latest/meta-data")

    url = hooks.url("/browser")
    page.locator("#webhook-url").fill(url)
    page.locator("#webhook-description").fill("back office")
    page.locator("#create-webhook").click()
    secret_box = page.locator("#new-secret")
    expect(secret_box).to_have_text(re.compile(r"^whsec_[A-Za-z0-9+/=]{44}$"))
    secret = secret_box.inner_text()
    expect(page.locator("#webhook-url")).to_have_value("")
    row = page.locator(f'.webhook-row[data-url="{url}"]')
    expect(row).to_contain_text("back office")
    expect(row.locator(".webhook-status")).to_have_text("active")
    page.screenshot(path="/tmp/webhooks-created.png")

    # Shown once: gone after "Done" and after a reload.
    page.locator("#dismiss-secret").click()
    expect(page.locator("#new-secret")).to_have_count(0)
    page.reload()
    expect(row).to_be_visible()
    expect(page.locator("#new-secret")).to_have_count(0)
    assert secret not in page.content()

    row.locator(".manage-webhook").click()
    expect(page.locator("#delivery-list-empty")).to_be_visible()
    page.locator("#send-test").click()
    # The webhook hears all events: the browser user's jobs from earlier tests may still
    # be delivered to it, so the test event's rows and requests are picked out.
    test_rows = page.locator('.delivery-row[data-event="test"]')
    expect(test_rows).to_have_count(1, timeout=30_000)
    first = test_rows.first
    expect(first.locator(".delivery-result")).to_have_text("200")
    expect(first.locator(".delivery-latency")).to_have_text(re.compile(r"^\d+ ms$"))
    expect(first.locator(".delivery-excerpt")).to_have_text("ok")
    [got] = sent_test_events(hooks, secret, 1)

    first.locator(".resend-delivery").click()
    expect(test_rows).to_have_count(2, timeout=30_000)
    expect(test_rows.first).to_have_attribute("data-trigger", "resend")
    again = sent_test_events(hooks, secret, 2)[1]
    assert again.headers["webhook-id"] == got.headers["webhook-id"]
    page.screenshot(path="/tmp/webhooks-log.png", full_page=True)

    # Pause it from the edit form.
    page.locator("#edit-active").click()
    page.locator("#save-webhook").click()
    expect(row.locator(".webhook-status")).to_have_text("paused")
    [hook] = webhooks.list_webhooks(browser_account.id)
    assert not hook.active and hook.description == "back office"


def test_a_webhook_jobboard_turned_off_shows_why(
    page: Page, app_url: str, browser_account: Account, clean: None
) -> None:
    hook, _secret = webhooks.create_webhook(
        browser_account.id, "http://127.0.0.1:9/gone", ["completed"]
    )
    with session_scope() as session:
        row = session.get(Webhook, hook.id)
        assert row is not None
        row.active = False
        row.disabled_reason = "The receiver answered 410 Gone, so Jobboard stopped sending to it."
        session.add(row)
    page.goto(f"{app_url}/settings")
    notice = page.locator("#webhooks-summary .webhook-turned-off")
    expect(notice).to_contain_text("410 Gone")
    page.locator("#open-webhooks").click()
    expect(page.locator(".webhook-row .webhook-status")).to_have_text("turned off")
    expect(page.locator("#webhooks .webhook-turned-off")).to_contain_text("127.0.0.1:9/gone")
