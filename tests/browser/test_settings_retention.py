"""Settings shows the data-retention rule and what the last clean-up removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from jobboard.core import retention

pytestmark = pytest.mark.browser


def test_settings_shows_what_is_kept_and_for_how_long(
    page: Page, app_url: str, tmp_path: Path
) -> None:
    report = retention.purge()
    page.set_viewport_size({"width": 1280, "height": 1100})
    page.goto(f"{app_url}/settings")
    policy = page.locator("#retention-policy")
    expect(policy).to_contain_text("Completed and cancelled jobs")
    expect(policy).to_contain_text("30 days after they end")
    expect(policy).to_contain_text("Failed jobs60 days after they end")
    expect(policy).to_contain_text("up to 7 days after")
    expect(policy).to_contain_text("kept until you delete them")
    expect(page.locator("#retention-last")).to_contain_text("Last clean-up:")
    expect(page.locator("#retention-last")).to_contain_text(report.summary())
    page.locator("#retention").screenshot(path=tmp_path / "settings-retention.png")
