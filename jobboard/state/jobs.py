"""Tasks list and job detail states: a snapshot on load, then live events."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, ClassVar

import reflex as rx

from jobboard.core.events import supersedes
from jobboard.core.jobs import add_queue_positions, get_job, list_jobs
from jobboard.core.models import JobStatus
from jobboard.state import live
from jobboard.state.paging import PagedState
from jobboard.state.rows import JobRow, job_row
from jobboard.state.session import owner_of, token_of

PAGE_SIZE = 20
ALL = "all"


def _event_job(event: dict[str, Any]) -> dict[str, Any]:
    return event["job"] | {"version": event["version"]}


class TasksState(PagedState, rx.State):
    page_size: ClassVar[int] = PAGE_SIZE

    rows: list[JobRow] = []
    status_filter: str = ALL
    kind_filter: str = ALL

    def _filters(self) -> dict[str, str | None]:
        return {
            "status": None if self.status_filter == ALL else self.status_filter,
            "kind": None if self.kind_filter == ALL else self.kind_filter,
        }

    def _fetch(self, owner: str) -> tuple[list[dict[str, Any]], int]:
        return list_jobs(owner, offset=self.offset, limit=self.page_size, **self._filters())

    def _show_page(self, result: tuple[list[dict[str, Any]], int]) -> None:
        jobs, total = result
        self.rows = [job_row(job) for job in jobs]
        self.total = total

    @rx.event
    async def load(self) -> None:
        # Watch first, then read: events racing the read wait for this handler's lock.
        live.watch(owner_of(self), token_of(self), "page", TasksState)
        await self._reload()

    @rx.event
    async def set_status_filter(self, value: str) -> None:
        self.status_filter, self.page = value, 1
        await self._reload()

    @rx.event
    async def set_kind_filter(self, value: str) -> None:
        self.kind_filter, self.page = value, 1
        await self._reload()

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

    def apply_job_events(self, batch: list[dict[str, Any]]) -> None:
        """Apply a batch; the rows var is assigned once, so the browser gets one small delta."""
        rows = list(self.rows)
        position = {row.id: i for i, row in enumerate(rows)}
        changed = line_moved = False
        filters = self._filters()
        for event in batch:
            job = _event_job(event)
            line_moved |= job["status"] != JobStatus.QUEUED
            i = position.get(job["id"])
            if i is not None:
                if supersedes(event["version"], job["status"], rows[i].version, rows[i].status):
                    rows[i] = job_row(job)
                    changed = True
                continue
            if any(value and job[name] != value for name, value in filters.items()):
                continue
            # A job newer than the top row belongs at the top of page 1.
            if self.page == 1 and (not rows or job["created_at"] >= rows[0].created_at):
                rows = [job_row(job), *rows[: PAGE_SIZE - 1]]
                position = {row.id: n for n, row in enumerate(rows)}
                self.total += 1
                changed = True
        if changed:
            self.rows = rows
        if line_moved and any(r.status == JobStatus.QUEUED for r in rows):
            self._refresh_queue_positions()


@dataclasses.dataclass
class DupGroup:
    score: str = ""
    products: list[str] = dataclasses.field(default_factory=list)


def _str_rows(rows: list[dict[str, Any]] | None, *fields: str) -> list[dict[str, str]]:
    out = []
    for row in rows or []:
        item = {}
        for name in fields:
            value = row.get(name)
            item[name] = f"{value:.3f}" if isinstance(value, float) else str(value or "")
        out.append(item)
    return out


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
    warnings_count: int = 0
    row_warnings: list[dict[str, str]] = []
    encoding: str = ""
    summary: str = ""
    dup_groups: list[DupGroup] = []
    assignments: list[dict[str, str]] = []
    matched: list[dict[str, str]] = []
    ambiguous: list[dict[str, str]] = []
    unmatched: list[dict[str, str]] = []
    descriptions: list[dict[str, str]] = []
    category_choices: list[str] = []  # what a reviewed assignment may be changed to
    failed_items: list[dict[str, str]] = []
    download_url: str = ""

    def _show(self, job: dict[str, Any]) -> None:
        self.job = job_row(job)
        result = job.get("result_data") or {}
        self.has_result = bool(result) and job["kind"] == "product_upload"
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
        self.warnings_count = int(result.get("warnings_count") or 0)
        self.row_warnings = _str_rows(result.get("warnings"), "row", "message")
        self.encoding = str(result.get("encoding", ""))
        self._show_ai(job["kind"], result)

    def _show_ai(self, kind: str, result: dict[str, Any]) -> None:
        """The readable parts of AI and export results."""
        self.summary = ""
        self.dup_groups = [
            DupGroup(
                f"{g.get('score', 0):.2f}",
                [f"{p.get('title')} ({p.get('sku') or 'no SKU'})" for p in g.get("products", [])],
            )
            for g in result.get("groups") or []
        ]
        self.assignments = _str_rows(
            result.get("assignments"), "product_id", "title", "category", "confidence"
        )
        self.matched = _str_rows(
            result.get("matched"), "row", "sku", "title", "product_title", "method", "score"
        )
        self.ambiguous = [
            {
                "row": str(a.get("row", "")),
                "title": str(a.get("title", "")),
                "candidates": ", ".join(
                    f"{c.get('title')} ({c.get('score', 0):.2f})" for c in a.get("candidates", [])
                ),
            }
            for a in result.get("ambiguous") or []
        ]
        self.unmatched = _str_rows(result.get("unmatched"), "row", "sku", "title")
        self.descriptions = _str_rows(
            result.get("descriptions"), "product_id", "title", "description"
        )
        self.category_choices = [str(c) for c in result.get("categories") or []]
        self.failed_items = _str_rows(result.get("failed"), "product_id", "title", "error")
        self.download_url = str(result.get("download_url") or "")
        if kind == "find_duplicates" and result:
            self.summary = (
                f"Compared {result.get('compared', 0):,} products: "
                f"{result.get('groups_total', len(self.dup_groups)):,} groups of likely duplicates."
            )
        elif kind == "auto_categorize" and result:
            counts = result.get("counts") or {}
            self.summary = "; ".join(f"{name}: {n:,}" for name, n in counts.items())
        elif kind == "auto_match" and result:
            self.summary = (
                f"{result.get('matched_count', 0):,} matched, "
                f"{result.get('ambiguous_count', 0):,} ambiguous, "
                f"{result.get('unmatched_count', 0):,} unmatched of {result.get('rows', 0):,} rows"
            )
        elif kind == "describe_products" and result:
            usage = result.get("usage") or {}
            tokens = usage.get("total_tokens")
            self.summary = f"{len(self.descriptions)} descriptions written" + (
                f" · {tokens:,} tokens ({result.get('model', '')})" if tokens else ""
            )
        elif kind == "export_catalog" and result:
            self.summary = (
                f"{result.get('products', 0):,} products in {result.get('rows', 0):,} rows "
                f"({result.get('format', '')} CSV, {result.get('size_bytes', 0) / 1024:,.0f} KiB)"
            )

    @rx.event
    async def load(self) -> None:
        job_id = str(self.router.page.params.get("job_id", ""))
        owner = owner_of(self)
        live.watch(owner, token_of(self), "page", JobDetailState)
        job = await asyncio.to_thread(get_job, job_id, owner) if job_id else None
        self.loaded = True
        self.found = job is not None
        if job is None:
            self.job = JobRow()
            return
        self._show(job)

    def apply_job_event(self, event: dict[str, Any]) -> None:
        job = event["job"]
        if job["id"] == self.job.id and supersedes(
            event["version"], job["status"], self.job.version, self.job.status
        ):
            self._show(_event_job(event))
