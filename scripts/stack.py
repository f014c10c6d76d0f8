"""Start and stop the whole stack — Redis, DB schema, RQ workers, Reflex app — as one unit.

Used by `make run` (scripts/run.py), the tests and the benchmarks, so all three run the
same processes the same way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def horse_of(worker_pid: int) -> int | None:
    """An RQ worker's work horse: the child that leads a process group of its own (the
    worker's other child, RQ's scheduler, stays in the worker's group)."""
    for pid in children_of(worker_pid):
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(pid) == pid:
                return pid
    return None


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


_ROLE_WORDS = {"redis": "Redis", "workers": "the worker pool", "app": "the app"}


def _exit_words(code: int | None) -> str:
    if code is None:
        return "not running"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


@dataclass
class _RestartPlan:
    """Back off from a child that dies again and again right after starting."""

    delay: float = 0.0
    not_before: float = 0.0
    last_start: float = 0.0

    def due(self, now: float) -> bool:
        return now >= self.not_before

    def started(self, now: float) -> None:
        quick_death = now - self.last_start < 10.0
        self.delay = min(30.0, max(1.0, self.delay * 2)) if quick_death else 0.0
        self.last_start = now
        self.not_before = now + self.delay


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
        self.env["PORT"] = str(self.port)  # the app's own origin, for CORS and the websocket
        # Prometheus' multiprocess mode: app and worker processes write their samples here.
        self.env["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics_dir)
        self.redis: RedisServer | None = None
        self.worker_procs: list[subprocess.Popen[bytes]] = []
        self._workers_started = 0
        self.app_proc: subprocess.Popen[bytes] | None = None
        self._restarts: dict[str, _RestartPlan] = {}

    @property
    def metrics_dir(self) -> Path:
        return self.var_dir / "prometheus"

    def clean_metrics(self) -> None:
        """Start with no samples: files of processes from an earlier run would be summed in."""
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        self.metrics_dir.mkdir(parents=True)

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

    def start_workers(self) -> subprocess.Popen[bytes]:
        """One supervised pool (RQ's WorkerPool) of `self.workers` RQ workers."""
        self._workers_started += 1
        proc = self._spawn(
            f"workers-{self._workers_started}",
            [sys.executable, "-m", "workers", "--workers", str(self.workers)],
        )
        self.worker_procs.append(proc)
        return proc

    def rq_worker_pid(self, worker_name: str) -> int:
        """The pid of the RQ worker of that name (one of the pool's children)."""
        from rq import Worker

        from jobboard.core.redis import get_redis

        worker = Worker.find_by_key(
            Worker.redis_worker_namespace_prefix + worker_name, connection=get_redis()
        )
        if worker is None or not worker.pid:
            raise LookupError(f"no live RQ worker named {worker_name}")
        return int(worker.pid)

    def start_app(self) -> None:
        self.env["GRANIAN_WORKERS"] = str(self.app_processes)
        self.app_proc = self._spawn(
            "app",
            [sys.executable, "-m", "reflex", "run", "--env", "prod",
             "--frontend-port", str(self.port), "--backend-port", str(self.port),
             # Only this machine by default; JOBBOARD_HOST=0.0.0.0 opens it to the network.
             "--backend-host", self.env.get("JOBBOARD_HOST") or "127.0.0.1"],
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
        self.clean_metrics()
        try:
            self.start_redis()
            self.migrate()
            if self.workers:
                self.start_workers()
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

    def supervise(self) -> list[str]:
        """Restart whatever died — Redis, the worker pool, the app; returns what was restarted.

        Call it every fraction of a second (`make run` does). A child that keeps dying right
        after its start is restarted with a growing delay (up to 30 s), never given up on.
        """
        now = time.monotonic()
        restarted = []
        roles: list[tuple[str, Any, Callable[[], Any]]] = []
        if self.redis is not None:
            roles.append(("redis", self.redis.process, self.redis.start))
        for proc in list(self.worker_procs):
            roles.append((f"workers:{proc.pid}", proc, lambda p=proc: self._replace_pool(p)))
        if self.app_proc is not None:
            roles.append(("app", self.app_proc, self.start_app))
        for role, proc, restart in roles:
            if proc is not None and proc.poll() is None:
                continue
            kind = role.split(":")[0]
            plan = self._restarts.setdefault(kind, _RestartPlan())
            if not plan.due(now):
                continue
            code = proc.returncode if proc is not None else None
            print(
                f"jobboard: {_ROLE_WORDS[kind]} stopped ({_exit_words(code)}); restarting",
                flush=True,
            )
            try:
                restart()
            except Exception as exc:  # e.g. the port is still taken: try again later
                print(f"jobboard: could not restart {_ROLE_WORDS[kind]}: {exc}", flush=True)
            plan.started(now)
            restarted.append(kind)
        return restarted

    def _replace_pool(self, dead: subprocess.Popen[bytes]) -> None:
        self.worker_procs.remove(dead)
        self.start_workers()

    def stop(self) -> None:
        if self.app_proc:
            stop_process(self.app_proc)
        for proc in self.worker_procs:
            # RQ puts each work horse in a process group of its own: stop those too.
            horses = [horse_of(w) for w in children_of(proc.pid)] if proc.poll() is None else []
            stop_process(proc)
            for pid in filter(None, horses):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self.redis:
            self.redis.stop()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
