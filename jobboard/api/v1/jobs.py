"""Reading and controlling the caller's jobs. Another owner's job is "not found", never 403."""

from __future__ import annotations

import asyncio
import math
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from jobboard.api.v1.deps import CurrentUser
from jobboard.api.v1.schemas import Job, JobAccepted, JobPage, Kind, LatestJob, Pagination, Status
from jobboard.core import joblist, jobs
from jobboard.core.exports import export_file
from jobboard.core.hub import RESUBSCRIBED, Overflow, get_hub
from jobboard.core.models import JobStatus
from jobboard.core.settings import get_settings
from jobboard.core.skipped import skipped_file

router = APIRouter(prefix="/jobs", tags=["jobs"])

MAX_PAGE = 100_000  # keeps the offset small; nobody pages this far
JobId = Annotated[str, Path(min_length=1, max_length=64, description="the job's id")]
NOT_FOUND = {404: {"description": "no such job of yours"}}


def item_job(event: dict[str, Any]) -> dict[str, Any]:
    return event["job"] | {"version": event["version"]}


def _found(job_id: str, owner_id: str) -> dict[str, Any]:
    job = jobs.get_job(job_id, owner_id)
    if job is None:
        raise HTTPException(404, "not found")
    return job


@router.get(
    "",
    response_model=JobPage,
    responses={422: {"description": "a bad cursor, search or page"}},
    summary="List your jobs, newest first",
    description="Page with `pagination.older` (pass it as `before`) and `pagination.newer` "
    "(pass it as `after`): cursors stay right while new jobs arrive, and every page costs the "
    f"same. `page` still works up to offset {joblist.MAX_OFFSET:,}. `q` searches titles and "
    "file names (words, prefix match); a search's total is exact up to "
    f"{joblist.SEARCH_COUNT_CAP:,}, beyond that `total_exact` is false.",
)
def list_jobs(
    user: CurrentUser,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    status: Status | None = None,
    kind: Kind | None = None,
    q: Annotated[str, Query(max_length=joblist.SEARCH_MAX_CHARS, description="search")] = "",
    before: Annotated[str | None, Query(max_length=400, description="cursor: older jobs")] = None,
    after: Annotated[str | None, Query(max_length=400, description="cursor: newer jobs")] = None,
) -> dict[str, Any]:
    if before and after:
        raise HTTPException(422, "give `before` or `after`, not both")
    try:
        found = joblist.list_page(
            user.id,
            status=status.value if status else None,
            kind=kind.value if kind else None,
            q=q,
            before=before,
            after=after,
            offset=0 if before or after else (page - 1) * limit,
            limit=limit,
        )
    except joblist.ListError as exc:
        raise HTTPException(422, str(exc)) from None
    total = found.total
    pagination = Pagination(
        total=total,
        page=page,
        limit=limit,
        pages=math.ceil(total / limit),
        total_exact=found.total_exact,
        older=found.older,
        newer=found.newer,
    )
    return {
        "jobs": found.jobs,
        "pagination": pagination,
        "running_count": jobs.count_active(user.id),
    }


@router.get("/latest", response_model=LatestJob, summary="Your newest job (of one kind)")
def latest_job(user: CurrentUser, kind: Kind | None = None) -> dict[str, Any]:
    name = kind.value if kind else None
    rows, _total = jobs.list_jobs(user.id, kind=name, limit=1)
    return {
        "latest_job": rows[0] if rows else None,
        "has_running_job": jobs.count_active(user.id, kind=name) > 0,
    }


