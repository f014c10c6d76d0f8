"""Tasks list and job detail states: a snapshot on load, then live events."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any
from urllib.parse import urlencode

import reflex as rx
from reflex.event import EventSpec

from jobboard.core.events import supersedes
from jobboard.core.format import count, human_size, plural
from jobboard.core.joblist import SEARCH_MAX_CHARS, JobPage, ListError, list_page
from jobboard.core.jobs import KINDS, add_queue_positions, get_job
from jobboard.core.models import JobStatus
from jobboard.state import live
from jobboard.state.rows import JobRow, job_row
from jobboard.state.session import owner_of, token_of

PAGE_SIZE = 20
ALL = "all"
log = logging.getLogger(__name__)


def _event_job(event: dict[str, Any]) -> dict[str, Any]:
    return event["job"] | {"version": event["version"]}


def tasks_url(
    *,
    status: str = ALL,
    kind: str = ALL,
    q: str = "",
    page: int = 1,
    before: str = "",
    after: str = "",
) -> str:
    """The Tasks page's address for a view: filters, search and page (with its cursor)."""
    params = {
        "status": "" if status == ALL else status,
        "kind": "" if kind == ALL else kind,
        "q": q,
        "page": str(page) if page > 1 else "",
        "before": before if page > 1 else "",
        "after": after if page > 1 else "",
    }
    query = urlencode({k: v for k, v in params.items() if v})
    return "/tasks" + (f"?{query}" if query else "")


