"""Worker entry point: `python -m workers [-n N]` runs a supervised pool of N RQ workers on
every Jobboard queue and the `webhooks` queue (RQ's WorkerPool: a worker that dies is
replaced), plus the watchdog."""

from __future__ import annotations

import argparse
import logging
import os
import threading

from jobboard.core.jobs import QUEUES
from jobboard.core.redis import get_redis
from jobboard.core.watchdog import TICK_EVERY, Watchdog
from jobboard.core.webhooks import QUEUE as WEBHOOK_QUEUE
from jobboard.core.webhooks.delivery import tls_context
from workers.pool import JobboardWorkerPool
from workers.worker import JobboardWorker

log = logging.getLogger("workers")

# The pool forks workers (and replacements) while the watchdog thread may be inside the DB
# or Redis client; a fork then would copy their held locks into the child and hang it
# (seen on PostgreSQL), so forks wait for the watchdog to be idle.
_watchdog_busy = threading.Lock()
os.register_at_fork(
    before=_watchdog_busy.acquire,
    after_in_parent=_watchdog_busy.release,
    after_in_child=_watchdog_busy.release,
)


def _watch_forever(stop: threading.Event) -> None:
    """Fail jobs whose worker died within seconds, announce endings lost to a Redis outage."""
    watchdog = Watchdog()
    while not stop.wait(TICK_EVERY):
        try:
            with _watchdog_busy:
                watchdog.tick()
        except Exception:
            log.exception("watchdog check failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "-n",
        "--workers",
        type=int,
        default=int(os.environ.get("JOBBOARD_WORKERS", "2")),
        help="worker processes (default: $JOBBOARD_WORKERS or 2)",
    )
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    tls_context()  # loaded once here, inherited by every worker the pool forks
    stop = threading.Event()
    threading.Thread(
        target=_watch_forever, args=(stop,), name="jobboard-watchdog", daemon=True
    ).start()
    # Webhook deliveries last: jobs go first, and a delivery takes at most its 10 s timeout.
    pool = JobboardWorkerPool(
        [*QUEUES, WEBHOOK_QUEUE],
        connection=get_redis(),
        num_workers=args.workers,
        worker_class=JobboardWorker,
    )
    try:
        pool.start(burst=args.burst)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
