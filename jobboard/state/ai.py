"""AI page state: start catalog AI jobs over the catalog table's scope."""

from __future__ import annotations

import asyncio
import re

import reflex as rx
from reflex.event import EventSpec

from jobboard.core import jobs, uploads
from jobboard.core.ai import NOT_CONFIGURED_MESSAGE, provider_config
from jobboard.core.format import count
from jobboard.state.products import ProductsState, Scope
from jobboard.state.session import current_user, owner_of, sign_in_url

MATCH_UPLOAD_ID = "match-upload"
MAX_DESCRIBE = 200


class AIState(rx.State):
    categories_text: str = ""
    instructions: str = ""
    threshold: str = "0.88"
    provider_ready: bool = False
    provider_message: str = ""
    error: str = ""

    @rx.event
    async def load(self) -> None:
        config = provider_config()
        self.provider_ready = config is not None
        self.provider_message = (
            f"Using {config.model} at {config.base_url}." if config else NOT_CONFIGURED_MESSAGE
        )
        self.error = ""

    @rx.event
    def set_threshold(self, value: str) -> None:
        self.threshold = value

    @rx.event
    def set_categories_text(self, value: str) -> None:
        self.categories_text = value

    @rx.event
    def set_instructions(self, value: str) -> None:
        self.instructions = value

    async def _scope(self) -> Scope:
        """The catalog table's selection, else what its search and filters match."""
        catalog = await self.get_state(ProductsState)
        return catalog.job_scope()

    async def _start(self, kind: str, title: str, params: dict) -> EventSpec | None:
        try:
            job = await asyncio.to_thread(
                jobs.submit, kind, owner_id=owner_of(self), title=title, params=params
            )
        except Exception as exc:
            self.error = f"Could not start the job: {exc}"
            return None
        return rx.redirect(f"/tasks/{job.id}")

    @rx.event
    async def start_duplicates(self) -> EventSpec | None:
        self.error = ""
        try:
            threshold = float(self.threshold)
        except ValueError as exc:
            self.error = str(exc)
            return None
        scope = await self._scope()
        return await self._start(
            "find_duplicates",
            f"Find duplicates ({scope.words})",
            {**scope.params, "threshold": threshold},
        )

    @rx.event
    async def start_categorize(self) -> EventSpec | None:
        self.error = ""
        categories = [c.strip() for c in re.split(r"[,\n]", self.categories_text) if c.strip()]
        if len(set(categories)) < 2:
            self.error = "Type at least two categories, separated by commas or new lines."
            return None
        scope = await self._scope()
        return await self._start(
            "auto_categorize",
            f"Auto-categorize into {len(set(categories))} categories ({scope.words})",
            {**scope.params, "categories": list(dict.fromkeys(categories))},
        )

    @rx.event
    async def start_describe(self) -> EventSpec | None:
        self.error = ""
        if provider_config() is None:
            self.error = NOT_CONFIGURED_MESSAGE
            return None
        scope = await self._scope()
        if scope.count == 0:
            self.error = "There are no products to describe here: select some, or search."
            return None
        if scope.count > MAX_DESCRIBE:
            self.error = (
                f"That is {scope.shown} products; select or search down to at most "
                f"{count(MAX_DESCRIBE)} at a time."
            )
            return None
        return await self._start(
            "describe_products",
            f"Write descriptions for {count(scope.count)} products",
            {**scope.params, "instructions": self.instructions or None},
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
        scope = await self._scope()
        params = {"path": str(stored.path), "filename": stored.name, **scope.params}
        title = f"Match {stored.name}" + (
            "" if scope.words.startswith("whole") else f" ({scope.words})"
        )
        started = await self._start("auto_match", title, params)
        if started is None:
            uploads.discard(stored.path)
        return started
