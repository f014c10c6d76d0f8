"""Worker entry point: `python -m workers [--burst]` listens on every Jobboard queue."""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time

from rq import Worker

from jobboard.core.jobs import QUEUES, get_queue, reap_stuck_jobs
from jobboard.core.redis import get_redis

# RQ forks a work horse per job. A fork taken while the reaper thread is inside the DB or
# Redis client would copy their held locks into the horse and hang it (seen on PostgreSQL),
# so forks wait for the reaper to be idle.
_reaper_busy = threading.Lock()
os.register_at_fork(
    before=_reaper_busy.acquire,
    after_in_parent=_reaper_busy.release,
    after_in_child=_reaper_busy.release,
)


def _reap_forever() -> None:
    """Fail jobs whose worker died (kill -9, OOM) within seconds, not RQ's minutes."""
    while True:
        try:
            with _reaper_busy:
                reap_stuck_jobs()
        except Exception:
            logging.getLogger(__name__).exception("stuck-job check failed")
        time.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--name", default=None, help="worker name (default: RQ's)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    threading.Thread(target=_reap_forever, name="jobboard-reaper", daemon=True).start()
    worker = Worker([get_queue(name) for name in QUEUES], connection=get_redis(), name=args.name)
    worker.work(burst=args.burst, with_scheduler=False)


if __name__ == "__main__":
    main()
