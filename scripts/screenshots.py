"""Regenerate the README's screenshots from a real run: `python -m scripts.screenshots`.

Every page at desktop size and at a phone's (390×844), as `<page>-desktop.png` and
`<page>-mobile.png`, plus the README's pictures (banners, the active-jobs panel, a toast)."""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright

from jobboard.core.signin import SESSION_COOKIE
from scripts.stack import CHROMIUM_ARGS, ROOT, Stack

OUT = ROOT / "docs" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "mobile": {"width": 390, "height": 844}}
# What shows once each page has its data (its state loaded, not only its frame).
READY = {
    "tasks": "#jobs-table",
    "upload": "#upload-submit",
    "products": "#products-table",
    "ai": "#start-duplicates",
    "settings": "#token-list",
    "history": "#history-window",
    "webhooks": "#webhook-url",
    "job": "[data-count=imported]",
}
PAGES = ("tasks", "upload", "products", "ai", "history", "settings")
ROUTES = {"webhooks": "/settings/webhooks"}
EMAIL = "shop@example.test"
SAMPLE = ROOT / "tests" / "fixtures" / "shopify_product_template.csv"


def signed_in(browser: Browser, url: str, secret: str, **options) -> BrowserContext:
    ctx = browser.new_context(**options)
    ctx.add_cookies([{"name": SESSION_COOKIE, "value": secret, "url": url, "httpOnly": True}])
    return ctx


def shot_pages(browser: Browser, url: str, secret: str, job_id: str) -> None:
    """Each page, signed in and signed out, at desktop and phone size; the phone's menu open."""
    for size, viewport in VIEWPORTS.items():
        ctx = browser.new_context(viewport=viewport)
        page = ctx.new_page()
        for name in ("sign-in", "sign-up"):
            page.goto(f"{url}/{name}")
            expect(page.locator("#auth-title")).not_to_have_text("")
            page.screenshot(path=str(OUT / f"{name}-{size}.png"), full_page=True)
        ctx.close()
        ctx = signed_in(browser, url, secret, viewport=viewport)
        ctx.grant_permissions(["notifications"], origin=url)
        page = ctx.new_page()
        routes = [*((p, f"/{p}") for p in PAGES), *ROUTES.items(), ("job", f"/tasks/{job_id}")]
        for name, route in routes:
            page.goto(url + route)
            expect(page.locator("#header-slot")).to_have_attribute("data-live", "true")
            expect(page.locator(READY[name]).first).to_be_visible()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT / f"{name}-{size}.png"), full_page=True)
        if size == "mobile":
            page.goto(f"{url}/tasks")
            page.click("#menu-toggle")
            expect(page.locator("#site-menu")).to_be_visible()
            page.screenshot(path=str(OUT / "menu-mobile.png"))
        ctx.close()


def shot_banners(browser: Browser, url: str, secret: str) -> None:
    """The permission banner in each state the browser can be in."""
    for state in ("default", "denied", "unsupported"):
        ctx = signed_in(browser, url, secret, viewport={"width": 1280, "height": 360})
        if state == "unsupported":
            ctx.add_init_script("delete window.Notification;")
        page = ctx.new_page()
        if state == "denied":
            cdp = ctx.new_cdp_session(page)
            context_id = cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
            cdp.send(
                "Browser.setPermission",
                {
                    "permission": {"name": "notifications"},
                    "setting": "denied",
                    "origin": url,
                    "browserContextId": context_id,
                },
            )
        page.goto(f"{url}/tasks")
        expect(page.locator("#notification-banner")).to_have_attribute("data-permission", state)
        page.screenshot(path=str(OUT / f"banner-{state}.png"))
        ctx.close()


def main() -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="jobboard-shots-"))
    with Stack(var_dir, workers=1, env={"REDIS_URL": "", "DATABASE_URL": ""}) as stack:
        os.environ.update({k: stack.env[k] for k in ("REDIS_URL", "JOBBOARD_VAR_DIR")})
        os.environ.pop("DATABASE_URL", None)
        from jobboard.core import accounts, jobs
        from jobboard.core.settings import get_settings

        get_settings.cache_clear()
        user = accounts.create_user(EMAIL, "correct horse battery staple", is_admin=True)
        secret = accounts.start_session(user, address="127.0.0.1", user_agent="screenshots")
        accounts.create_api_token(user.id, "nightly export")
        owner = user.id

        def submit(path: Path) -> str:
            params = {"path": str(path), "filename": path.name}
            return jobs.submit("product_upload", owner_id=owner, title=path.name, params=params).id

        def ended(job_id: str) -> None:
            expect_status = ("completed", "failed", "cancelled")
            for _ in range(600):
                job = jobs.get_job(job_id, owner)
                if job and job["status"] in expect_status:
                    return
                time.sleep(0.1)
            raise TimeoutError(job_id)

        bad = var_dir / "prices.csv"
        bad.write_text("colour,size\nred,XL\n")
        partial = var_dir / "summer-catalog.csv"
        partial.write_text(
            "sku,title,price,vendor\n"
            + "".join(f"SU-{i},Summer item {i},{i % 40 + 0.5},Acme\n" for i in range(40))
            + "SU-X,,not a price,Acme\nSU-Y,Beach towel,-3,Acme\n"
        )
        big = var_dir / "spring-catalog.csv"
        with big.open("w") as out:
            out.write("sku,title,price,vendor\n")
            out.writelines(f"SP-{i},Spring item {i},{i % 90 + 0.5},Acme\n" for i in range(400_000))

        OUT.mkdir(parents=True, exist_ok=True)
        url = stack.url
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            shot_banners(browser, url, secret)
            sample_id = submit(SAMPLE)
            partial_id = submit(partial)
            ended(submit(bad))
            ended(sample_id)
            ended(partial_id)
            shot_pages(browser, url, secret, partial_id)
            ctx = signed_in(browser, url, secret, viewport={"width": 1280, "height": 720})
            ctx.grant_permissions(["notifications"], origin=url)
            page = ctx.new_page()
            page.goto(f"{url}/tasks/{sample_id}")
            expect(page.get_by_text("imported 3")).to_be_visible(timeout=30_000)
            page.screenshot(path=str(OUT / "job.png"), full_page=True)
            page.goto(f"{url}/ai")
            expect(page.locator("h1")).to_be_visible()
            page.screenshot(path=str(OUT / "ai.png"), full_page=True)
            page.goto(f"{url}/tasks")
            expect(page.locator("#header-slot")).to_have_attribute("data-live", "true")
            big_id = submit(big)
            pct = page.locator(f'[data-job-id="{big_id}"] [data-field=percentage]')
            expect(pct).to_have_text(re.compile(r"^[3-6]\d %"), timeout=60_000)
            page.screenshot(path=str(OUT / "tasks.png"))
            page.click("#active-jobs-indicator")
            expect(page.locator("#active-jobs-panel")).to_be_visible()
            page.screenshot(path=str(OUT / "active-jobs-panel.png"))
            page.keyboard.press("Escape")
            status = page.locator(f'[data-job-id="{big_id}"] [data-field=status]')
            expect(status).to_have_text("completed", timeout=180_000)
            expect(page.locator("[data-sonner-toast]")).to_be_visible()
            page.screenshot(path=str(OUT / "toast.png"))
            browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
