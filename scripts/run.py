"""`make run`: Redis (unless REDIS_URL is set), workers and the Reflex app, supervised;
Ctrl-C or SIGTERM stops all of it."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from scripts.stack import ROOT, Stack


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    stack = Stack(
        Path(os.environ.get("JOBBOARD_VAR_DIR", ROOT / "var")),
        port=port,
        workers=int(os.environ.get("JOBBOARD_WORKERS", "2")),
        app_processes=int(os.environ.get("JOBBOARD_APP_PROCESSES", "2")),
        persist_redis=True,
    )
    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        stack.start_redis()
        if stack.redis:
            print(f"jobboard: started a Redis-compatible server at {stack.redis.url}", flush=True)
        stack.migrate()
        stack.clean_metrics()  # the metrics directory app and workers write to, empty
        stack.start_workers()
        print(
            f"jobboard: {stack.workers} worker(s) listening (a worker that dies is replaced)",
            flush=True,
        )
        stack.start_app()
        print(f"jobboard: building the app; it will answer at http://localhost:{port}", flush=True)
        # Only Ctrl-C / SIGTERM stops `make run`; anything that dies is started again.
        while not stopping:
            stack.supervise()
            time.sleep(0.3)
    finally:
        print("jobboard: stopping…", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
