"""Regenerate the README's screenshots from a real run: `python -m scripts.screenshots`."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from scripts.stack import ROOT, Stack

OUT = ROOT / "docs" / "screenshots"
SAMPLE = ROOT / "tests" / "fixtures" / "shopify_product_template.csv"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


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
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"{stack.url}/upload")
            page.screenshot(path=str(OUT / "upload.png"))
            sample_id = submit(SAMPLE)
            submit(bad)
            page.goto(f"{stack.url}/tasks/{sample_id}")
            expect(page.get_by_text("imported 3")).to_be_visible(timeout=30_000)
            page.screenshot(path=str(OUT / "job.png"), full_page=True)
            page.goto(f"{stack.url}/products")
            page.wait_for_selector("[data-product-key]")
            page.screenshot(path=str(OUT / "products.png"))
            page.goto(f"{stack.url}/tasks")
            big_id = submit(big)
            pct = page.locator(f'[data-job-id="{big_id}"] [data-field=percentage]')
            expect(pct).to_have_text(re.compile(r"^[3-6]\d %"), timeout=60_000)
            page.screenshot(path=str(OUT / "tasks.png"))
            status = page.locator(f'[data-job-id="{big_id}"] [data-field=status]')
            expect(status).to_have_text("completed", timeout=180_000)  # stop cleanly
            browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
