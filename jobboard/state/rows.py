"""Display-ready rows built from the public job shape (plain data, no Reflex)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from jobboard.core import steps
from jobboard.core.format import human_seconds, progress_counts, rate
from jobboard.core.jobs import KINDS
from jobboard.core.models import JobStatus
from jobboard.core.outcome import TONES, outcome_of


@dataclasses.dataclass
class JobRow:
    id: str = ""
    kind: str = ""
    kind_label: str = ""
    title: str = ""
    status: str = ""
    # The honest one-line outcome ("completed · 9 skipped") and its colour scheme.
    outcome: str = ""
    color: str = "gray"
    active: bool = False
    percentage: float = 0.0
    percentage_text: str = "0 %"
    step: str = ""
    counts: str = ""
    speed: str = ""
    eta: str = ""
    duration: str = ""
    # ISO 8601 times: the browser shows them in the user's zone and locale.
    created_at: str = ""
    started_at: str = ""
    updated_at: str = ""
    completed_at: str = ""
    error: str = ""
    can_cancel: bool = False
    can_retry: bool = False
    can_retry_rows: bool = False  # "Retry failed items": only causes that may pass
    retry_of: str = ""
    retried_by: str = ""
    skipped: int = 0
    skipped_url: str = ""  # the skipped rows as CSV, when kept
    version: int = 0


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def job_row(job: dict[str, Any]) -> JobRow:
    """Turn a job's public shape (plus `version`) into what a row shows."""
    progress = job.get("progress_data") or {}
    status = job["status"]
    active = status in JobStatus.ACTIVE
    processed, total = progress.get("processed"), progress.get("total")
    speed = progress.get("speed")
    eta = progress.get("estimated_time_remaining")
    started, ended = _parse(job.get("started_at")), _parse(job.get("completed_at"))
    duration = human_seconds((ended - started).total_seconds()) if started and ended else ""
    percentage = float(progress.get("percentage") or 0)
    spec = KINDS.get(job["kind"])
    # Multi-step jobs count each step in its own unit and name it ("rows", "products").
    unit = progress.get("unit") or (spec.unit if spec else "items")
    result = job.get("result_data") or {}
    # Recomputed from the shape, not read from it: a live snapshot written before the
    # outcome existed (or by an older worker) still reads honestly.
    outcome = outcome_of(status, result, job.get("error_data"), job.get("retried_by"))
    return JobRow(
        id=job["id"],
        kind=job["kind"],
        kind_label=spec.label if spec else job["kind"],
        title=job["title"],
        status=status,
        outcome=outcome.label,
        color=TONES[outcome.tone],
        active=active,
        percentage=percentage,
        percentage_text=f"{percentage:.0f} %",
        # Its numbers in this context's locale when the step has them as values.
        step=steps.shown(progress),
        counts=f"{progress_counts(processed, total)} {unit}" if total is not None else "",
        speed=rate(speed, unit) if status == JobStatus.PROCESSING else "",
        eta=(
            f"about {human_seconds(eta)} left"
            if eta is not None and status == JobStatus.PROCESSING
            else ""
        ),
        duration=duration,
        created_at=job.get("created_at") or "",
        started_at=job.get("started_at") or "",
        updated_at=job.get("updated_at") or "",
        completed_at=job.get("completed_at") or "",
        error=((job.get("error_data") or {}).get("message") or ""),
        can_cancel=active,
        can_retry=outcome.can_retry,
        can_retry_rows=outcome.can_retry_failed,
        retry_of=job.get("retry_of") or "",
        retried_by=job.get("retried_by") or "",
        skipped=outcome.skipped,
        skipped_url=(
            f"/api/v1/jobs/{job['id']}/skipped-rows" if result.get("skipped_file") else ""
        ),
        version=int(job.get("version") or 0),
    )


# What a running job's progress update changes in its row: all that a live frame carries.
LIVE_FIELDS = (
    "version",
    "percentage",
    "percentage_text",
    "step",
    "counts",
    "speed",
    "eta",
    "updated_at",
)


def live_entry(job: dict[str, Any]) -> dict[str, Any]:
    """The progress fields of a job's row, for the browser's live store (live_jobs.jsx)."""
    row = job_row(job)
    return {name: getattr(row, name) for name in LIVE_FIELDS}
