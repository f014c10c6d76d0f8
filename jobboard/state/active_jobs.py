"""The header's active-jobs indicator: a count and the newest few, live on every page."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from jobboard.core.events import supersedes
from jobboard.core.format import count
from jobboard.core.jobs import active_jobs
from jobboard.core.models import JobStatus
from jobboard.state import live
from jobboard.state.rows import JobRow, job_row
from jobboard.state.session import owner_of, token_of

SHOWN = 8


class ActiveJobsState(rx.State):
    count: int = 0
    rows: list[JobRow] = []
    loaded: bool = False  # until the first snapshot the badge shows a placeholder, not "none"
    _active_ids: set[str] = set()

    # As the formatter writes them, in the session's locale.
    @rx.var
    def count_text(self) -> str:
        return count(self.count)

    @rx.var
    def more_text(self) -> str:
        return count(self.count - len(self.rows))

    def _show(self, jobs: list[dict[str, Any]], ids: list[str]) -> None:
        self.rows = [job_row(job) for job in jobs]
        self._active_ids = set(ids)
        self.count = len(ids)
        self.loaded = True

    @rx.event
    async def start(self) -> None:
        live.watch(owner_of(self), token_of(self), "header", ActiveJobsState)
        await self.refresh()

    @rx.event
    async def refresh(self) -> None:
        # Off the event loop: every page load (and reconnect) runs this.
        self._show(*await asyncio.to_thread(active_jobs, owner_of(self), limit=SHOWN))

    def apply_job_event(self, event: dict[str, Any]) -> list[EventSpec] | None:
        """Runs on the event loop: reads nothing; a refill is a separate (threaded) event."""
        job = event["job"] | {"version": event["version"]}
        job_id, active = job["id"], job["status"] in JobStatus.ACTIVE
        index = next((i for i, row in enumerate(self.rows) if row.id == job_id), None)
        if index is not None and not supersedes(
            event["version"], job["status"], self.rows[index].version, self.rows[index].status
        ):
            return None  # stale
        if active:
            if job_id not in self._active_ids:
                self._active_ids = self._active_ids | {job_id}
                self.count = len(self._active_ids)
            if index is not None:
                self.rows[index] = job_row(job)
            elif len(self.rows) < SHOWN or job["created_at"] >= self.rows[0].created_at:
                self.rows = [job_row(job), *self.rows][:SHOWN]
        elif job_id in self._active_ids:
            self._active_ids = self._active_ids - {job_id}
            self.count = len(self._active_ids)
            if index is not None:
                self.rows = [row for row in self.rows if row.id != job_id]
                if len(self.rows) < min(SHOWN, self.count):
                    return [ActiveJobsState.refresh]  # an older active job moves into view
        return None
