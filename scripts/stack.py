"""Start and stop the whole stack — Redis, DB schema, RQ workers, Reflex app — as one unit.

Used by `make run` (scripts/run.py), the tests and the benchmarks, so all three run the
same processes the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from scripts.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[1]
# Debian's Chromium on a machine without internet: without the networking flags it floods
# the closed network with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def children_of(pid: int) -> list[int]:
    """Direct child processes (e.g. an RQ worker's work horse, which has its own group)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop a child started in its own session, with everything it started."""
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


class Stack:
    def __init__(
        self,
        var_dir: Path,
        *,
        port: int | None = None,
        workers: int = 1,
        app: bool = True,
        app_processes: int = 2,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
        persist_redis: bool = False,
    ) -> None:
        self.var_dir = Path(var_dir)
        self.port = port or free_port()
        self.workers = workers
        self.with_app = app
        self.app_processes = app_processes
        self.persist_redis = persist_redis
        self.log_dir = log_dir
        self.env = dict(os.environ) | (env or {})
        self.env["JOBBOARD_VAR_DIR"] = str(self.var_dir)
        self.redis: RedisServer | None = None
        self.worker_procs: list[subprocess.Popen[bytes]] = []
        self._workers_started = 0
        self.app_proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        out = None
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (lives with the child)
        # Own session: signals are ours to send, and a stop takes the child's children too.
        return subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )  # fmt: skip

    def start_redis(self) -> None:
        if not self.env.get("REDIS_URL"):
            self.redis = RedisServer(self.var_dir / "redis", persist=self.persist_redis).start()
            self.env["REDIS_URL"] = self.redis.url

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "-c", "from jobboard.core.db import migrate; migrate()"],
            cwd=ROOT, env=self.env, check=True,
        )  # fmt: skip

    def start_worker(self) -> subprocess.Popen[bytes]:
        # Never reuse a name: RQ keys workers by name, and a replaced worker's name lingers.
        self._workers_started += 1
        n = self._workers_started
        name = f"jobboard-{os.getpid()}-{n}-{self.port}"
        proc = self._spawn(f"worker-{n}", [sys.executable, "-m", "workers", "--name", name])
        self.worker_procs.append(proc)
        return proc

    def start_app(self) -> None:
        self.env["GRANIAN_WORKERS"] = str(self.app_processes)
        self.app_proc = self._spawn(
            "app",
            [sys.executable, "-m", "reflex", "run", "--env", "prod",
             "--frontend-port", str(self.port), "--backend-port", str(self.port)],
        )  # fmt: skip

    def wait_app(self, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.app_proc and self.app_proc.poll() is not None:
                raise RuntimeError(f"the app exited with {self.app_proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as resp:
                    if b"pong" in resp.read():
                        # /ping answers before the frontend is mounted; wait for a page too.
                        with urllib.request.urlopen(f"{self.url}/tasks", timeout=5) as page:
                            if page.status == 200:
                                return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the app did not answer at {self.url} within {timeout:.0f} s")

    def start(self) -> Stack:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.start_redis()
            self.migrate()
            for _ in range(self.workers):
                self.start_worker()
            if self.with_app:
                self.start_app()
                self.wait_app()
        except BaseException:
            self.stop()
            raise
        return self

    def dead_children(self) -> list[subprocess.Popen[bytes]]:
        procs = [*self.worker_procs, *([self.app_proc] if self.app_proc else [])]
        return [p for p in procs if p.poll() is not None]

    def stop(self) -> None:
        if self.app_proc:
            stop_process(self.app_proc)
        for proc in self.worker_procs:
            # RQ puts each work horse in a process group of its own: stop those too.
            horses = children_of(proc.pid) if proc.poll() is None else []
            stop_process(proc)
            for pid in horses:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self.redis:
            self.redis.stop()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
