"""Job lifecycle: the only place that creates jobs and changes their status."""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rq import Callback, Queue
from rq.timeouts import JobTimeoutException
from sqlalchemy import func, update
from sqlmodel import col, select

from jobboard.core import events
from jobboard.core.db import get_engine, session_scope
from jobboard.core.models import Job, JobStatus, utcnow
from jobboard.core.redis import get_redis
from jobboard.core.settings import get_settings

if TYPE_CHECKING:
    from jobboard.core.progress import ProgressReporter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    func: str  # dotted path of the worker function, so core never imports workers
    queue: str


KINDS: dict[str, JobKind] = {
    "product_upload": JobKind(
        "product_upload", "Product upload", "workers.product_upload.run", "uploads"
    ),
}
QUEUES = sorted({k.queue for k in KINDS.values()})

# Statuses only move forward.
_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    JobStatus.PROCESSING: (JobStatus.QUEUED,),
    JobStatus.COMPLETED: (JobStatus.PROCESSING,),
    JobStatus.FAILED: (JobStatus.QUEUED, JobStatus.PROCESSING),
    JobStatus.CANCELLED: (JobStatus.QUEUED, JobStatus.PROCESSING),
}


class JobError(Exception):
    """A failure whose message is meant for the user (bad file, bad parameters)."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def to_public(job: Job) -> dict[str, Any]:
    """The job's public shape, shared by UI, REST, SSE and webhooks."""
    return {
        "id": job.id,
        "kind": job.kind,
        "title": job.title,
        "status": job.status,
        "progress_data": dict(job.progress_data or {}),
        "result_data": job.result_data,
        "error_data": job.error_data,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "updated_at": _iso(job.updated_at),
        "completed_at": _iso(job.completed_at),
    }


def get_queue(name: str) -> Queue:
    return Queue(name, connection=get_redis())


def submit(kind: str, *, owner_id: str, title: str, params: dict[str, Any]) -> Job:
    """Record a new job, announce it and put it on its RQ queue under the same id."""
    spec = KINDS[kind]
    job = Job(
        id=str(uuid.uuid4()),
        owner_id=owner_id,
        kind=kind,
        title=title[:300],
        params=params,
        progress_data={"percentage": 0, "current_step": "Waiting in queue"},
    )
    with session_scope() as session:
        session.add(job)
    try:
        job.version = events.publish(to_public(job), owner_id)
        _record_version(job.id, job.version)
        get_queue(spec.queue).enqueue(
            spec.func,
            job.id,
            job_id=job.id,
            job_timeout=get_settings().job_timeout_seconds,
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            on_failure=Callback(on_rq_failure),
            description=f"{spec.label}: {job.title}",
        )
    except Exception as exc:  # Redis gone: the job must not stay queued forever.
        log.exception("could not enqueue job %s", job.id)
        fail(job.id, f"could not queue the job: {exc}")
        raise
    return job


def _transition(job_id: str, status: str, **values: Any) -> Job | None:
    """Move a job forward to `status`; None when it is not allowed (already further)."""
    now = utcnow()
    values |= {"status": status, "updated_at": now}
    if status == JobStatus.PROCESSING:
        values["started_at"] = now
    if status in JobStatus.TERMINAL:
        values["completed_at"] = now
    with session_scope() as session:
        result = session.exec(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.status).in_(_ALLOWED_FROM[status]))
            .values(**values)
        )
        if result.rowcount != 1:
            return None
        job = session.get(Job, job_id, populate_existing=True)
        assert job is not None
    # The status is committed before it is announced: if Redis is down the durable record
    # still ends in the right state, and pages show it on their next load.
    try:
        version = events.publish(to_public(job), job.owner_id, floor_version=job.version)
    except Exception:
        log.exception("job %s is %s but the event could not be published", job_id, status)
        return job
    _record_version(job_id, version)
    job.version = version
    return job


def _record_version(job_id: str, version: int) -> None:
    with session_scope() as session:
        session.exec(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.version) < version)
            .values(version=version)
        )


def start(job_id: str) -> Job | None:
    return _transition(
        job_id,
        JobStatus.PROCESSING,
        progress_data={"percentage": 0, "current_step": "Starting"},
    )


