"""Thin routes over jobboard.core: the same jobs, the same owner checks as the UI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse

from jobboard.core import jobs
from jobboard.core.exports import export_file
from jobboard.core.settings import get_settings

router = APIRouter(prefix="/api")


def current_owner() -> str:
    """Until sign-in exists, every request is the local user's."""
    return get_settings().local_user


@router.get("/jobs")
def list_jobs(
    owner: str = Depends(current_owner),
    status: str | None = None,
    kind: str | None = None,
    offset: int = Query(0, ge=0),
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    rows, total = jobs.list_jobs(owner, status=status, kind=kind, offset=offset, limit=limit)
    return {"jobs": rows, "total": total}


@router.get("/jobs/{job_id}")
def get_job(job_id: str, owner: str = Depends(current_owner)) -> dict[str, Any]:
    job = jobs.get_job(job_id, owner)
    if job is None:
        raise HTTPException(404, "no such job")
    return job


@router.get("/jobs/{job_id}/download")
def download(job_id: str, owner: str = Depends(current_owner)) -> FileResponse:
    found = export_file(job_id, owner)
    if found is None:
        raise HTTPException(404, "no finished export with this id is yours")
    path, filename = found
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename=filename)
