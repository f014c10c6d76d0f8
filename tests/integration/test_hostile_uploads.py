"""Hostile product files through the real worker job: final status, message and catalog."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from jobboard.core.products import list_products
from scripts.stack import Stack
from tests.integration.test_upload_job import finished, submit_file

JAPANESE = [
    ("JP-001", "緑茶 ティーバッグ 50袋", "1200"),
    ("JP-002", "抹茶ラテの素", "980"),
    ("JP-003", "日本製 陶器 マグカップ", "2500"),
    ("JP-004", "有機栽培 ほうじ茶", "750"),
]


def test_shift_jis_file_imports_the_real_titles(
    services: Stack, owner: str, upload_file: Callable[[str, bytes], Path]
) -> None:
    rows = [("商品コード", "商品名", "価格"), *JAPANESE]
    data = "".join(",".join(row) + "\r\n" for row in rows).encode("shift_jis")
    job = finished(submit_file(owner, upload_file("japan.csv", data)), owner)
    assert job["status"] == "completed", job["error_data"]
    result = job["result_data"]
    assert (result["imported"], result["skipped"], result["encoding"]) == (4, 0, "Shift-JIS")
    products = {p.sku: (p.title, p.price) for p in list_products(owner)[0]}
    assert products == {sku: (title, float(price)) for sku, title, price in JAPANESE}


def test_warnings_reach_the_job_result_and_repeats_count_once(
    services: Stack, owner: str, upload_file: Callable[[str, bytes], Path]
) -> None:
    data = (
        "sku,title,price\n"
        f"A,{'T' * 600},1.299\n"  # title cut; price read as 1299 with a note
        "B,Bell,15\n"
        "A,Again,20\n"  # the same SKU: this row wins
    ).encode()
    job = finished(submit_file(owner, upload_file("warn.csv", data)), owner)
    assert job["status"] == "completed", job["error_data"]
    result = job["result_data"]
    assert (result["imported"], result["updated"], result["skipped"]) == (2, 0, 0)
    assert result["warnings_count"] == 3
    assert result["warnings"] == [
        {"row": 2, "message": "title is 600 characters long; only its first 500 were kept"},
        {
            "row": 2,
            "message": "price '1.299' was read as 1299: no other price in the file shows "
            "whether '.' separates thousands or decimals",
        },
        {"row": 4, "message": "SKU 'A' is also in row 2; this row replaced it"},
    ]
    products = {p.sku: (p.title, p.price) for p in list_products(owner)[0]}
    assert products == {"A": ("Again", 20.0), "B": ("Bell", 15.0)}


def test_deep_json_and_excel_fail_with_clear_messages(
    services: Stack, owner: str, upload_file: Callable[[str, bytes], Path]
) -> None:
    deep = finished(
        submit_file(owner, upload_file("deep.json", b"[" * 100_000 + b"]" * 100_000)), owner
    )
    assert deep["status"] == "failed"
    assert deep["error_data"]["message"].startswith(
        "deep.json nests brackets too deeply to be a product list"
    )

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    excel = finished(submit_file(owner, upload_file("prices.xlsx", buffer.getvalue())), owner)
    assert excel["status"] == "failed"
    message = excel["error_data"]["message"]
    assert message.startswith("prices.xlsx is an Excel workbook, which Jobboard cannot import")
    assert "save it as CSV UTF-8" in message
    assert "CSV, TSV or TXT files, Shopify CSV exports and JSON" in message
    assert list_products(owner)[1] == 0
