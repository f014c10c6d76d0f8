"""Tasks list and job detail states: a snapshot on load, then live events."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from jobboard.core.jobs import add_queue_positions, get_job, list_jobs
from jobboard.core.models import JobStatus
from jobboard.state import live
from jobboard.state.rows import JobRow, job_row
from jobboard.state.session import owner_of, token_of

PAGE_SIZE = 20
ALL = "all"


def _event_job(event: dict[str, Any]) -> dict[str, Any]:
    return event["job"] | {"version": event["version"]}


class TasksState(rx.State):
    rows: list[JobRow] = []
    total: int = 0
    page: int = 1
    status_filter: str = ALL
    kind_filter: str = ALL

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @rx.var
    def has_prev(self) -> bool:
        return self.page > 1

    @rx.var
    def has_next(self) -> bool:
        return self.page < self.page_count

    def _filters(self) -> dict[str, str | None]:
        return {
            "status": None if self.status_filter == ALL else self.status_filter,
            "kind": None if self.kind_filter == ALL else self.kind_filter,
        }

    def _refresh(self) -> None:
        jobs, total = list_jobs(
            owner_of(self), offset=(self.page - 1) * PAGE_SIZE, limit=PAGE_SIZE, **self._filters()
        )
        self.rows = [job_row(job) for job in jobs]
        self.total = total

    @rx.event
    def load(self) -> None:
        # Watch first, then read: events racing the read wait for this handler's lock.
        live.watch(owner_of(self), token_of(self), "page", TasksState)
        self._refresh()

    @rx.event
    def set_status_filter(self, value: str) -> None:
        self.status_filter, self.page = value, 1
        self._refresh()

    @rx.event
    def set_kind_filter(self, value: str) -> None:
        self.kind_filter, self.page = value, 1
        self._refresh()

    @rx.event
    def next_page(self) -> None:
        if self.has_next:
            self.page += 1
            self._refresh()

    @rx.event
    def prev_page(self) -> None:
        if self.page > 1:
            self.page -= 1
            self._refresh()

    def _refresh_queue_positions(self) -> None:
        queued = [
            {"id": r.id, "kind": r.kind, "status": r.status, "progress_data": {}}
            for r in self.rows
            if r.status == JobStatus.QUEUED
        ]
        add_queue_positions(queued)
        steps = {j["id"]: j["progress_data"].get("current_step") for j in queued}
        for index, row in enumerate(self.rows):
            if steps.get(row.id) and steps[row.id] != row.step:
                self.rows[index] = dataclasses.replace(row, step=steps[row.id])

    def apply_job_event(self, event: dict[str, Any]) -> None:
        job = _event_job(event)
        if job["status"] != JobStatus.QUEUED and any(
            r.status == JobStatus.QUEUED for r in self.rows
        ):
            self._refresh_queue_positions()  # the line moved
        for index, row in enumerate(self.rows):
            if row.id == job["id"]:
                if event["version"] > row.version:  # older events are stale
                    self.rows[index] = job_row(job)
                return
        filters = self._filters()
        if any(value and job[name] != value for name, value in filters.items()):
            return
        # A job newer than the top row belongs at the top of page 1.
        if self.page == 1 and (not self.rows or job["created_at"] >= self.rows[0].created_at):
            self.rows = [job_row(job), *self.rows[: PAGE_SIZE - 1]]
            self.total += 1


class JobDetailState(rx.State):
    job: JobRow = JobRow()
    found: bool = True
    loaded: bool = False
    filename: str = ""
    file_format: str = ""
    total_rows: int = 0
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    has_result: bool = False
    row_errors: list[dict[str, str]] = []
    error_details: str = ""
    params_text: str = ""

    def _show(self, job: dict[str, Any]) -> None:
        self.job = job_row(job)
        result = job.get("result_data") or {}
        self.has_result = bool(result)
        self.filename = str(result.get("filename", ""))
        self.file_format = str(result.get("format", ""))
        self.total_rows = int(result.get("total_rows") or 0)
        self.imported = int(result.get("imported") or 0)
        self.updated = int(result.get("updated") or 0)
        self.skipped = int(result.get("skipped") or 0)
        self.row_errors = [
            {"row": str(err.get("row", "")), "reason": str(err.get("reason", ""))}
            for err in result.get("errors") or []
        ]
        self.error_details = str((job.get("error_data") or {}).get("details") or "")

    @rx.event
    def load(self) -> None:
        job_id = str(self.router.page.params.get("job_id", ""))
        live.watch(owner_of(self), token_of(self), "page", JobDetailState)
        job = get_job(job_id, owner_of(self)) if job_id else None
        self.loaded = True
        self.found = job is not None
        if job is None:
            self.job = JobRow()
            return
        self._show(job)

    def apply_job_event(self, event: dict[str, Any]) -> None:
        if event["job"]["id"] == self.job.id and event["version"] > self.job.version:
            self._show(_event_job(event))
