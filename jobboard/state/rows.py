"""Display-ready rows built from the public job shape (plain data, no Reflex)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from jobboard.core.format import human_seconds
from jobboard.core.jobs import KINDS
from jobboard.core.models import JobStatus


@dataclasses.dataclass
class JobRow:
    id: str = ""
    kind: str = ""
    kind_label: str = ""
    title: str = ""
    status: str = ""
    active: bool = False
    percentage: float = 0.0
    percentage_text: str = "0 %"
    step: str = ""
    counts: str = ""
    speed: str = ""
    eta: str = ""
    duration: str = ""
    created_at: str = ""
    created_text: str = ""
    started_text: str = ""
    updated_text: str = ""
    completed_text: str = ""
    error: str = ""
    can_cancel: bool = False
    can_retry: bool = False
    can_retry_rows: bool = False
    version: int = 0


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _when(value: str | None) -> str:
    parsed = _parse(value)
    return parsed.strftime("%Y-%m-%d %H:%M:%S UTC") if parsed else ""


def job_row(job: dict[str, Any]) -> JobRow:
    """Turn a job's public shape (plus `version`) into what a row shows."""
    progress = job.get("progress_data") or {}
    status = job["status"]
    active = status in JobStatus.ACTIVE
    processed, total = progress.get("processed"), progress.get("total")
    counts = f"{processed or 0:,} / {total:,}" if total is not None else ""
    speed = progress.get("speed")
    eta = progress.get("estimated_time_remaining")
    started, ended = _parse(job.get("started_at")), _parse(job.get("completed_at"))
    duration = human_seconds((ended - started).total_seconds()) if started and ended else ""
    percentage = float(progress.get("percentage") or 0)
    spec = KINDS.get(job["kind"])
    unit = spec.unit if spec else "items"
    return JobRow(
        id=job["id"],
        kind=job["kind"],
        kind_label=spec.label if spec else job["kind"],
        title=job["title"],
        status=status,
        active=active,
        percentage=percentage,
        percentage_text=f"{percentage:.0f} %",
        step=progress.get("current_step") or "",
        counts=counts,
        speed=f"{speed:,.0f} {unit}/s" if speed and status == JobStatus.PROCESSING else "",
        eta=(
            f"about {human_seconds(eta)} left"
            if eta is not None and status == JobStatus.PROCESSING
            else ""
        ),
        duration=duration,
        created_at=job.get("created_at") or "",
        created_text=_when(job.get("created_at")),
        started_text=_when(job.get("started_at")),
        updated_text=_when(job.get("updated_at")),
        completed_text=_when(job.get("completed_at")),
        error=((job.get("error_data") or {}).get("message") or ""),
        can_cancel=active,
        can_retry=status in (JobStatus.FAILED, JobStatus.CANCELLED),
        can_retry_rows=not active and bool((job.get("result_data") or {}).get("failed_rows")),
        version=int(job.get("version") or 0),
    )
