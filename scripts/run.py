"""`make run`: start Redis (unless REDIS_URL is set), workers and the Reflex app; stop all on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scripts.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[1]


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Own process group: Ctrl-C is handled here, and the whole group is stopped on exit.
    return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def main() -> int:
    env = dict(os.environ)
    var_dir = Path(env.get("JOBBOARD_VAR_DIR", ROOT / "var"))
    port = env.get("PORT", "3000")
    redis = None
    if not env.get("REDIS_URL"):
        redis = RedisServer(var_dir / "redis", persist=True).start()
        env["REDIS_URL"] = redis.url
        print(f"jobboard: started Redis-compatible server at {redis.url}", flush=True)

    subprocess.run([sys.executable, "-c", "from jobboard.core.db import migrate; migrate()"],
                   cwd=ROOT, env=env, check=True)  # fmt: skip

    children: list[subprocess.Popen[bytes]] = []
    for n in range(int(env.get("JOBBOARD_WORKERS", "2"))):
        children.append(_spawn([sys.executable, "-m", "workers", "--name", f"jobboard-{os.getpid()}-{n}"], env))
    env.setdefault("GRANIAN_WORKERS", env.get("JOBBOARD_APP_PROCESSES", "2"))
    app = _spawn(
        [sys.executable, "-m", "reflex", "run", "--env", "prod",
         "--frontend-port", port, "--backend-port", port],
        env,
    )  # fmt: skip
    children.append(app)
    print(f"jobboard: building and starting the app at http://localhost:{port} (Ctrl-C stops)", flush=True)

    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    code = 0
    try:
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"jobboard: {child.args[2]} exited with {child.returncode}; stopping", flush=True)
                    stopping, code = True, 1
                    break
            time.sleep(0.3)
    finally:
        print("jobboard: stopping…", flush=True)
        for child in reversed(children):
            _stop(child)
        if redis:
            redis.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
