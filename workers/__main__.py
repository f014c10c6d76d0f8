"""Worker entry point: `python -m workers [--burst]` listens on every Jobboard queue."""

from __future__ import annotations

import argparse
import logging

from rq import Worker

from jobboard.core.jobs import QUEUES, get_queue
from jobboard.core.redis import get_redis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--name", default=None, help="worker name (default: RQ's)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    worker = Worker([get_queue(name) for name in QUEUES], connection=get_redis(), name=args.name)
    worker.work(burst=args.burst, with_scheduler=False)


if __name__ == "__main__":
    main()
