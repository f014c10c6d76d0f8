"""Server-side pagination shared by the list pages' states."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import reflex as rx

from jobboard.state.session import owner_of


class PagedState(rx.State, mixin=True):
    """`page` / `total` with next and previous; the state defines `page_size` and `_refresh`."""

    page_size: ClassVar[int] = 20
    page: int = 1
    total: int = 0

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def _fetch(self, owner: str) -> Any:
        """Read the current page (runs in a worker thread: no state changes here)."""
        raise NotImplementedError

    def _show_page(self, result: Any) -> None:
        raise NotImplementedError

    def _refresh(self) -> None:
        """Read and show the page right here (for live updates, which run outside events)."""
        self._show_page(self._fetch(owner_of(self)))

    async def _reload(self) -> None:
        """Read the page off the event loop, then show it."""
        self._show_page(await asyncio.to_thread(self._fetch, owner_of(self)))

    @rx.event
    async def next_page(self) -> None:
        if self.page < self.page_count:
            self.page += 1
            await self._reload()

    @rx.event
    async def prev_page(self) -> None:
        if self.page > 1:
            self.page -= 1
            await self._reload()
