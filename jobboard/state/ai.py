"""AI page state: pick products, start catalog AI jobs."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Any, ClassVar

import reflex as rx
from reflex.event import EventSpec

from jobboard.core import jobs, uploads
from jobboard.core.ai import NOT_CONFIGURED_MESSAGE, provider_config
from jobboard.core.products import list_products
from jobboard.state import live
from jobboard.state.paging import PagedState
from jobboard.state.session import current_user, owner_of, sign_in_url, token_of

PAGE_SIZE = 10
MATCH_UPLOAD_ID = "match-upload"
MAX_DESCRIBE = 200


@dataclasses.dataclass
class PickRow:
    id: int = 0
    title: str = ""
    sku: str = ""
    category: str = ""
    selected: bool = False


class AIState(PagedState, rx.State):
    page_size: ClassVar[int] = PAGE_SIZE

    scope: str = "all"  # "all" | "selected"
    rows: list[PickRow] = []
    selected_ids: list[int] = []
    categories_text: str = ""
    instructions: str = ""
    threshold: str = "0.88"
    provider_ready: bool = False
    provider_message: str = ""
    error: str = ""

    def _fetch(self, owner: str) -> tuple[list[Any], int]:
        return list_products(owner, offset=self.offset, limit=self.page_size)

    def _show_page(self, result: tuple[list[Any], int]) -> None:
        products, self.total = result
        chosen = set(self.selected_ids)
        self.rows = [
            PickRow(p.id or 0, p.title, p.sku or "", p.category, p.id in chosen) for p in products
        ]

    @rx.event
    async def load(self) -> None:
        live.watch(owner_of(self), token_of(self), "page", None)
        config = provider_config()
        self.provider_ready = config is not None
        self.provider_message = (
            f"Using {config.model} at {config.base_url}." if config else NOT_CONFIGURED_MESSAGE
        )
        self.error = ""
        await self._reload()

    @rx.event
    def set_scope(self, value: str) -> None:
        self.scope = value

    @rx.event
    def set_threshold(self, value: str) -> None:
        self.threshold = value

    @rx.event
    def set_categories_text(self, value: str) -> None:
        self.categories_text = value

    @rx.event
    def set_instructions(self, value: str) -> None:
        self.instructions = value

    @rx.event
    async def toggle(self, product_id: int, checked: bool) -> None:
        ids = set(self.selected_ids)
        ids.add(product_id) if checked else ids.discard(product_id)
        self.selected_ids = sorted(ids)
        await self._reload()

    @rx.event
    async def clear_selection(self) -> None:
        self.selected_ids = []
        await self._reload()

    def _product_ids(self) -> list[int] | None:
        if self.scope == "all":
            return None
        if not self.selected_ids:
            raise jobs.JobError("Select at least one product, or choose the whole catalog.")
        return list(self.selected_ids)

    async def _start(self, kind: str, title: str, params: dict) -> EventSpec | None:
        try:
            job = await asyncio.to_thread(
                jobs.submit, kind, owner_id=owner_of(self), title=title, params=params
            )
        except Exception as exc:
            self.error = f"Could not start the job: {exc}"
            return None
        return rx.redirect(f"/tasks/{job.id}")

    def _scope_words(self) -> str:
        return "whole catalog" if self.scope == "all" else f"{len(self.selected_ids)} products"

    @rx.event
    async def start_duplicates(self) -> EventSpec | None:
        self.error = ""
        try:
            ids = self._product_ids()
            threshold = float(self.threshold)
        except (jobs.JobError, ValueError) as exc:
            self.error = str(exc)
            return None
        return await self._start(
            "find_duplicates",
            f"Find duplicates ({self._scope_words()})",
            {"product_ids": ids, "threshold": threshold},
        )

    @rx.event
    async def start_categorize(self) -> EventSpec | None:
        self.error = ""
        categories = [c.strip() for c in re.split(r"[,\n]", self.categories_text) if c.strip()]
        if len(set(categories)) < 2:
            self.error = "Type at least two categories, separated by commas or new lines."
            return None
        try:
            ids = self._product_ids()
        except jobs.JobError as exc:
            self.error = str(exc)
            return None
        return await self._start(
            "auto_categorize",
            f"Auto-categorize into {len(set(categories))} categories ({self._scope_words()})",
            {"product_ids": ids, "categories": list(dict.fromkeys(categories))},
        )

    @rx.event
    async def start_describe(self) -> EventSpec | None:
        self.error = ""
        if provider_config() is None:
            self.error = NOT_CONFIGURED_MESSAGE
            return None
        if self.scope == "all" or not self.selected_ids:
            self.error = "Select the products to describe (up to 200)."
            return None
        if len(self.selected_ids) > MAX_DESCRIBE:
            self.error = f"Select at most {MAX_DESCRIBE} products at a time."
            return None
        return await self._start(
            "describe_products",
            f"Write descriptions for {len(self.selected_ids)} products",
            {"product_ids": list(self.selected_ids), "instructions": self.instructions or None},
        )

    @rx.event
    async def start_match(self, files: list[rx.UploadFile]) -> EventSpec | None:
        if await current_user(self) is None:  # uploads come over HTTP: check here too
            return rx.redirect(sign_in_url("/ai"))
        self.error = ""
        if not files:
            self.error = "Choose the file to match against the catalog."
            return None
        upload = files[0]
        try:
            stored = await asyncio.to_thread(
                uploads.store_upload, upload.file, upload.name, upload.content_type or ""
            )
        except uploads.UploadRefused as exc:
            self.error = str(exc)
            return None
        params = {"path": str(stored.path), "filename": stored.name}
        started = await self._start("auto_match", f"Match {stored.name}", params)
        if started is None:
            uploads.discard(stored.path)
        return started
