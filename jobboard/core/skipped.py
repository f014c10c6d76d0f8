"""An upload's skipped rows as a CSV file: each with its reason, ready to fix and upload again.

The upload worker writes the file when a job ends with skipped rows; the API serves it to the
job's owner only (anyone else: not found). Retention deletes it with its job.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from jobboard.core.db import session_scope
from jobboard.core.models import Job
from jobboard.core.settings import get_settings

_ID = re.compile(r"^[0-9a-f-]{36}$")


def skipped_path(job_id: str) -> Path:
    if not _ID.match(job_id):
        raise ValueError("not a job id")
    return get_settings().var_dir / "skipped" / f"{job_id}.csv"


def download_name(filename: str) -> str:
    """ "products.csv" → "products-skipped-rows.csv" (the download's suggested name)."""
    stem = os.path.splitext(os.path.basename(filename or "upload"))[0] or "upload"
    return f"{stem}-skipped-rows.csv"


def write_skipped(job_id: str, table: list[list[str]]) -> Path:
    """Write the table (header first) as UTF-8 CSV with a BOM, so spreadsheets read it right."""
    path = skipped_path(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with tmp.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(table)
    tmp.replace(path)
    return path


def skipped_file(job_id: str, owner_id: str) -> tuple[Path, str] | None:
    """The skipped rows' file and its download name, only for the job's owner."""
    if not isinstance(job_id, str) or not _ID.match(job_id):
        return None
    with session_scope() as session:
        job = session.get(Job, job_id)
    if job is None or job.owner_id != owner_id or job.kind != "product_upload":
        return None
    path = skipped_path(job_id)
    if not path.is_file():
        return None
    filename = (job.result_data or {}).get("filename") or job.params.get("filename") or ""
    return path, download_name(str(filename))