def complete(job_id: str, result: dict[str, Any], progress: dict[str, Any]) -> Job | None:
    progress = progress | {
        "percentage": 100,
        "estimated_time_remaining": 0,
        "current_step": "Completed",
    }
    return _transition(job_id, JobStatus.COMPLETED, result_data=result, progress_data=progress)


def fail(
    job_id: str,
    message: str,
    details: str | None = None,
    progress: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
) -> Job | None:
    values: dict[str, Any] = {"error_data": {"message": message, "details": details}}
    if progress is not None:
        values["progress_data"] = progress | {
            "estimated_time_remaining": None,
            "current_step": "Failed",
        }
    if result is not None:
        values["result_data"] = result
    return _transition(job_id, JobStatus.FAILED, **values)


def failure_message(exc: BaseException) -> str:
    if isinstance(exc, JobError):
        return str(exc)
    if isinstance(exc, JobTimeoutException):
        return f"the job took longer than {get_settings().job_timeout_seconds} s and was stopped"
    return f"unexpected error: {type(exc).__name__}: {exc}"


def on_rq_failure(rq_job: Any, connection: Any, exc_type: Any, exc: Any, tb: Any) -> None:
    """RQ's failure callback: covers failures outside `run()` (e.g. import errors)."""
    fail(rq_job.id, failure_message(exc) if exc else "the job failed in the worker")


def run(job_id: str, handler: Callable[[Job, ProgressReporter], dict[str, Any]]) -> dict[str, Any]:
    """Run a job body in a worker: processing → completed, or failed on any exception."""
    from jobboard.core.progress import ProgressReporter

    # The work horse is a fork: never reuse the parent's pooled DB connections.
    get_engine().dispose(close=False)
    job = start(job_id)
    if job is None:  # cancelled or already handled
        log.info("job %s is not queued any more; skipping", job_id)
        return {}
    reporter = ProgressReporter(job)
    try:
        result = handler(job, reporter)
    except BaseException as exc:
        progress = reporter.close()
        fail(
            job_id,
            failure_message(exc),
            details="".join(traceback.format_exception(exc))[-4000:],
            progress=progress,
            result=getattr(exc, "partial_result", None),
        )
        raise
    complete(job_id, result, reporter.close())
    return result


def get_job(job_id: str, owner_id: str) -> dict[str, Any] | None:
    """A job's public shape with its live progress, or None when it is not the owner's."""
    with session_scope() as session:
        job = session.exec(select(Job).where(Job.id == job_id, Job.owner_id == owner_id)).first()
        if job is None:
            return None
    return _with_live([job])[0]


def list_jobs(
    owner_id: str,
    *,
    status: str | None = None,
    kind: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the owner's jobs, newest first, and the total that match."""
    conditions = [Job.owner_id == owner_id]
    if status:
        conditions.append(Job.status == status)
    if kind:
        conditions.append(Job.kind == kind)
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(Job).where(*conditions)).one()
        rows = session.exec(
            select(Job)
            .where(*conditions)
            .order_by(col(Job.created_at).desc(), col(Job.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
    return _with_live(list(rows)), int(total)


def active_jobs(owner_id: str, *, limit: int = 8) -> tuple[list[dict[str, Any]], list[str]]:
    """The owner's newest queued/processing jobs (up to `limit`) and the ids of all of them."""
    active = col(Job.status).in_(JobStatus.ACTIVE)
    with session_scope() as session:
        ids = session.exec(select(Job.id).where(Job.owner_id == owner_id, active)).all()
        rows = session.exec(
            select(Job)
            .where(Job.owner_id == owner_id, active)
            .order_by(col(Job.created_at).desc(), col(Job.id).desc())
            .limit(limit)
        ).all()
    return _with_live(list(rows)), list(ids)


def _with_live(rows: list[Job]) -> list[dict[str, Any]]:
    """Public shapes with `version`, preferring Redis' live snapshot when it is newer."""
    live = events.read_snapshots(j.id for j in rows if j.status in JobStatus.ACTIVE)
    out = []
    for job in rows:
        public = to_public(job) | {"version": job.version}
        snap = live.get(job.id)
        if snap and snap["version"] > job.version:
            public = snap["job"] | {"version": snap["version"]}
        out.append(public)
    return out
