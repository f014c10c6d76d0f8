"""Export the catalog as CSV: Shopify's product import format or a plain table."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobboard.core import jobs
from jobboard.core.exports import export_path
from jobboard.core.models import Job, Product
from jobboard.core.progress import ProgressReporter
from workers.common import scope_words, scoped_catalog

SHOPIFY_COLUMNS = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name",
    "Option3 Value", "Variant SKU", "Variant Price", "Status",
]  # fmt: skip
PLAIN_COLUMNS = [
    "sku", "title", "description", "vendor", "type", "category", "tags", "price", "handle",
    "variants",
]  # fmt: skip
# Spreadsheets run cells that start like this as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """Text a spreadsheet shows as typed: a leading quote disarms formula characters."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _handle(product: Product) -> str:
    return product.handle or re.sub(r"[^a-z0-9]+", "-", product.key.lower()).strip("-") or "product"


def _shopify_rows(product: Product) -> list[list[Any]]:
    names = [o.get("name", "") for o in product.options][:3]
    base = [
        _handle(product), product.title, product.description, product.vendor,
        product.category, product.product_type, ", ".join(product.tags), "TRUE",
    ]  # fmt: skip
    variants = product.variants or [{"sku": product.sku, "price": product.price, "options": []}]
    rows = []
    for index, variant in enumerate(variants):
        values = list(variant.get("options") or [])[:3]
        options: list[Any] = []
        for n in range(3):
            options += [names[n] if index == 0 and n < len(names) else "",
                        values[n] if n < len(values) else ""]  # fmt: skip
        head = base if index == 0 else [base[0]] + [""] * (len(base) - 1)
        rows.append(
            [
                *head,
                *options,
                variant.get("sku"),
                variant.get("price"),
                "active" if index == 0 else "",
            ]
        )
    return rows


def _plain_row(product: Product) -> list[Any]:
    return [
        product.sku, product.title, product.description, product.vendor, product.product_type,
        product.category, ", ".join(product.tags), product.price, product.handle,
        len(product.variants),
    ]  # fmt: skip


def run(job_id: str) -> dict[str, Any]:
    return jobs.run(job_id, export_catalog)


def export_catalog(job: Job, progress: ProgressReporter) -> dict[str, Any]:
    fmt = job.params.get("format", "shopify")
    if fmt not in ("shopify", "plain"):
        raise jobs.JobError(f"unknown export format {fmt!r}: choose shopify or plain")
    progress.update(step="Reading the catalog")
    products = scoped_catalog(job.owner_id, job.params)
    if not products:
        where = scope_words(job.params)
        raise jobs.JobError(
            f"no products{where}: there is nothing to export"
            if where or job.params.get("product_ids")
            else "the catalog is empty: there is nothing to export"
        )
    path: Path = export_path(job.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    progress.update(step="Writing CSV", processed=0, total=len(products))
    with path.open("w", newline="", encoding="utf-8-sig") as out:  # BOM: Excel reads UTF-8
        writer = csv.writer(out)
        writer.writerow(SHOPIFY_COLUMNS if fmt == "shopify" else PLAIN_COLUMNS)
        for done, product in enumerate(products, 1):
            for row in _shopify_rows(product) if fmt == "shopify" else [_plain_row(product)]:
                writer.writerow([safe_cell(cell) for cell in row])
                rows += 1
            progress.update(processed=done)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return {
        "format": fmt,
        "filename": f"catalog-{fmt}-{stamp}.csv",
        "products": len(products),
        "rows": rows,
        "size_bytes": path.stat().st_size,
        "download_url": f"/api/v1/jobs/{job.id}/download",
    }
