"""The upload page refuses a file as soon as it is chosen, and keeps hostile names as text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, WebSocket, expect

from jobboard.core import uploads

pytestmark = pytest.mark.browser

PRODUCT_CSV = b"sku,title,price\nHOSTILE-1,Hostile name test,1.50\n"


def open_upload_page(page: Page, app_url: str, dialogs: list[str] | None = None) -> list[str]:
    """Open /upload once its websocket is up; returns the list its closed sockets land in."""
    closed: list[str] = []
    seen = dialogs if dialogs is not None else []

    def watch(ws: WebSocket) -> None:
        if "/_event" in ws.url:
            ws.on("close", lambda _ws: closed.append(ws.url))

    page.on("websocket", watch)
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    with page.expect_websocket(lambda ws: "/_event" in ws.url):
        page.goto(f"{app_url}/upload")
    expect(page.locator("#upload-hint")).to_contain_text(f"up to {uploads.limit_text()}")
    return closed


def choose(page: Page, path: Path) -> None:
    page.locator("#product-upload input[type=file]").set_input_files(str(path))


def test_refused_at_once_then_another_file_uploads(
    page: Page, app_url: str, tmp_path: Path
) -> None:
    closed = open_upload_page(page, app_url)
    refused = page.locator("#upload-rejected")

    too_big = tmp_path / "catalog.csv"
    with too_big.open("wb") as out:
        out.truncate(uploads.max_bytes() + 1024)
    choose(page, too_big)
    expect(refused).to_have_text(
        f"catalog.csv is larger than the {uploads.limit_text()} upload limit. "
        "Choose a smaller file."
    )
    expect(page.locator("#selected-file")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "upload-too-large.png"), full_page=True)

    workbook = tmp_path / "prices.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    choose(page, workbook)
    expect(refused).to_contain_text("prices.xlsx is not a file Jobboard can import")
    for kind in ("CSV", "TSV", "TXT", "JSON"):
        expect(refused).to_contain_text(kind)
    page.screenshot(path=str(tmp_path / "upload-wrong-type.png"), full_page=True)

    # The page still talks to the server: the next, valid, file goes through.
    good = tmp_path / "products.csv"
    good.write_bytes(PRODUCT_CSV)
    choose(page, good)
    expect(refused).to_have_count(0)
    expect(page.locator("#selected-file")).to_have_text("products.csv")
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r".*/tasks$"))
    expect(page.locator("[data-job-id]").filter(has_text="products.csv").first).to_be_visible()
    assert closed == [], "choosing a refused file must not drop the websocket"


@pytest.mark.parametrize(
    ("file_name", "shown"),
    [
        ("<img src=x onerror=alert(1)>.csv", "<img src=x onerror=alert(1)>.csv"),
        ("evil\u202egpj.csv", "evilgpj.csv"),
        ("zero\u200bwidth\u2066name\u2069.csv", "zerowidthname.csv"),
    ],
)
def test_file_names_become_plain_job_titles(
    page: Page, app_url: str, tmp_path: Path, file_name: str, shown: str
) -> None:
    dialogs: list[str] = []
    open_upload_page(page, app_url, dialogs)
    path = tmp_path / file_name
    path.write_bytes(PRODUCT_CSV)
    choose(page, path)
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r".*/tasks$"))
    row = page.locator("[data-job-id]").filter(has_text=shown).first
    expect(row.locator("[data-field=status]")).to_have_text(
        re.compile("completed", re.I), timeout=30_000
    )
    title = row.get_by_text(shown, exact=True).first
    expect(title).to_be_visible()
    assert re.fullmatch(r"[^\u200b-\u200f\u202a-\u202e\u2066-\u2069]*", title.inner_text())
    assert page.locator("img[src=x]").count() == 0
    assert dialogs == []


def test_ai_match_upload_goes_through_the_same_policy(
    page: Page, app_url: str, tmp_path: Path
) -> None:
    page.goto(f"{app_url}/ai")
    match_input = page.locator("#match-upload input[type=file]")
    workbook = tmp_path / "supplier.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    match_input.set_input_files(str(workbook))
    page.click("#start-match")
    expect(page.locator("#ai-error")).to_contain_text(
        "supplier.xlsx is not a file Jobboard can import"
    )

    good = tmp_path / "supplier\u202evsc.csv"
    good.write_bytes(PRODUCT_CSV)
    match_input.set_input_files(str(good))
    page.click("#start-match")
    page.wait_for_url(re.compile(r".*/tasks/[0-9a-f-]+$"))
    expect(page.get_by_role("heading", name="Match suppliervsc.csv")).to_be_visible()
