"""Where finished exports live, and who may read them."""

from __future__ import annotations

import re
from pathlib import Path

from jobboard.core.db import session_scope
from jobboard.core.models import Job, JobStatus
from jobboard.core.settings import get_settings

_ID = re.compile(r"^[0-9a-f-]{36}$")
# The formats an export can be written in, and how they are named to users.
EXPORT_FORMATS = {"shopify": "Shopify CSV", "plain": "plain CSV"}


def export_title(fmt: str) -> str:
    """The job title of a catalog export, the same from the Products page and the API."""
    return f"Export catalog ({EXPORT_FORMATS[fmt]})"


def export_path(job_id: str) -> Path:
    if not _ID.match(job_id):
        raise ValueError("not a job id")
    return get_settings().var_dir / "exports" / f"{job_id}.csv"


def export_file(job_id: str, owner_id: str) -> tuple[Path, str] | None:
    """The finished export's file and download name, only for the job's owner."""
    if not _ID.match(job_id):
        return None
    with session_scope() as session:
        job = session.get(Job, job_id)
    if (
        job is None
        or job.owner_id != owner_id
        or job.kind != "export_catalog"
        or job.status != JobStatus.COMPLETED
    ):
        return None
    path = export_path(job_id)
    if not path.exists():
        return None
    return path, (job.result_data or {}).get("filename") or f"{job_id}.csv"
