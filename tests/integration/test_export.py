"""Catalog export: Shopify's format or plain CSV, formula-safe, downloadable by its owner only."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient

from jobboard.api import create_api
from jobboard.api.v1.deps import current_user
from jobboard.core import jobs
from scripts.stack import Stack
from tests.conftest import SHOPIFY_SAMPLE, ProductRec, wait_for
from workers.export import safe_cell


def finished(job_id: str, owner: str) -> dict[str, Any]:
    return wait_for(
        lambda: (j := jobs.get_job(job_id, owner)) and j["status"] in ("completed", "failed") and j,
        30,
        "the export",
    )


def import_sample(owner: str) -> None:
    params = {"path": str(SHOPIFY_SAMPLE), "filename": "shop.csv"}
    job = jobs.submit("product_upload", owner_id=owner, title="shop.csv", params=params)
    assert finished(job.id, owner)["status"] == "completed"


def download(job_id: str, owner: str) -> tuple[int, str]:
    api = create_api()
    api.dependency_overrides[current_user] = lambda: SimpleNamespace(id=owner)
    response = TestClient(api).get(f"/api/v1/jobs/{job_id}/download")
    return response.status_code, response.text


def test_safe_cell_neutralises_formulas() -> None:
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    for risky in ("+1", "-2", "@SUM(A1)", "\tx"):
        assert safe_cell(risky).startswith("'")
    assert safe_cell("Plain text") == "Plain text"
    assert safe_cell(19.5) == "19.50"
    assert safe_cell(None) == ""


def test_shopify_export_round_trips_the_sample(services: Stack, owner: str) -> None:
    import_sample(owner)
    job = jobs.submit(
        "export_catalog", owner_id=owner, title="Export", params={"format": "shopify"}
    )
    done = finished(job.id, owner)
    assert done["status"] == "completed", done["error_data"]
    assert done["result_data"]["products"] == 3 and done["result_data"]["rows"] == 16
    status, text = download(job.id, owner)
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 16
    shirt = [r for r in rows if r["Handle"] == "example-shirt"]
    assert len(shirt) == 12 and shirt[0]["Title"] == "Example T-Shirt" and shirt[1]["Title"] == ""
    assert shirt[0]["Option1 Name"] == "Color" and shirt[1]["Option2 Value"] == "M"
    assert {r["Variant SKU"] for r in shirt} >= {"SRT_COT_111", "SRT_COT_433"}


def test_plain_export_is_formula_safe(services: Stack, owner: str) -> None:
    from jobboard.core.products import upsert_products

    upsert_products(
        owner,
        [
            ProductRec('=HYPERLINK("http://evil","x")', sku="A", price=5.0),
            ProductRec("@SUM(1+1)", sku="-B", vendor="+Vendor"),
        ],
    )
    job = jobs.submit("export_catalog", owner_id=owner, title="Export", params={"format": "plain"})
    assert finished(job.id, owner)["status"] == "completed"
    status, text = download(job.id, owner)
    rows = {r["title"]: r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
    assert status == 200 and len(rows) == 2
    assert '\'=HYPERLINK("http://evil","x")' in rows
    assert rows["'@SUM(1+1)"]["sku"] == "'-B" and rows["'@SUM(1+1)"]["vendor"] == "'+Vendor"
    assert rows['\'=HYPERLINK("http://evil","x")']["price"] == "5.00"


def test_download_is_for_the_owner_only(services: Stack, owner: str) -> None:
    import_sample(owner)
    job = jobs.submit("export_catalog", owner_id=owner, title="Export", params={})
    assert finished(job.id, owner)["status"] == "completed"
    assert download(job.id, owner)[0] == 200
    assert download(job.id, "someone-else")[0] == 404
    assert download("../../etc/passwd", owner)[0] == 404


def test_empty_catalog_fails_with_a_message(services: Stack, owner: str) -> None:
    job = jobs.submit("export_catalog", owner_id=owner, title="Export", params={})
    done = finished(job.id, owner)
    assert done["status"] == "failed"
    assert done["error_data"]["message"] == "the catalog is empty: there is nothing to export"
