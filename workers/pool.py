"""A supervised pool of workers (RQ's `WorkerPool`): a worker that dies is replaced within
about a second, its job ends `failed` with the reason, and `rq info` forgets it at once."""

from __future__ import annotations

import logging
import signal
from typing import Any

from rq import Worker
from rq.worker_pool import WorkerData, WorkerPool

from jobboard.core import jobs

log = logging.getLogger(__name__)


class JobboardWorkerPool(WorkerPool):
    def handle_dead_worker(self, worker_data: WorkerData) -> None:
        super().handle_dead_worker(worker_data)
        if self.status == self.Status.STOPPED:
            return  # a requested stop: the worker recorded its own ending
        code = worker_data.process.exitcode
        signum = -code if code is not None and code < 0 else None
        log.warning(
            "worker %s (pid %d) died (%s); starting another",
            worker_data.name,
            worker_data.pid,
            f"signal {signal.Signals(signum).name}" if signum else f"exit code {code}",
        )
        try:
            self._bury(worker_data.name, signum)
        except Exception:  # Redis or the database down: the watchdog ends the job later
            log.exception("could not clean up after worker %s", worker_data.name)

    def _bury(self, name: str, signum: int | None) -> None:
        worker: Any = Worker.find_by_key(
            Worker.redis_worker_namespace_prefix + name, connection=self.connection
        )
        if worker is None:
            return
        job_id = worker.get_current_job_id()
        if job_id:
            # Its horse died with it (see JobboardWorker.main_work_horse).
            jobs.fail(job_id, jobs.worker_lost_message(signum))
        worker.register_death()  # so `rq info` counts only the living
