"""Product upload job: parse the uploaded file, validate row by row, upsert in batches."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from jobboard.core import jobs
from jobboard.core.models import Job
from jobboard.core.products import write_products
from jobboard.core.progress import ProgressReporter
from jobboard.core.settings import get_settings
from jobboard.core.skipped import write_skipped
from workers.common import with_partial
from workers.parsers import (
    FileRejected,
    ProductRecord,
    RowError,
    parse_products,
    size_message,
    skipped_rows,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
MAX_REPORTED_ERRORS = 100
MAX_REPORTED_WARNINGS = 100
MAX_FAILED_ROWS = 10_000  # row numbers kept (and rows written to the skipped-rows CSV)


def run(job_id: str) -> dict[str, Any]:
    """RQ entry point."""
    return jobs.run(job_id, import_products)


def import_products(job: Job, progress: ProgressReporter) -> dict[str, Any]:
    path = Path(job.params["path"])
    filename = job.params.get("filename") or path.name
    progress.update(step="Reading file")
    limit = get_settings().max_upload_bytes
    try:
        # Checked before reading: a file that grew on disk must not be read into memory.
        if (size := path.stat().st_size) > limit:
            raise jobs.JobError(size_message(filename, size, limit))
        data = path.read_bytes()
    except FileNotFoundError:
        raise jobs.JobError(f"the uploaded file {filename} is no longer on the server") from None
    try:
        parsed = parse_products(data, filename, max_bytes=limit)
    except FileRejected as exc:
        raise jobs.JobError(str(exc)) from None

    result: dict[str, Any] = {
        "filename": filename,
        "format": parsed.format,
        "encoding": parsed.encoding,
        "total_rows": parsed.total_rows,
        "imported": 0,
        "updated": 0,
        # Already in the catalog exactly as in the file: left alone (not rewritten).
        "unchanged": 0,
        "skipped": 0,
        "errors": [],
        "failed_rows": [],
        # Rows imported with a caveat (a value cut to fit, how an ambiguous price was read,
        # a SKU that replaced an earlier row's): every one counted, the first 100 listed.
        "warnings": [],
        "warnings_count": 0,
    }
    # A retry of failed rows reads the same file and keeps only those rows.
    only_rows = set(job.params.get("only_rows") or ())
    total = parsed.total_rows
    processed = 0
    committed = 0  # rows up to here are done: written, skipped or left out
    batch: list[ProductRecord] = []
    # What this job did to each key it sent: a key repeated in the file is one product,
    # counted once, as its strongest outcome (imported > updated > unchanged).
    outcomes: dict[str, str] = {}
    reasons: dict[int, str] = {}  # skipped row → why, for the skipped-rows CSV

    def write_batch() -> None:
        nonlocal committed
        written = write_products(job.owner_id, batch)
        for key in {record.key for record in batch}:
            now = "unchanged" if key not in written else "imported" if written[key] else "updated"
            before = outcomes.get(key)
            if before is None:
                result[now] += 1
            elif before == "unchanged" and now == "updated":
                result[before] -= 1  # the file changed it after all, further down
                result[now] += 1
            else:
                continue
            outcomes[key] = now
        batch.clear()
        committed = processed

    progress.update(step="Importing products", processed=0, total=total)
    try:
        for item in parsed.items:
            processed += item.rows
            if (
                only_rows
                and (item.row if isinstance(item, RowError) else item.first_row) not in only_rows
            ):
                pass
            elif isinstance(item, RowError):
                result["skipped"] += 1
                if len(result["errors"]) < MAX_REPORTED_ERRORS:
                    result["errors"].append({"row": item.row, "reason": item.reason})
                if len(result["failed_rows"]) < MAX_FAILED_ROWS:
                    result["failed_rows"].append(item.row)
                    reasons[item.row] = item.reason
            else:
                for message in item.warnings:
                    result["warnings_count"] += 1
                    if len(result["warnings"]) < MAX_REPORTED_WARNINGS:
                        result["warnings"].append({"row": item.first_row, "message": message})
                batch.append(item)
                if len(batch) >= BATCH_SIZE:
                    write_batch()
                    # Sent at once: a kill right after leaves counts that match the catalog.
                    progress.update(processed=processed, checkpoint=True)
                    continue
            # A row counts as processed once nothing before it waits to be written: so the
            # count never runs ahead of the catalog, whatever stops the job. While a batch
            # fills, the count stays at `committed` (already reported): no call needed.
            if not batch:
                progress.update(processed=processed)
        if batch:
            write_batch()
    except FileRejected as exc:
        raise with_partial(jobs.JobError(str(exc)), result) from None
    except jobs.JobCancelled as exc:
        # Rows already counted as processed are written, so the summary's numbers agree
        # ("68,001 of 170,000 rows done, 68,001 imported"), and processed never goes back.
        if batch:
            write_batch()
        with contextlib.suppress(jobs.JobCancelled):  # recorded, then reported by close()
            progress.update(processed=processed)
        _keep_skipped(job, data, filename, reasons, result)
        raise with_partial(exc, result) from None
    except Exception as exc:
        raise with_partial(exc, result) from exc
    progress.update(step="Finishing", processed=processed)
    _keep_skipped(job, data, filename, reasons, result)
    return result


def _keep_skipped(
    job: Job, data: bytes, filename: str, reasons: dict[int, str], result: dict[str, Any]
) -> None:
    """Write the skipped rows, as they were in the file with their reasons, for download."""
    if not reasons:
        return
    try:
        write_skipped(job.id, skipped_rows(data, filename, reasons))
    except Exception:  # the import itself succeeded; the download is a convenience
        log.exception("job %s: could not write its skipped rows", job.id)
        return
    result["skipped_file"] = True
    if len(reasons) < result["skipped"]:
        result["skipped_file_rows"] = len(reasons)  # only the first MAX_FAILED_ROWS
