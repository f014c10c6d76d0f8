"""`make run`: Redis (unless REDIS_URL is set), workers and the Reflex app; Ctrl-C stops all."""

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
    code = 0
    try:
        stack.start_redis()
        if stack.redis:
            print(f"jobboard: started a Redis-compatible server at {stack.redis.url}", flush=True)
        stack.migrate()
        for _ in range(stack.workers):
            stack.start_worker()
        print(f"jobboard: {stack.workers} worker(s) listening", flush=True)
        stack.start_app()
        print(f"jobboard: building the app; it will answer at http://localhost:{port}", flush=True)
        while not stopping:
            if dead := stack.dead_children():
                print(f"jobboard: {dead[0].args[2:4]} exited with {dead[0].returncode}", flush=True)
                code = 1
                break
            time.sleep(0.3)
    finally:
        print("jobboard: stopping…", flush=True)
        stack.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
