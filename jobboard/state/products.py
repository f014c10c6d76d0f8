"""The catalog table's state: search, filters, sort, page and selection, kept in the URL.

One state serves both pages that show the catalog (/products and the AI page's picker), so
what a user searched and selected on one is the scope of the jobs started on either.

The URL is the source of truth for search, filters, sort and page: every change navigates to
the new URL (Reflex runs the page's on_load again), so back, reload and a shared link show
the same list. The selection lives only in the server-side state: a set of ids the user
ticked, or "all N matching" — which jobs receive as the filter itself, not as ids.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any, ClassVar
from urllib.parse import urlencode

import reflex as rx

from jobboard.core import jobs
from jobboard.core.exports import EXPORT_FORMATS, export_title
from jobboard.core.format import count
from jobboard.core.format import price as format_price
from jobboard.core.models import JobStatus
from jobboard.core.product_query import (
    DEFAULT_SORT,
    FILTER_FIELDS,
    SORTS,
    BadFilter,
    ProductFilter,
    count_cap,
    facet_values,
    parse_filter,
    parse_sort,
    search_products,
)
from jobboard.state import live
from jobboard.state.paging import PagedState
from jobboard.state.session import owner_of, token_of

PAGE_SIZE = 25
MAX_SELECTED = 10_000  # ticked one by one; beyond that, "all matching" is the way
ANY = "__any__"  # a select's "no filter" item (Radix selects cannot hold "")
# URL parameter -> filter field
URL_FIELDS = {"q": "q", "vendor": "vendor", "type": "product_type", "category": "category"}
log = logging.getLogger(__name__)
__all__ = ["ANY", "EXPORT_FORMATS", "SORTS", "ProductRow", "ProductsState", "Scope"]


@dataclasses.dataclass
class ProductRow:
    id: int = 0
    key: str = ""
    handle: str = ""
    title: str = ""
    sku: str = ""
    vendor: str = ""
    product_type: str = ""
    category: str = ""
    price: str = ""
    variants: str = ""
    tags: str = ""
    updated: str = ""


@dataclasses.dataclass
class Scope:
    """What a job runs over: `params` go into the job, `words` into its title."""

    params: dict[str, Any]
    words: str
    count: int  # past the page's count cap: cap + 1
    count_text: str = ""  # "1,234" or "more than 1,000"

    @property
    def shown(self) -> str:
        return self.count_text or count(self.count)


class ProductsState(PagedState, rx.State):
    page_size: ClassVar[int] = PAGE_SIZE

    rows: list[ProductRow] = []
    loaded: bool = False
    q: str = ""
    vendor: str = ""
    product_type: str = ""
    category: str = ""
    sort: str = DEFAULT_SORT
    message: str = ""
    vendors: list[str] = []
    types: list[str] = []
    categories: list[str] = []
    selected_ids: list[int] = []
    all_matching: bool = False

    # ------------------------------------------------------------------ reading

    def _filter(self) -> ProductFilter:
        return ProductFilter(self.q, self.vendor, self.product_type, self.category)

    def _fetch(self, owner: str) -> tuple[list[Any], int]:
        return search_products(
            owner,
            self._filter(),
            sort=self.sort,
            offset=self.offset,
            limit=self.page_size,
            count_cap=count_cap(self._filter()),
        )

    def _show_page(self, result: tuple[list[Any], int]) -> None:
        products, self.total = result
        self.loaded = True
        self.rows = [
            ProductRow(
                id=p.id or 0,
                key=p.key,
                handle=p.handle or "",
                title=p.title,
                sku=p.sku or "",
                vendor=p.vendor,
                product_type=p.product_type,
                category=p.category,
                price=format_price(p.price),
                variants=str(len(p.variants)) if p.variants else "—",
                tags=", ".join(p.tags),
                updated=p.updated_at.isoformat(),  # shown in the browser's zone
            )
            for p in products
        ]

    def _read_url(self) -> None:
        """Search, filters, sort and page from the URL; bad values give a message, not a 500."""
        params = dict(self.router.url.query_parameters)
        raw = {field: params.get(name) for name, field in URL_FIELDS.items()}
        raw = {k: v for k, v in raw.items() if isinstance(v, str)}
        self.message = ""
        try:
            flt = parse_filter(raw)
        except BadFilter as exc:
            self.message = f"{exc}; showing the whole catalog instead."
            flt = ProductFilter()
        if flt != self._filter():
            self.all_matching = False  # "all matching" meant the old filter's matches
        self.q, self.vendor = flt.q, flt.vendor
        self.product_type, self.category = flt.product_type, flt.category
        self.sort = parse_sort(params.get("sort"))
        try:
            self.page = max(1, min(int(str(params.get("page", "1"))), 1_000_000))
        except ValueError:
            self.page = 1

    def _facets(self, owner: str) -> tuple[list[str], list[str], list[str]]:
        return (
            facet_values(owner, "vendor"),
            facet_values(owner, "product_type"),
            facet_values(owner, "category"),
        )

    @rx.event
    async def load(self) -> None:
        live.watch(owner_of(self), token_of(self), "page", ProductsState)
        self._read_url()
        owner = owner_of(self)
        result, facets = await asyncio.gather(
            asyncio.to_thread(self._fetch, owner), asyncio.to_thread(self._facets, owner)
        )
        self.vendors, self.types, self.categories = facets
        if self.page > 1 and not result[0] and result[1]:  # past the end: show the last page
            self.page = self.page_count_for(result[1])
            result = await asyncio.to_thread(self._fetch, owner)
        self._show_page(result)

    def page_count_for(self, total: int) -> int:
        return max(1, -(-total // self.page_size))

    # ------------------------------------------------------------------ the URL

    def _url(self, **changes: Any) -> str:
        values = {
            "q": self.q,
            "vendor": self.vendor,
            "type": self.product_type,
            "category": self.category,
            "sort": self.sort,
            "page": self.page,
        } | changes
        if "page" not in changes:
            values["page"] = 1  # a new search or filter starts on page 1
        query = {
            k: v
            for k, v in values.items()
            if v and not (k == "sort" and v == DEFAULT_SORT) and not (k == "page" and v == 1)
        }
        path = (self.router.url.path or "").rstrip("/") or "/products"
        return path + ("?" + urlencode(query) if query else "")

    @rx.event
    def search(self, form: dict[str, Any]) -> rx.event.EventSpec:
        return rx.redirect(self._url(q=str(form.get("q") or "")))

    @rx.event
    def set_filter(self, field: str, value: str) -> rx.event.EventSpec | None:
        name = {v: k for k, v in URL_FIELDS.items()}.get(field)
        if name is None or field not in FILTER_FIELDS:
            return None
        return rx.redirect(self._url(**{name: "" if value == ANY else value}))

    @rx.event
    def set_sort(self, value: str) -> rx.event.EventSpec:
        return rx.redirect(self._url(sort=parse_sort(value)))

    @rx.event
    def clear_filters(self) -> rx.event.EventSpec:
        return rx.redirect(self._url(q="", vendor="", type="", category=""))

    @rx.event
    def next_page(self) -> rx.event.EventSpec | None:  # type: ignore[override]
        if self.page < self.page_count:
            return rx.redirect(self._url(page=self.page + 1))
        return None

    @rx.event
    def prev_page(self) -> rx.event.EventSpec | None:  # type: ignore[override]
        if self.page > 1:
            return rx.redirect(self._url(page=self.page - 1))
        return None

    # ------------------------------------------------------------------ selection

    @rx.var
    def ai_url(self) -> str:
        """The AI page with this search and these filters (the selection stays in the session)."""
        query = self._url().partition("?")[2]
        return "/ai" + ("?" + query if query else "")

    @rx.var
    def total_text(self) -> str:
        return self._count_text() + " product" + ("" if self.total == 1 else "s")

    def _count_text(self) -> str:
        cap = count_cap(self._filter())
        return f"more than {count(cap)}" if self.total > cap else count(self.total)

    @rx.var
    def page_text(self) -> str:
        shown = f"Page {count(self.page)}"
        return f"{shown} of {count(self.page_count)}" if self.total_known else shown

    @rx.var
    def selected_text(self) -> str:
        return count(len(self.selected_ids))

    @rx.var
    def total_known(self) -> bool:
        return self.total <= count_cap(self._filter())

    @rx.var
    def filtered(self) -> bool:
        return bool(self.q or self.vendor or self.product_type or self.category)

    @rx.var
    def selection_count(self) -> int:
        return self.total if self.all_matching else len(self.selected_ids)

    @rx.var
    def page_selected(self) -> bool:
        """Every row of this page is selected."""
        if self.all_matching:
            return bool(self.rows)
        chosen = set(self.selected_ids)
        return bool(self.rows) and all(r.id in chosen for r in self.rows)

    @rx.var
    def filter_words(self) -> str:
        return self._filter().describe()

    @rx.var
    def scope_text(self) -> str:
        """What a job started now would run over, in words."""
        return self._scope().words

    @rx.event
    def toggle(self, product_id: int, checked: bool) -> None:
        if self.all_matching:
            return
        ids = set(self.selected_ids)
        if checked and len(ids) < MAX_SELECTED:
            ids.add(product_id)
        else:
            ids.discard(product_id)
        self.selected_ids = sorted(ids)

    @rx.event
    def toggle_page(self, checked: bool) -> None:
        if self.all_matching and not checked:
            self.all_matching = False
            return
        ids = set(self.selected_ids)
        page = {r.id for r in self.rows}
        ids = (ids | page) if checked else (ids - page)
        self.selected_ids = sorted(ids)[:MAX_SELECTED]

    @rx.event
    def select_all_matching(self) -> None:
        self.all_matching = True
        self.selected_ids = []

    @rx.event
    def clear_selection(self) -> None:
        self.all_matching = False
        self.selected_ids = []

    def _scope(self) -> Scope:
        """The selection, else everything the current search and filters match."""
        flt = self._filter()
        if self.selected_ids and not self.all_matching:
            n = len(self.selected_ids)
            return Scope(
                {"product_ids": list(self.selected_ids)}, f"{count(n)} selected products", n
            )
        if flt.empty:
            shown = self._count_text()
            words = f"whole catalog, {shown} products"
            return Scope({"product_ids": None}, words, self.total, shown)
        words = f"{self._count_text()} products {flt.describe()}"
        params = {"product_ids": None, "filter": flt.as_params()}
        return Scope(params, words, self.total, self._count_text())

    def job_scope(self) -> Scope:
        """For the AI page's state (same session): the scope of a job started now."""
        return self._scope()

    # ------------------------------------------------------------------ actions

    @rx.event
    async def export(self, fmt: str) -> rx.event.EventSpec | None:
        """Export the scope (selection, or what the filters match); the job page offers the
        file."""
        if fmt not in EXPORT_FORMATS:
            return None
        scope = self._scope()
        title = export_title(fmt) + ("" if scope.words.startswith("whole") else f" ({scope.words})")
        try:
            job = await asyncio.to_thread(
                jobs.submit,
                "export_catalog",
                owner_id=owner_of(self),
                title=title,
                params={"format": fmt, **scope.params},
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
