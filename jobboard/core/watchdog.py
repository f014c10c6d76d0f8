"""The watchdog: jobs whose worker died end `failed`, and endings lost to a Redis outage
are announced once Redis is back.

Every app process and every worker pool runs `Watchdog.tick()` about once a second; a
short Redis lock lets one of them do the work each time. A work horse proves it is alive
with a heartbeat key (`ProgressReporter` renews it from a thread).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import redis
from sqlmodel import col, select

from jobboard.core import events, jobs
from jobboard.core.db import session_scope
from jobboard.core.models import Job, JobStatus, utcnow
from jobboard.core.redis import get_redis

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 1.0
HEARTBEAT_TTL = 3  # seconds; a horse that misses about three beats is suspect
# A job whose heartbeat is missing is failed only when it is still missing this much later:
# right after Redis comes back, horses need a beat to re-announce themselves.
SUSPECT_CONFIRM_SECONDS = 2.0
START_GRACE_SECONDS = 5.0
TICK_EVERY = 1.0
# A queued job missing from Redis this long after its creation was lost by a restart (the
# delay covers the moment between recording a job and putting it on its queue).
REQUEUE_AFTER_SECONDS = 5.0
# A job RQ handed to a worker but that never began this long after is not going to.
NEVER_STARTED_SECONDS = 30.0
QUEUE_CHECK_EVERY = 10.0  # seconds between checks of old queued jobs
# Endings this close before an outage was noticed may also have been lost.
OUTAGE_MARGIN = timedelta(seconds=30)


def _suspect_key(job_id: str) -> str:
    return f"jobboard:suspect:{job_id}"


def reap_stuck_jobs(grace_seconds: float = START_GRACE_SECONDS) -> list[str]:
    """Fail processing jobs whose horse stopped beating; returns their ids."""
    client = get_redis()
    if not client.set("jobboard:reaper", "1", nx=True, px=int(TICK_EVERY * 900)):
        return []
    with session_scope() as session:
        rows = session.exec(
            select(Job.id, Job.started_at).where(Job.status == JobStatus.PROCESSING)
        ).all()
    if not rows:
        return []
    pipe = client.pipeline(transaction=False)
    for job_id, _ in rows:
        pipe.exists(jobs.alive_key(job_id))
        pipe.get(_suspect_key(job_id))
    replies = pipe.execute()
    now = utcnow()
    wall = time.time()
    reaped = []
    pipe = client.pipeline(transaction=False)
    for i, (job_id, started_at) in enumerate(rows):
        alive, suspect_since = replies[2 * i], replies[2 * i + 1]
        if alive:
            if suspect_since:
                pipe.delete(_suspect_key(job_id))
            continue
        if started_at and (now - started_at).total_seconds() < grace_seconds:
            continue
        if suspect_since is None:
            pipe.set(_suspect_key(job_id), str(wall), ex=300, nx=True)
            continue
        if wall - float(suspect_since) < SUSPECT_CONFIRM_SECONDS:
            continue
        if jobs.fail(job_id, jobs.WORKER_LOST) is not None:
            log.warning("job %s had no live worker; marked failed", job_id)
            reaped.append(job_id)
        pipe.delete(_suspect_key(job_id))
    pipe.execute()
    return reaped


def republish_endings(since: datetime) -> list[str]:
    """Announce endings recorded while Redis was unreachable; returns the job ids."""
    with session_scope() as session:
        rows = session.exec(
            select(Job).where(col(Job.status).in_(JobStatus.TERMINAL), col(Job.updated_at) >= since)
        ).all()
    if not rows:
        return []
    pipe = get_redis().pipeline(transaction=False)
    for job in rows:
        pipe.hget(events.snapshot_key(job.id), "ended")
    done = []
    for job, ended in zip(rows, pipe.execute(), strict=True):
        if ended != b"1":
            events.publish(jobs.to_public(job), job.owner_id, floor_version=job.version)
            done.append(job.id)
    if done:
        log.info("announced %d job endings recorded during a Redis outage", len(done))
    return done


def recover_queued_jobs(older_than: float = REQUEUE_AFTER_SECONDS) -> list[str]:
    """Queued jobs that can no longer start by themselves; returns their ids.

    A Redis crash restores an older snapshot (the job is missing, or recorded as queued but
    on no queue): it is queued again, and a job queued twice runs once (the second run
    finds it started and skips). A job RQ handed to a worker that died before the job
    began, or that RQ failed without telling us, ends `failed`.
    """
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as RQJob
    from rq.job import JobStatus as RQStatus

    client = get_redis()
    if not client.set("jobboard:queue-check", "1", nx=True, px=int(TICK_EVERY * 900)):
        return []
    cutoff = utcnow() - timedelta(seconds=older_than)
    with session_scope() as session:
        rows = session.exec(
            select(Job)
            .where(Job.status == JobStatus.QUEUED, col(Job.created_at) <= cutoff)
            .order_by(col(Job.created_at))
            .limit(1000)
        ).all()
    recovered = []
    for job in rows:
        try:
            rq_job = RQJob.fetch(job.id, connection=client)
        except NoSuchJobError:
            rq_job = None
        status = rq_job.get_status(refresh=False) if rq_job else None
        if rq_job is None or (
            status == RQStatus.QUEUED
            and jobs.get_queue(rq_job.origin).get_job_position(job.id) is None
        ):
            jobs.enqueue(job)
            log.warning("job %s was lost from its queue (Redis restarted); queued it again", job.id)
        elif status in (
            RQStatus.FAILED,
            RQStatus.STOPPED,
            RQStatus.CANCELED,
            RQStatus.FINISHED,
        ) or (
            status == RQStatus.STARTED
            and rq_job.started_at is not None
            and (utcnow() - rq_job.started_at).total_seconds() > NEVER_STARTED_SECONDS
        ):
            if jobs.fail(job.id, jobs.WORKER_LOST) is None:
                continue
            log.warning("job %s was taken by a worker that died before it began", job.id)
        else:
            continue
        recovered.append(job.id)
    return recovered


class Watchdog:
    """One per process: call `tick()` about every `TICK_EVERY` seconds."""

    def __init__(self) -> None:
        self.redis_down_since: datetime | None = None
        self.last_seen_up: datetime = utcnow()
        self.redis_run_id: str | None = None
        # Look for queued jobs Redis lost until then (a restart may predate this process).
        self.requeue_until = time.monotonic() + REQUEUE_AFTER_SECONDS + 5
        self.next_queue_check = 0.0

    def tick(self) -> list[str]:
        try:
            run_id = get_redis().info("server").get("run_id")
        except redis.exceptions.RedisError:
            if self.redis_down_since is None:
                self.redis_down_since = self.last_seen_up
                log.warning("Redis is unreachable; live updates pause until it is back")
            return []
        restarted = self.redis_run_id is not None and run_id != self.redis_run_id
        if self.redis_down_since is not None or restarted:
            # A restart may be too quick to be seen as an outage, and a crash restores an
            # older snapshot: announce what ended and requeue what was lost meanwhile.
            since = (self.redis_down_since or self.last_seen_up) - OUTAGE_MARGIN
            self.redis_down_since = None
            log.info("Redis is back%s", " (restarted)" if restarted else "")
            republish_endings(since)
            # Jobs recorded just before the restart are only "lost" once they are old enough.
            self.requeue_until = time.monotonic() + REQUEUE_AFTER_SECONDS + 5
        now = time.monotonic()
        if now < self.requeue_until or now >= self.next_queue_check:
            self.next_queue_check = now + QUEUE_CHECK_EVERY
            recover_queued_jobs()
        self.redis_run_id = run_id
        self.last_seen_up = utcnow()
        return reap_stuck_jobs()
