"""Regenerate the README's screenshots from a real run: `python -m scripts.screenshots`."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, expect, sync_playwright

from scripts.stack import CHROMIUM_ARGS, ROOT, Stack

OUT = ROOT / "docs" / "screenshots"
SAMPLE = ROOT / "tests" / "fixtures" / "shopify_product_template.csv"


def shot_banners(browser: Browser, url: str) -> None:
    """The permission banner in each state the browser can be in."""
    for state in ("default", "denied", "unsupported"):
        ctx = browser.new_context(viewport={"width": 1280, "height": 360})
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
        from jobboard.core import jobs
        from jobboard.core.settings import get_settings

        get_settings.cache_clear()
        owner = get_settings().local_user

        def submit(path: Path) -> str:
            params = {"path": str(path), "filename": path.name}
            return jobs.submit("product_upload", owner_id=owner, title=path.name, params=params).id

        bad = var_dir / "prices.csv"
        bad.write_text("colour,size\nred,XL\n")
        big = var_dir / "spring-catalog.csv"
        with big.open("w") as out:
            out.write("sku,title,price,vendor\n")
            out.writelines(f"SP-{i},Spring item {i},{i % 90 + 0.5},Acme\n" for i in range(400_000))

        OUT.mkdir(parents=True, exist_ok=True)
        url = stack.url
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            shot_banners(browser, url)
            ctx = browser.new_context(viewport={"width": 1280, "height": 720})
            ctx.grant_permissions(["notifications"], origin=url)
            page = ctx.new_page()
            page.goto(f"{url}/upload")
            page.screenshot(path=str(OUT / "upload.png"))
            sample_id = submit(SAMPLE)
            submit(bad)
            page.goto(f"{url}/tasks/{sample_id}")
            expect(page.get_by_text("imported 3")).to_be_visible(timeout=30_000)
            page.screenshot(path=str(OUT / "job.png"), full_page=True)
            page.goto(f"{url}/products")
            page.wait_for_selector("[data-product-key]")
            page.screenshot(path=str(OUT / "products.png"))
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