@router.get(
    "/{job_id}",
    response_model=Job,
    responses=NOT_FOUND | {304: {"description": "no newer version within the wait (long poll)"}},
    summary="One job (or, with since_version, its next change: long poll)",
)
async def get_job(
    job_id: JobId,
    user: CurrentUser,
    since_version: Annotated[
        int | None,
        Query(
            ge=0,
            le=2**53,
            description="answer at once if the job's `version` is above this, else wait (up to "
            "25 s) for a change and answer 304 Not Modified if none comes",
        ),
    ] = None,
) -> Any:
    if since_version is None:
        return await run_in_threadpool(_found, job_id, user.id)
    # Listen before reading, so a change between the read and the wait is not missed.
    with get_hub().listen(user.id, maxsize=100, job_id=job_id) as listener:
        job = await run_in_threadpool(_found, job_id, user.id)
        if job["version"] > since_version:
            return job
        loop = asyncio.get_running_loop()
        deadline = loop.time() + get_settings().long_poll_seconds
        while (left := deadline - loop.time()) > 0:
            try:
                item = await listener.get(left)
            except Overflow:
                break
            if item is None:
                break
            if item is RESUBSCRIBED:  # events may have been missed: ask the record
                job = await run_in_threadpool(_found, job_id, user.id)
                if job["version"] > since_version:
                    return job
            elif (
                isinstance(item, dict)
                and item["job"].get("id") == job_id
                and item["version"] > since_version
            ):
                # The record's full shape (queue position) unless it lags behind the event.
                job = await run_in_threadpool(_found, job_id, user.id)
                return job if job["version"] >= item["version"] else item_job(item)
    job = await run_in_threadpool(_found, job_id, user.id)
    if job["version"] > since_version:
        return job
    return Response(status_code=304)


@router.post(
    "/{job_id}/cancel",
    status_code=202,
    response_model=JobAccepted,
    responses=NOT_FOUND,
    summary="Cancel a job (idempotent)",
    description="A queued job is cancelled at once; a running one stops at its next progress "
    "report (`status` stays `processing` until it does). A finished job is left as it is.",
)
def cancel_job(job_id: JobId, user: CurrentUser) -> JobAccepted:
    try:
        status = jobs.cancel(job_id, user.id)
    except LookupError:
        raise HTTPException(404, "not found") from None
    return JobAccepted(job_id=job_id, status=status)


@router.post(
    "/{job_id}/retry",
    status_code=202,
    response_model=JobAccepted,
    responses=NOT_FOUND | {409: {"description": "the job's status does not allow a retry"}},
    summary="Start a job again: the same input, or only its failed items",
    description="Allowed only where a retry can change the outcome: a failed or cancelled job "
    "whose cause may pass (not a file that can never import), or with `only_failed_rows=true` "
    "the items of an AI job that failed for a passing cause (a timeout, a rate limit, a "
    "provider error). Skipped upload rows are invalid in themselves: download them "
    "(`/skipped-rows`), fix them and upload them again. A job already retried is refused "
    "(409); the retry's `retry_of` names the original, the original's `retried_by` the retry.",
)
def retry_job(job_id: JobId, user: CurrentUser, only_failed_rows: bool = False) -> JobAccepted:
    try:
        job = jobs.retry(job_id, user.id, only_failed_rows=only_failed_rows)
    except LookupError:
        raise HTTPException(404, "not found") from None
    except jobs.JobError as exc:
        raise HTTPException(409, str(exc)) from None
    return JobAccepted(job_id=job.id, status=job.status)


@router.get(
    "/{job_id}/download",
    response_class=FileResponse,
    responses=NOT_FOUND
    | {
        200: {"content": {"text/csv": {}}, "description": "the exported CSV"},
        409: {"description": "not a finished export"},
    },
    summary="Download a finished export",
)
def download_export(job_id: JobId, user: CurrentUser) -> FileResponse:
    found = export_file(job_id, user.id)
    if found is None:
        job = _found(job_id, user.id)
        if job["kind"] != "export_catalog":
            raise HTTPException(409, "this job is not an export: it has nothing to download")
        if job["status"] != JobStatus.COMPLETED:
            raise HTTPException(409, f"the export is {job['status']}, not completed")
        raise HTTPException(404, "the export's file is not kept any more; export again")
    path, filename = found
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=filename)


@router.get(
    "/{job_id}/skipped-rows",
    response_class=FileResponse,
    responses=NOT_FOUND
    | {
        200: {"content": {"text/csv": {}}, "description": "the skipped rows, with reasons"},
        409: {"description": "the job skipped no rows"},
    },
    summary="Download an upload's skipped rows as CSV",
    description="The rows an upload skipped, as they were in the file, each led by the reason "
    "it was skipped and its row number: fix them and upload the file again.",
)
def download_skipped(job_id: JobId, user: CurrentUser) -> FileResponse:
    found = skipped_file(job_id, user.id)
    if found is None:
        job = _found(job_id, user.id)
        if not (job.get("result_data") or {}).get("skipped"):
            raise HTTPException(409, "this job skipped no rows: there is nothing to download")
        raise HTTPException(404, "the skipped rows are not kept for this job")
    path, filename = found
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=filename)
