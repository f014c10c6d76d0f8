"""Job lifecycle: the only place that creates jobs and changes their status."""

from __future__ import annotations

import contextlib
import logging
import signal
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import redis
from rq import Callback, Queue
from rq.exceptions import AbandonedJobError
from rq.timeouts import JobTimeoutException
from sqlalchemy import func, update
from sqlmodel import col, select

from jobboard.core import events, joblist, metrics, stats, steps
from jobboard.core.db import get_engine, session_scope
from jobboard.core.errors import failure_details, relative_paths
from jobboard.core.format import DEFAULT_LOCALE, count, use_locale
from jobboard.core.models import Job, JobStatus, utcnow
from jobboard.core.outcome import UPLOAD_COUNTS
from jobboard.core.public import ErrorData, JobPublic, ProgressData
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
    unit: str = "products"  # what `processed` / `total` count


KINDS: dict[str, JobKind] = {
    k.name: k
    for k in (
        JobKind(
            "product_upload", "Product upload", "workers.product_upload.run", "uploads", "rows"
        ),
        JobKind("find_duplicates", "Find duplicates", "workers.ai_catalog.find_duplicates", "ai"),
        JobKind("auto_categorize", "Auto-categorize", "workers.ai_catalog.auto_categorize", "ai"),
        JobKind("auto_match", "Auto-match file", "workers.ai_catalog.auto_match", "ai"),
        JobKind("describe_products", "Write descriptions", "workers.ai_describe.run", "ai"),
        JobKind("export_catalog", "Export catalog", "workers.export.run", "exports"),
    )
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
    """A failure whose message is meant for the user (bad file, bad parameters).

    `retryable` says whether running the job again could end differently: by default not
    (the cause is in the input); True for passing causes (an outage, a busy provider).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class JobCancelled(Exception):
    """Raised inside a running job, at a progress report, once the user cancelled it."""


CANCEL_GRACE_SECONDS = 5.0  # a running job that does not report within this is stopped


def cancel_key(job_id: str) -> str:
    return f"jobboard:cancel:{job_id}"


def alive_key(job_id: str) -> str:
    return f"jobboard:alive:{job_id}"


def to_public(job: Job, *, include_details: bool = False) -> dict[str, Any]:
    """The job's public shape, shared by UI, REST, SSE and webhooks: `JobPublic`'s JSON form.

    `error_data.details` (the traceback) is for administrators only: it stays in the database
    and is left out unless `include_details` (the hook for an admin view).
    """
    public = JobPublic(
        id=job.id,
        kind=job.kind,
        title=job.title,
        status=job.status,
        progress_data=ProgressData.model_validate(job.progress_data or {}),
        result_data=job.result_data,
        error_data=ErrorData.model_validate(job.error_data) if job.error_data else None,
        created_at=job.created_at,
        started_at=job.started_at,
        updated_at=job.updated_at,
        completed_at=job.completed_at,
        retry_of=job.retry_of,
        retried_by=job.retried_by,
    )
    exclude = None if include_details else {"error_data": {"details"}}
    return public.model_dump(mode="json", exclude=exclude)


def get_queue(name: str) -> Queue:
    return Queue(name, connection=get_redis())


def submit(
    kind: str,
    *,
    owner_id: str,
    title: str,
    params: dict[str, Any],
    job_id: str | None = None,
    retry_of: str | None = None,
) -> Job:
    """Record a new job, announce it and put it on its RQ queue under the same id."""
    if kind not in KINDS:
        raise JobError(f"there is no job kind {kind!r}")
    job = Job(
        id=job_id or str(uuid.uuid4()),
        retry_of=retry_of,
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
        enqueue(job)
    except Exception as exc:  # Redis gone: the job must not stay queued forever.
        log.exception("could not enqueue job %s", job.id)
        reason = "the queue (Redis) is unreachable" if isinstance(exc, redis.RedisError) else exc
        fail(job.id, f"could not queue the job: {reason}")
        raise
    return job


def enqueue(job: Job) -> None:
    """Put a recorded job on its RQ queue under its own id."""
    spec = KINDS[job.kind]
    get_queue(spec.queue).enqueue(
        spec.func,
        job.id,
        job_id=job.id,
        job_timeout=get_settings().job_timeout_seconds,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        on_failure=Callback(on_rq_failure),
        on_stopped=Callback(on_rq_stopped),
        description=f"{spec.label}: {job.title}",
    )


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
        if status in JobStatus.TERMINAL:
            # Counted in the same transaction: the history never disagrees with the jobs.
            stats.record_end(session, job, now)
    if status in JobStatus.TERMINAL:
        metrics.job_ended(job.kind, status, stats.duration_of(job))
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
    progress = steps.at_step(progress, "Completed") | {
        "percentage": 100,
        "estimated_time_remaining": 0,
    }
    return _transition(job_id, JobStatus.COMPLETED, result_data=result, progress_data=progress)


def fail(
    job_id: str,
    message: str,
    details: str | None = None,
    progress: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    *,
    retryable: bool = True,
) -> Job | None:
    """End a job `failed`. `retryable`: whether running it again could end differently
    (a lost worker, an outage: yes; a file that can never import: no)."""
    # Neither the message (users) nor the details (administrators) name absolute server paths.
    error = {
        "message": relative_paths(message),
        "details": details and relative_paths(details),
        "retryable": retryable,
    }
    values: dict[str, Any] = {"error_data": error}
    if progress is None:  # failed from outside the job (watchdog, pool): its last known pace
        progress = _latest_progress(job_id)
    if progress is not None:
        values["progress_data"] = failed_progress(progress) | {"estimated_time_remaining": None}
    if result is not None:
        values["result_data"] = result
    return _transition(job_id, JobStatus.FAILED, **values)


def failed_step(step: str | None) -> str:
    """What failed, in the step's words: "Failed while importing products"."""
    step = (step or "").split(" — ")[0].strip()
    if not step or step in ("Starting", "Waiting in queue", "Failed") or step.startswith("Failed"):
        return "Failed before it started" if step == "Waiting in queue" else "Failed"
    return f"Failed while {step[0].lower()}{step[1:]}"


def failed_progress(progress: dict[str, Any]) -> dict[str, Any]:
    """`progress` at the step that says what failed. A step with numbers keeps them as
    values ("Failed while comparing products {done} of {total}"), so pages still write them
    in their viewer's locale."""
    template, values = progress.get(steps.TEMPLATE), progress.get(steps.VALUES)
    if isinstance(template, str) and isinstance(values, dict) and steps.render(template, values):
        return steps.at_step(progress, failed_step(template), values)
    return steps.at_step(progress, failed_step(progress.get("current_step")))


WORKER_LOST = "the worker stopped unexpectedly"
# Said of the jobs that were running when Jobboard (`make run`, a worker pool) was stopped.
STOPPED_WITH_APP = "stopped with the app; retry to run again"


def worker_lost_message(signum: int | None = None) -> str:
    """The one wording for a job whose worker died, whichever process notices first."""
    if not signum:
        return WORKER_LOST
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    why = " (out of memory, or stopped by hand)" if signum == signal.SIGKILL else ""
    return f"{WORKER_LOST}: killed by signal {signum}, {name}{why}"


def _latest_progress(job_id: str) -> dict[str, Any] | None:
    """The newest progress known: Redis' live snapshot, else the durable record."""
    with contextlib.suppress(redis.exceptions.RedisError):
        snap = events.read_snapshots([job_id]).get(job_id)
        if snap:
            return dict(snap["job"].get("progress_data") or {})
    with session_scope() as session:
        job = session.get(Job, job_id)
        return dict(job.progress_data or {}) if job else None


def failure_message(exc: BaseException) -> str:
    if isinstance(exc, JobError):
        return str(exc)
    if isinstance(exc, JobTimeoutException):
        return f"the job took longer than {get_settings().job_timeout_seconds} s and was stopped"
    if isinstance(exc, AbandonedJobError):  # RQ's cleanup found the job without a worker
        return WORKER_LOST
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "the worker lost its connection to Redis and could not finish the job"
    # The traceback goes to the job's details; users get words, not an exception's repr.
    return f"an internal error stopped the job ({type(exc).__name__})"


def failure_retryable(exc: BaseException) -> bool:
    """Whether a job that failed with `exc` could succeed when run again.

    A `JobError` says so itself (a bad file or bad parameters cannot change by retrying);
    timeouts, lost workers, outages and internal errors may pass.
    """
    if isinstance(exc, JobError):
        return exc.retryable
    return True


def on_rq_failure(rq_job: Any, connection: Any, exc_type: Any, exc: Any, tb: Any) -> None:
    """RQ's failure callback: covers failures outside `run()` (e.g. import errors)."""
    fail(rq_job.id, failure_message(exc) if exc else WORKER_LOST)


def cancel_summary(
    progress: dict[str, Any], result: dict[str, Any] | None, unit: str = "rows"
) -> str:
    """E.g. "cancelled at 40 %: 312 of 780 rows done, 300 products imported".

    Stored with the job and sent by the API and webhooks: in the neutral en-US form, whoever
    cancelled it."""
    with use_locale(DEFAULT_LOCALE):
        return _cancel_summary(progress, result, unit)


def _cancel_summary(progress: dict[str, Any], result: dict[str, Any] | None, unit: str) -> str:
    pct = float(progress.get("percentage") or 0)
    text = f"cancelled at {pct:.0f} %"
    processed, total = progress.get("processed"), progress.get("total")
    if processed is not None and total:
        text += f": {count(processed)} of {count(total)} {unit} done"
        if result and "imported" in result:
            text += f", {count(result['imported'])} products imported" + "".join(
                f", {count(result[key])} {key}" for key in UPLOAD_COUNTS[1:] if result.get(key)
            )
    return text


def cancel(job_id: str, owner_id: str) -> str:
    """Ask for a job to stop; returns its status afterwards ("cancelled" or "processing")."""
    with session_scope() as session:
        job = session.exec(select(Job).where(Job.id == job_id, Job.owner_id == owner_id)).first()
    if job is None:
        raise LookupError("no such job")
    if job.status == JobStatus.QUEUED:
        done = _transition(
            job_id,
            JobStatus.CANCELLED,
            error_data={"message": "cancelled before it started", "details": None},
            progress_data=steps.at_step(job.progress_data or {}, "Cancelled"),
        )
        if done is not None:
            _remove_from_queue(job)
            return JobStatus.CANCELLED
        return cancel(job_id, owner_id)  # it started meanwhile
    if job.status == JobStatus.PROCESSING:
        # The reporter sees the flag at its next report and stops the job cooperatively.
        get_redis().set(cancel_key(job_id), "1", ex=24 * 3600)
        return JobStatus.PROCESSING
    return job.status


def _remove_from_queue(job: Job) -> None:
    from rq.job import Job as RQJob

    try:
        RQJob.fetch(job.id, connection=get_redis()).cancel()
    except Exception:  # already gone from RQ: nothing to remove
        log.info("job %s was not on its queue any more", job.id)


def force_stop(job_id: str) -> None:
    """Stop a running job that ignored the cancel flag (RQ kills its work horse)."""
    from rq.command import send_stop_job_command

    try:
        send_stop_job_command(get_redis(), job_id)
    except Exception:
        log.exception("could not send the stop command for job %s", job_id)
    # Whatever RQ manages, the job must end: a stopped horse reports nothing more.
    with session_scope() as session:
        job = session.get(Job, job_id)
    if job is not None and job.status == JobStatus.PROCESSING:
        # The newest progress (Redis' snapshot), not the database's slower copy: the counts
        # a user last saw must not go backwards when the job ends.
        progress = _latest_progress(job_id) or dict(job.progress_data or {})
        _transition(
            job_id,
            JobStatus.CANCELLED,
            error_data={
                "message": cancel_summary(progress, job.result_data, KINDS[job.kind].unit)
                + " (stopped)",
                "details": None,
            },
            progress_data=steps.at_step(progress, "Cancelled") | {"estimated_time_remaining": None},
        )


def on_rq_stopped(rq_job: Any, connection: Any) -> None:
    """RQ's callback for a job stopped by `force_stop`."""
    with session_scope() as session:
        job = session.get(Job, rq_job.id)
    if job is not None and job.status in JobStatus.ACTIVE:
        progress = _latest_progress(rq_job.id) or dict(job.progress_data or {})
        _transition(
            rq_job.id,
            JobStatus.CANCELLED,
            error_data={"message": "cancelled (stopped by the worker)", "details": None},
            progress_data=steps.at_step(progress, "Cancelled") | {"estimated_time_remaining": None},
        )


def retry(job_id: str, owner_id: str, *, only_failed_rows: bool = False) -> Job:
    """Start a new job linked to the old one: the same input, or only its failed items.

    Offered only where a retry can change the outcome (see `jobboard.core.outcome`): a job
    whose cause is permanent (a file that can never import), rows invalid in themselves and
    a job already retried are refused with a `JobError` that says why.
    """
    from jobboard.core.outcome import outcome_of, retryable_failed

    with session_scope() as session:
        old = session.exec(select(Job).where(Job.id == job_id, Job.owner_id == owner_id)).first()
    if old is None:
        raise LookupError("no such job")
    if old.retried_by:
        raise JobError("this job has already been retried: open its retry")
    outcome = outcome_of(old.status, old.result_data, old.error_data, old.retried_by)
    params = {k: v for k, v in old.params.items() if k not in ("only_rows", "retry_of")}
    title = old.title
    if only_failed_rows:
        if not outcome.can_retry_failed:
            if outcome.skipped:
                raise JobError(
                    "the skipped rows are invalid in themselves: a retry would skip them "
                    "again. Download them, fix them and upload them again"
                )
            raise JobError("this job has no failed items that a retry could change")
        params["product_ids"] = [f["product_id"] for f in retryable_failed(old.result_data)]
        title = f"{old.title} (failed items)"
    elif not outcome.can_retry:
        if old.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise JobError("only a failed or cancelled job can be retried")
        raise JobError(
            "running it again would fail the same way: "
            + ((old.error_data or {}).get("message") or "the cause is in its input")
        )
    new_id = str(uuid.uuid4())
    # Claim the link first: of two retries racing, one wins and the other is told.
    with session_scope() as session:
        claimed = session.exec(
            update(Job)
            .where(col(Job.id) == old.id, col(Job.retried_by).is_(None))
            .values(retried_by=new_id)
        )
        if claimed.rowcount != 1:
            raise JobError("this job has already been retried: open its retry")
    _announce_again(old.id)
    return submit(
        old.kind,
        owner_id=owner_id,
        title=title[:300],
        params=params,
        job_id=new_id,
        retry_of=old.id,
    )


def _announce_again(job_id: str) -> None:
    """Publish a job whose record changed after it ended (its retry link), so open pages
    stop offering Retry on it."""
    with session_scope() as session:
        job = session.get(Job, job_id)
    if job is None:
        return
    try:
        version = events.publish(to_public(job), job.owner_id, floor_version=job.version)
    except redis.RedisError:
        log.warning("job %s: its retry link could not be announced", job_id)
        return
    _record_version(job_id, version)


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
    except JobCancelled as exc:
        progress = reporter.close()
        partial = getattr(exc, "partial_result", None)
        _transition(
            job_id,
            JobStatus.CANCELLED,
            error_data={
                "message": cancel_summary(progress, partial, KINDS[job.kind].unit),
                "details": None,
            },
            progress_data=steps.at_step(progress, "Cancelled") | {"estimated_time_remaining": None},
            result_data=partial,
        )
        return partial or {}
    except BaseException as exc:
        progress = reporter.close()
        fail(
            job_id,
            failure_message(exc),
            details=failure_details(exc),
            progress=progress,
            result=getattr(exc, "partial_result", None),
            retryable=failure_retryable(exc),
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
    """One page of the owner's jobs, newest first, and the total that match (see
    `joblist.list_page` for cursors and search)."""
    page = joblist.list_page(owner_id, status=status, kind=kind, offset=offset, limit=limit)
    return page.jobs, page.total


def changed_since(owner_id: str, since: datetime, *, limit: int = 500) -> list[dict[str, Any]]:
    """The owner's jobs that are active or changed since `since`, as events (for a resync)."""
    changed = col(Job.status).in_(JobStatus.ACTIVE) | (col(Job.updated_at) >= since)
    with session_scope() as session:
        rows = session.exec(
            select(Job)
            .where(Job.owner_id == owner_id, changed)
            .order_by(col(Job.updated_at).desc())
            .limit(limit)
        ).all()
    return [
        {"version": public.pop("version"), "owner_id": owner_id, "job": public}
        for public in _with_live(list(rows))
    ]


def ended_since(owner_id: str, since: datetime, *, limit: int = 5) -> list[dict[str, Any]]:
    """The owner's newest jobs that ended at or after `since` (public shapes)."""
    with session_scope() as session:
        rows = session.exec(
            select(Job)
            .where(
                Job.owner_id == owner_id,
                col(Job.status).in_(JobStatus.TERMINAL),
                col(Job.completed_at) >= since,
            )
            .order_by(col(Job.completed_at).desc())
            .limit(limit)
        ).all()
    return [to_public(job) for job in reversed(rows)]


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


def count_active(owner_id: str, *, kind: str | None = None) -> int:
    """How many of the owner's jobs (of one kind, if given) are queued or processing."""
    return joblist.count_active(owner_id, kind=kind)


def active_counts() -> dict[tuple[str, str], int]:
    """(kind, status) -> queued and processing jobs of every owner (for /metrics; the status
    index keeps this to the active jobs, however many ended ones the table holds)."""
    with session_scope() as session:
        rows = session.exec(
            select(Job.kind, Job.status, func.count())
            .where(col(Job.status).in_(JobStatus.ACTIVE))
            .group_by(col(Job.kind), col(Job.status))
        ).all()
    return {(kind, status): int(n) for kind, status, n in rows}


def queue_figures() -> dict[str, tuple[int, float]]:
    """Per RQ queue: jobs waiting, and seconds the oldest of them has waited (0 when none)."""
    now = utcnow()
    out: dict[str, tuple[int, float]] = {}
    for name in QUEUES:
        queue = get_queue(name)
        age = 0.0
        for job_id in queue.get_job_ids(0, 1):  # the head of the queue: the oldest
            rq_job = queue.fetch_job(job_id)
            if rq_job is not None and rq_job.enqueued_at is not None:
                when = rq_job.enqueued_at
                when = when if when.tzinfo else when.replace(tzinfo=UTC)
                age = max(0.0, (now - when).total_seconds())
        out[name] = (queue.count, age)
    return out


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def typical_duration(kind: str) -> float | None:
    """Mean run time (seconds) of the last 20 completed jobs of this kind."""
    with session_scope() as session:
        rows = session.exec(
            select(Job.started_at, Job.completed_at)
            .where(Job.kind == kind, Job.status == JobStatus.COMPLETED)
            .order_by(col(Job.completed_at).desc())
            .limit(20)
        ).all()
    spans = [(done - start).total_seconds() for start, done in rows if start and done]
    return sum(spans) / len(spans) if spans else None


def typical_rate(kind: str) -> float | None:
    """Items per second of the last 20 completed jobs of this kind (for early ETAs)."""
    with session_scope() as session:
        rows = session.exec(
            select(Job.started_at, Job.completed_at, Job.progress_data)
            .where(Job.kind == kind, Job.status == JobStatus.COMPLETED)
            .order_by(col(Job.completed_at).desc())
            .limit(20)
        ).all()
    items = seconds = 0.0
    for start, done, progress in rows:
        total = (progress or {}).get("total") or 0
        span = (done - start).total_seconds() if start and done else 0
        # Tiny jobs are mostly start-up time: their pace says nothing about a big one.
        if total >= 1000 and span >= 1:
            items += total
            seconds += span
    return items / seconds if seconds else None


def add_queue_positions(public_jobs: list[dict[str, Any]]) -> None:
    """Say where queued jobs stand: "3rd in line, starts in about 40 s"."""
    from rq import Worker

    from jobboard.core.format import human_seconds

    queued = [j for j in public_jobs if j["status"] == JobStatus.QUEUED and j["kind"] in KINDS]
    if not queued:
        return
    typical: dict[str, float | None] = {}
    workers: dict[str, int] = {}
    for job in queued:
        spec = KINDS[job["kind"]]
        queue = get_queue(spec.queue)
        position = queue.get_job_position(job["id"])
        if position is None:
            continue
        if spec.name not in typical:
            typical[spec.name] = typical_duration(spec.name)
            workers[spec.name] = max(1, Worker.count(queue=queue))
        text = f"{_ordinal(position + 1)} in line"
        if typical[spec.name] is not None:
            # Everyone ahead, plus the jobs running now (half done on average).
            wait = (position + 0.5) * typical[spec.name] / workers[spec.name]
            text += f", starts in about {human_seconds(wait)}"
        job["progress_data"] = steps.at_step(job["progress_data"], text) | {
            "queue_position": position + 1,
        }


def _with_live(rows: list[Job]) -> list[dict[str, Any]]:
    """Public shapes with `version`, preferring Redis' live snapshot when it is newer."""
    try:
        live = events.read_snapshots(j.id for j in rows if j.status in JobStatus.ACTIVE)
    except redis.exceptions.RedisError:  # Redis down: the durable record is still the truth
        log.warning("live snapshots unavailable; showing the database's record")
        live = {}
    out = []
    for job in rows:
        public = to_public(job) | {"version": job.version}
        snap = live.get(job.id)
        if snap and snap["version"] > job.version:
            public = snap["job"] | {"version": snap["version"]}
        out.append(public)
    with contextlib.suppress(redis.exceptions.RedisError):  # positions are a refinement
        add_queue_positions(out)
    return out
