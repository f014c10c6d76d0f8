"""Jobboard's RQ worker: a work horse dies with its worker, and every way a horse can die
ends its job with words a user understands."""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import time
from typing import Any

import redis
from rq import Worker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.job import Job as RQJob
from rq.scheduler import RQScheduler
from rq.worker import WorkerStatus
from rq.worker_pool import ForkProcess

from jobboard.core import jobs, metrics
from jobboard.core.db import get_engine
from jobboard.core.webhooks import QUEUE as WEBHOOK_QUEUE

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """Linux: SIGKILL this process when its parent dies, so no horse runs on as an orphan."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the watchdog still ends the job
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


# How long the scheduler waits before trying again while Redis is unreachable.
SCHEDULER_RETRY_SECONDS = 1.0


class _Scheduler(RQScheduler):
    """RQ's scheduler process, but one that dies with its worker (no orphan per kill) and
    outlives a Redis outage, as its worker does."""

    def start(self) -> Any:
        self._status = self.Status.STARTED
        self._connection = None  # a Redis client cannot cross the fork
        self._process = ForkProcess(target=_run_scheduler, args=(self, os.getpid()))
        self._process.start()
        return self._process


def _run_scheduler(scheduler: RQScheduler, parent_pid: int) -> None:
    """RQ's `rq.scheduler.run`, but a Redis error does not end the process: RQ's worker
    restarts a dead scheduler only in its maintenance, every 10 minutes, and until then
    no retry (`enqueue_in`: webhook redeliveries) would be enqueued."""
    _die_with_parent(parent_pid)
    scheduler.log.info(
        "Scheduler for %s started with PID %s", ", ".join(scheduler._queue_names), os.getpid()
    )
    while True:
        try:
            scheduler.work()
            return
        except redis.exceptions.RedisError as exc:
            scheduler.log.warning("Scheduler: Redis unreachable (%s); waiting for it", exc)
        while not scheduler._stop_requested:  # one warning per outage, not one a second
            time.sleep(SCHEDULER_RETRY_SECONDS)
            try:
                scheduler.connection.ping()
                break
            except redis.exceptions.RedisError:
                continue
        if scheduler._stop_requested:
            return
        scheduler.log.info("Scheduler: Redis is back")


class JobboardWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Started by a fork of the pool: never reuse the pool's pooled DB connections.
        get_engine().dispose(close=False)
        self._worker_pid = os.getpid()
        # A pool that is killed (kill -9) cannot stop its workers: they ran on as orphans
        # beside the pool the supervisor started instead, and outlived `make run` itself.
        pool = multiprocessing.parent_process()
        if pool is not None and pool.pid is not None:
            _die_with_parent(pool.pid)

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ) -> None:
        """RQ's own, with a scheduler that dies with this worker and is named after it.

        The name is the scheduler's lock token. RQ's default, a random one per start, left
        the locks of a scheduler that died with its worker (or that a Redis restart brought
        back from its snapshot) to the dead one for their 61 s lease, and the replacement
        worker, refused, tried again only in its maintenance 10 minutes later: no scheduled
        job ran meanwhile. The pool reuses a name only once its worker is gone
        (JobboardWorkerPool._free_name), so the worker that takes the name takes the locks."""
        self.scheduler = _Scheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
            name=self.name,
        )
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if not burst:
            self.scheduler.start()
            return
        try:
            self.scheduler.register_birth()
            self.scheduler.enqueue_scheduled_jobs()
        finally:
            self.scheduler.release_locks()
            self.scheduler.register_death()

    def execute_job(self, job: RQJob, queue: Any) -> None:
        """Webhook deliveries run in the worker itself, as RQ's SimpleWorker runs every job: a
        delivery is short (10 s HTTP timeout, 60 s job timeout) and a fork per delivery cost
        more than the delivery (bench/webhooks.py). Jobs get their work horse as before."""
        if job.origin != WEBHOOK_QUEUE:
            super().execute_job(job, queue)
            return
        execution = self.prepare_execution(job)
        self.perform_job(job, queue, execution)
        self.set_state(WorkerStatus.IDLE)

    def main_work_horse(self, job: RQJob, queue: Any) -> None:
        _die_with_parent(self._worker_pid)
        metrics.use_horse_identity(self._worker_pid)
        super().main_work_horse(job, queue)

    def handle_work_horse_killed(self, job: RQJob, retpid: Any, ret_val: Any, rusage: Any) -> None:
        """The horse died under us (OOM killer, kill -9): say so at once."""
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        signum = os.WTERMSIG(ret_val) if ret_val and os.WIFSIGNALED(ret_val) else None
        try:
            jobs.fail(job.id, jobs.worker_lost_message(signum))
        except Exception:  # the watchdog ends it instead
            log.exception("could not mark job %s failed", job.id)

    def maintain_heartbeats(self, job: RQJob, execution: Any) -> None:
        # A Redis outage must not kill the worker (and with it the horse, which keeps
        # working and reports again when Redis is back).
        try:
            super().maintain_heartbeats(job, execution)
        except redis.exceptions.RedisError:
            self.log.warning("Worker %s: Redis unreachable; the job goes on", self.name)

    def request_stop(self, signum: int, frame: Any) -> None:
        """Stopping Jobboard stops the running job now, and says so, rather than waiting."""
        job_id = self.get_current_job_id() if self.horse_pid else None
        if not job_id:
            super().request_stop(signum, frame)
            return
        # A stop comes twice (SIGTERM to the process group, SIGINT from the pool): the
        # second must not interrupt this one's database write (it would wait on the first's
        # lock, or abort it and leave the job `processing`). Held back until RQ's handlers
        # are in place, it then meets RQ's forced stop, which ignores a quick repeat.
        stops = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stops)
        try:
            try:
                jobs.fail(job_id, jobs.STOPPED_WITH_APP)
            except Exception:
                log.exception("could not mark job %s failed", job_id)
            self.kill_horse()  # RQ's monitor reaps it
            super().request_stop(signum, frame)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
