"""Products page state: one page of the owner's catalog."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any, ClassVar

import reflex as rx

from jobboard.core import jobs
from jobboard.core.exports import EXPORT_FORMATS, export_title
from jobboard.core.format import price as format_price
from jobboard.core.models import JobStatus
from jobboard.core.products import list_products
from jobboard.state import live
from jobboard.state.paging import PagedState
from jobboard.state.session import owner_of, token_of

PAGE_SIZE = 25
log = logging.getLogger(__name__)


@dataclasses.dataclass
class ProductRow:
    key: str = ""
    handle: str = ""
    title: str = ""
    sku: str = ""
    vendor: str = ""
    product_type: str = ""
    price: str = ""
    variants: str = ""
    tags: str = ""
    updated: str = ""


class ProductsState(PagedState, rx.State):
    page_size: ClassVar[int] = PAGE_SIZE

    rows: list[ProductRow] = []

    def _fetch(self, owner: str) -> tuple[list[Any], int]:
        return list_products(owner, offset=self.offset, limit=self.page_size)

    def _show_page(self, result: tuple[list[Any], int]) -> None:
        products, self.total = result
        self.rows = [
            ProductRow(
                key=p.key,
                handle=p.handle or "",
                title=p.title,
                sku=p.sku or "",
                vendor=p.vendor,
                product_type=p.product_type,
                price=format_price(p.price),
                variants=str(len(p.variants)) if p.variants else "—",
                tags=", ".join(p.tags),
                updated=p.updated_at.isoformat(),  # shown in the browser's zone
            )
            for p in products
        ]

    @rx.event
    async def load(self) -> None:
        live.watch(owner_of(self), token_of(self), "page", ProductsState)
        self.page = 1
        await self._reload()

    @rx.event
    async def export(self, fmt: str) -> rx.event.EventSpec | None:
        """Start a catalog export and open its job page (the download is offered there)."""
        if fmt not in EXPORT_FORMATS:
            return None
        try:
            job = await asyncio.to_thread(
                jobs.submit,
                "export_catalog",
                owner_id=owner_of(self),
                title=export_title(fmt),
                params={"format": fmt},
            )
        except Exception:
            log.exception("could not start an export")
            return rx.toast.error("The export could not be started; try again in a moment.")
        return rx.redirect(f"/tasks/{job.id}")

    def apply_job_event(self, event: dict[str, Any]) -> None:
        # A finished upload changes the catalog: show it without a reload.
        job = event["job"]
        if job["kind"] == "product_upload" and job["status"] == JobStatus.COMPLETED:
            self._refresh()
