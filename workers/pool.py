"""A supervised pool of workers (RQ's `WorkerPool`): a worker that dies is replaced within
about a second, its job ends `failed` with the reason, and `rq info` forgets it at once.

Workers are named after their host and a number (`shop-1.1`, `shop-1.2`, …) so `rq info`
says where each runs; a number still registered by a live worker (another pool on the same
host and Redis) is skipped, so names stay unique across restarts.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import socket
from typing import Any

from rq import Worker
from rq.worker_pool import WorkerData, WorkerPool

from jobboard.core import jobs

log = logging.getLogger(__name__)


def _running(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class JobboardWorkerPool(WorkerPool):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hostname = socket.gethostname()
        self._jobs_at_stop: set[str] = set()

    def start_worker(
        self,
        count: int | None = None,
        burst: bool = True,
        _sleep: float = 0,
        logging_level: str = "INFO",
    ) -> None:
        """RQ's own, but the worker is named `<host>.<number>` instead of a random hex."""
        name = self._free_name()
        process = self.get_worker_process(
            name, burst=burst, _sleep=_sleep, logging_level=logging_level
        )
        process.start()
        self.worker_dict[name] = WorkerData(name=name, pid=process.pid, process=process)  # type: ignore[arg-type]
        log.debug("started worker %s (pid %d)", name, process.pid)

    def _free_name(self) -> str:
        """The lowest `<host>.<n>` not taken by a live worker; a registration left behind
        by a worker of this host that no longer runs (a crash) is cleaned up and reused."""
        for number in itertools.count(1):
            name = f"{self.hostname}.{number}"
            if name in self.worker_dict:
                continue
            key = Worker.redis_worker_namespace_prefix + name
            if not self.connection.exists(key) or self.connection.hexists(key, "death"):
                return name
            worker: Any = Worker.find_by_key(key, connection=self.connection)
            if worker is None:
                return name
            if worker.hostname == self.hostname and not _running(worker.pid):
                with contextlib.suppress(Exception):  # the watchdog ends its job otherwise
                    self._bury(name, None)
                return name
        raise AssertionError("unreachable")

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

    def request_stop(self, signum: Any = None, frame: Any = None) -> None:
        """Stopping the pool (Ctrl-C, SIGTERM of `make run`): note the jobs running now."""
        if self.status != self.Status.STOPPED:
            with contextlib.suppress(Exception):
                self._jobs_at_stop = self._current_jobs()
        super().request_stop(signum, frame)

    def _current_jobs(self) -> set[str]:
        found = set()
        for name in list(self.worker_dict):
            worker: Any = Worker.find_by_key(
                Worker.redis_worker_namespace_prefix + name, connection=self.connection
            )
            if worker is not None and (job_id := worker.get_current_job_id()):
                found.add(job_id)
        return found

    def start(self, burst: bool = False, logging_level: str = "INFO") -> None:
        try:
            super().start(burst=burst, logging_level=logging_level)
        finally:
            self._end_jobs_left_running()

    def _end_jobs_left_running(self) -> None:
        """Each worker fails its running job when stopped (JobboardWorker.request_stop);
        this catches one a worker could not record, so no job reads `processing` after
        Jobboard has stopped."""
        for job_id in self._jobs_at_stop:
            try:
                if jobs.fail(job_id, jobs.STOPPED_WITH_APP) is not None:
                    log.warning("job %s was still running at the stop; marked failed", job_id)
            except Exception:
                log.exception("could not mark job %s failed", job_id)
