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


class Watchdog:
    """One per process: call `tick()` about every `TICK_EVERY` seconds."""

    def __init__(self) -> None:
        self.redis_down_since: datetime | None = None

    def tick(self) -> list[str]:
        try:
            get_redis().ping()
        except redis.exceptions.RedisError:
            if self.redis_down_since is None:
                self.redis_down_since = utcnow()
                log.warning("Redis is unreachable; live updates pause until it is back")
            return []
        if self.redis_down_since is not None:
            since, self.redis_down_since = self.redis_down_since - OUTAGE_MARGIN, None
            log.info("Redis is back")
            republish_endings(since)
        return reap_stuck_jobs()
