"""RQ's scheduler, which enqueues what `enqueue_in` scheduled (webhook redeliveries, retries),
is back within seconds after its worker is killed and after a Redis restart (RQ itself would
try again only in the worker's maintenance, 10 minutes later)."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path

from rq import Queue, Worker
from rq.job import JobStatus

from jobboard.core.redis import get_redis
from jobboard.core.webhooks import QUEUE as WEBHOOK_QUEUE
from tests.conftest import isolated_stack, wait_for


def _scheduled_job_runs(what: str) -> None:
    job = Queue(WEBHOOK_QUEUE, connection=get_redis()).enqueue_in(timedelta(seconds=1), "os.getpid")
    # Well under the 61 s lease a dead scheduler's locks had before another could take them.
    wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 20, what)


def test_scheduled_jobs_run_after_a_killed_worker_and_a_redis_restart(tmp_path: Path) -> None:
    with isolated_stack(tmp_path, workers=1) as stack:
        wait_for(lambda: Worker.count(connection=get_redis()) == 1, 30, "the worker")
        _scheduled_job_runs("a scheduled job")

        [worker] = Worker.all(connection=get_redis())
        os.kill(stack.rq_worker_pid(worker.name), signal.SIGKILL)
        wait_for(
            lambda: [w.pid for w in Worker.all(connection=get_redis())] not in ([], [worker.pid]),
            30,
            "the replacement worker",
        )
        _scheduled_job_runs("a scheduled job after the worker was killed")

        assert stack.redis is not None and stack.redis.process is not None
        get_redis().save()  # the scheduler's locks come back with the data
        stack.redis.process.kill()
        stack.redis.process.wait()
        stack.redis.start()
        _scheduled_job_runs("a scheduled job after Redis restarted")
