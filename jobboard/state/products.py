"""Products page state: one page of the owner's catalog."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from jobboard.core.models import JobStatus
from jobboard.core.products import list_products
from jobboard.state import live
from jobboard.state.session import owner_of, token_of

PAGE_SIZE = 25


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


class ProductsState(rx.State):
    rows: list[ProductRow] = []
    total: int = 0
    page: int = 1

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    def _refresh(self) -> None:
        products, self.total = list_products(
            owner_of(self), offset=(self.page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        self.rows = [
            ProductRow(
                key=p.key,
                handle=p.handle or "",
                title=p.title,
                sku=p.sku or "",
                vendor=p.vendor,
                product_type=p.product_type,
                price=f"{p.price:,.2f}" if p.price is not None else "",
                variants=str(len(p.variants)) if p.variants else "—",
                tags=", ".join(p.tags),
                updated=p.updated_at.strftime("%Y-%m-%d %H:%M"),
            )
            for p in products
        ]

    @rx.event
    def load(self) -> None:
        live.watch(owner_of(self), token_of(self), "page", ProductsState)
        self.page = 1
        self._refresh()

    def apply_job_event(self, event: dict[str, Any]) -> None:
        # A finished upload changes the catalog: show it without a reload.
        job = event["job"]
        if job["kind"] == "product_upload" and job["status"] == JobStatus.COMPLETED:
            self._refresh()

    @rx.event
    def next_page(self) -> None:
        if self.page < self.page_count:
            self.page += 1
            self._refresh()

    @rx.event
    def prev_page(self) -> None:
        if self.page > 1:
            self.page -= 1
            self._refresh()
