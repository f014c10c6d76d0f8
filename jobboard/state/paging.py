"""Server-side pagination shared by the list pages' states."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx


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

    def _refresh(self) -> None:
        raise NotImplementedError

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