class TasksState(rx.State):
    """The Tasks list; its view (filters, search, page) lives in the address, so back,
    reload and a shared link show the same list. Handlers change the address; `load`
    (on_load, run for every address) reads it and fetches off the event loop."""

    rows: list[JobRow] = []
    status_filter: str = ALL
    kind_filter: str = ALL
    query: str = ""  # the search shown (from the address)
    page: int = 1
    total: int = 0
    total_exact: bool = True
    total_is: str = "exact"  # or "at_least" / "about" (a big search; see joblist.JobPage)
    older: str = ""  # cursor of the next (older) page; "" at the end
    newer: str = ""  # cursor of the previous (newer) page; "" on the first page
    cursor: str = ""  # the cursor this page was read from ("" = the first page)
    message: str = ""  # why the address could not be used as it is (bad cursor, search)
    loaded: bool = False  # False until the first snapshot: skeleton rows, not "no jobs"
    loading: bool = False

    @rx.var
    def total_text(self) -> str:
        noun = "job" if self.total == 1 else "jobs"
        if self.total_is == "at_least":
            return f"more than {count(self.total)} jobs"
        if self.total_is == "about":
            return f"about {count(self.total)} {noun}"
        return f"{count(self.total)} {noun}"

    @rx.var
    def page_text(self) -> str:
        if not self.total_exact:
            return f"Page {count(self.page)}"
        pages = max(1, -(-self.total // PAGE_SIZE))
        return f"Page {count(min(self.page, pages))} of {count(pages)}"

    @rx.var
    def filtered(self) -> bool:
        return bool(self.query) or self.status_filter != ALL or self.kind_filter != ALL

    def _url(self, **changes: Any) -> str:
        view: dict[str, Any] = {
            "status": self.status_filter,
            "kind": self.kind_filter,
            "q": self.query,
        }
        return tasks_url(**(view | changes))

    def _read_address(self) -> dict[str, Any]:
        params = self.router.url.query_parameters
        status = params.get("status") or ALL
        kind = params.get("kind") or ALL
        try:
            page = max(1, min(int(params.get("page") or 1), 10**9))
        except ValueError:
            page = 1
        return {
            "status": status if status in JobStatus.ALL else ALL,
            "kind": kind if kind in KINDS else ALL,
            "q": (params.get("q") or "").strip(),
            "page": page,
            "before": params.get("before") or "",
            "after": params.get("after") or "",
        }

    def _fetch(self, owner: str, view: dict[str, Any]) -> tuple[JobPage, str]:
        """Read the page (in a worker thread); a view the list cannot use gives the nearest
        one it can (the first page, or no search) and says why."""
        filters = {
            "status": None if view["status"] == ALL else view["status"],
            "kind": None if view["kind"] == ALL else view["kind"],
        }
        offset = 0
        if view["page"] > 1 and not (view["before"] or view["after"]):
            offset = (view["page"] - 1) * PAGE_SIZE  # a page number without a cursor
        try:
            return list_page(
                owner,
                q=view["q"],
                before=view["before"] or None,
                after=view["after"] or None,
                offset=offset,
                limit=PAGE_SIZE,
                **filters,
            ), ""
        except ListError as exc:
            message = str(exc)
        try:  # keep the search, drop the page
            return list_page(owner, q=view["q"], limit=PAGE_SIZE, **filters), message
        except ListError:
            return list_page(owner, limit=PAGE_SIZE, **filters), message

    def _show(self, view: dict[str, Any], found: JobPage, message: str) -> None:
        self.status_filter, self.kind_filter, self.query = view["status"], view["kind"], view["q"]
        first = not found.newer
        self.page = 1 if first else view["page"]
        self.cursor = "" if first else (view["before"] or view["after"])
        self.rows = [job_row(job) for job in found.jobs]
        self.total, self.total_exact, self.total_is = found.total, found.total_exact, found.total_is
        self.older, self.newer = found.older or "", found.newer or ""
        self.message = message

    @rx.event
    async def load(self):
        # Watch first, then read: events racing the read wait for this handler's lock.
        owner = owner_of(self)
        live.watch(owner, token_of(self), "page", TasksState)
        view = self._read_address()
        self.loading = True
        yield
        try:
            found, message = await asyncio.to_thread(self._fetch, owner, view)
        except Exception:
            log.exception("the Tasks list could not be read")
            self.loading = False
            yield rx.toast.error("The list could not be read; reload the page in a moment.")
            return
        self._show(view, found, message)
        self.loaded, self.loading = True, False

    @rx.event
    def set_status_filter(self, value: str) -> EventSpec:
        return rx.redirect(self._url(status=value))

    @rx.event
    def set_kind_filter(self, value: str) -> EventSpec:
        return rx.redirect(self._url(kind=value))

    @rx.event
    def search(self, form: dict[str, Any]) -> EventSpec | None:
        q = str(form.get("q") or "").strip()
        if len(q) > SEARCH_MAX_CHARS:
            self.message = f"Search for at most {SEARCH_MAX_CHARS} characters."
            return None
        return rx.redirect(self._url(q=q))

    @rx.event
    def clear_search(self) -> EventSpec:
        return rx.redirect(self._url(q=""))

    @rx.event
    def clear_filters(self) -> EventSpec:
        return rx.redirect(tasks_url())

    @rx.event
    def next_page(self) -> EventSpec | None:
        if not self.older:
            return None
        return rx.redirect(self._url(page=self.page + 1, before=self.older))

    @rx.event
    def prev_page(self) -> EventSpec | None:
        if not self.newer:
            return None
        return rx.redirect(self._url(page=max(1, self.page - 1), after=self.newer))

    @rx.event
    async def refresh_queue_positions(self) -> None:
        """Where queued rows stand in line (Redis and the DB: read in a worker thread)."""
        queued = [
            {"id": r.id, "kind": r.kind, "status": r.status, "progress_data": {}}
            for r in self.rows
            if r.status == JobStatus.QUEUED
        ]
        if not queued:
            return
        await asyncio.to_thread(add_queue_positions, queued)
        steps = {j["id"]: j["progress_data"].get("current_step") for j in queued}
        for index, row in enumerate(self.rows):
            if steps.get(row.id) and steps[row.id] != row.step and row.status == JobStatus.QUEUED:
                self.rows[index] = dataclasses.replace(row, step=steps[row.id])

    def apply_job_events(self, batch: list[dict[str, Any]]) -> list[EventSpec]:
        """Apply a batch; the rows var is assigned once, so the browser gets one small delta.
        Runs on the event loop: nothing here reads the database or Redis."""
        rows = list(self.rows)
        position = {row.id: i for i, row in enumerate(rows)}
        changed = line_moved = False
        filters = {
            "status": None if self.status_filter == ALL else self.status_filter,
            "kind": None if self.kind_filter == ALL else self.kind_filter,
        }
        for event in batch:
            job = _event_job(event)
            line_moved |= job["status"] != JobStatus.QUEUED
            i = position.get(job["id"])
            if i is not None:
                if supersedes(event["version"], job["status"], rows[i].version, rows[i].status):
                    rows[i] = job_row(job)
                    changed = True
                continue
            if self.query or any(value and job[name] != value for name, value in filters.items()):
                continue  # a search is read again on demand, not guessed from a title here
            # A job newer than the top row belongs at the top of the first page.
            on_top = not rows or job["created_at"] >= rows[0].created_at
            if self.loaded and not self.newer and on_top:
                rows = [job_row(job), *rows[: PAGE_SIZE - 1]]
                position = {row.id: n for n, row in enumerate(rows)}
                self.total += 1
                changed = True
        if changed:
            self.rows = rows
        if line_moved and any(r.status == JobStatus.QUEUED for r in rows):
            return [TasksState.refresh_queue_positions]
        return []


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
    total_rows: str = "0"
    imported: str = "0"
    unchanged: str = "0"
    updated: str = "0"
    skipped: int = 0
    skipped_text: str = "0"
    has_result: bool = False
    row_errors: list[dict[str, str]] = []
    warnings_count: int = 0
    warnings_text: str = "0"
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
        # Counts as the formatter writes them, like every other number on the page.
        self.total_rows = count(result.get("total_rows"))
        self.imported = count(result.get("imported"))
        self.updated = count(result.get("updated"))
        self.unchanged = count(result.get("unchanged"))
        self.skipped = int(result.get("skipped") or 0)
        self.skipped_text = count(self.skipped)
        self.row_errors = [
            {"row": str(err.get("row", "")), "reason": str(err.get("reason", ""))}
            for err in result.get("errors") or []
        ]
        self.warnings_count = int(result.get("warnings_count") or 0)
        self.warnings_text = count(self.warnings_count)
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
            groups = result.get("groups_total", len(self.dup_groups))
            self.summary = (
                f"Compared {plural(result.get('compared', 0), 'product')}: "
                f"{plural(groups, 'group')} of likely duplicates."
            )
        elif kind == "auto_categorize" and result:
            counts = result.get("counts") or {}
            self.summary = "; ".join(f"{name}: {count(n)}" for name, n in counts.items())
        elif kind == "auto_match" and result:
            self.summary = (
                f"{count(result.get('matched_count'))} matched, "
                f"{count(result.get('ambiguous_count'))} ambiguous, "
                f"{count(result.get('unmatched_count'))} unmatched "
                f"of {plural(result.get('rows', 0), 'row')}"
            )
        elif kind == "describe_products" and result:
            usage = result.get("usage") or {}
            tokens = usage.get("total_tokens")
            self.summary = f"{plural(len(self.descriptions), 'description')} written" + (
                f" · {plural(tokens, 'token')} ({result.get('model', '')})" if tokens else ""
            )
        elif kind == "export_catalog" and result:
            self.summary = (
                f"{plural(result.get('products', 0), 'product')} in "
                f"{plural(result.get('rows', 0), 'row')} "
                f"({result.get('format', '')} CSV, {human_size(result.get('size_bytes') or 0)})"
            )

    @rx.event
    async def load(self) -> None:
        # /tasks/<job_id>: the page's one dynamic argument (RouterData.page is deprecated).
        job_id = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
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
