"""Shared pieces of the benchmarks: environment, private stacks, statistics, results."""

from __future__ import annotations

import contextlib
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.stack import CHROMIUM_ARGS  # noqa: F401  (re-exported for the benches)

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
BENCH_CACHE = ROOT / "var" / "bench-cache"  # big databases built once and reused
BUILT = "jobboard bench: fill complete"  # marks a cached database whose build finished


def schema_key(fill_version: int) -> str:
    """Names a cached database: the schema's head revision and the fill's version, so a cache
    built by an older migration or fill is never measured as if it were current."""
    from alembic.script import ScriptDirectory

    from jobboard.core.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    return f"r{head}_f{fill_version}"


@dataclass
class Result:
    """One figure of the results table."""

    bench: str
    metric: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        v = self.value
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 100:
            return f"{v:.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.2f}"

    def verdict(self) -> str:
        return "" if self.met is None else ("met" if self.met else "NOT met")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def reflex_env() -> None:
    """What a Reflex run needs on these machines (PLATFORM.md), unless already set."""
    tools = str(ROOT / ".tools" / "node_modules" / ".bin")
    path = os.environ.get("PATH", "")
    if tools not in path.split(os.pathsep):
        os.environ["PATH"] = tools + os.pathsep + path
    os.environ.setdefault("REFLEX_USE_SYSTEM_BUN", "1")
    os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    if not os.environ.get("NPM_CONFIG_REGISTRY") and shutil.which("npm"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            registry = subprocess.run(
                ["npm", "config", "get", "registry"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            ).stdout.strip()
            if registry:
                os.environ["NPM_CONFIG_REGISTRY"] = registry


def _point_core_at(var_dir: Path, redis_url: str, database_url: str) -> None:
    """Make jobboard.core in *this* process use the private stack."""
    from jobboard.core.settings import get_settings

    os.environ["REDIS_URL"] = redis_url
    os.environ["JOBBOARD_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = database_url
    get_settings.cache_clear()


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


@contextlib.contextmanager
def private_stack(
    name: str,
    *,
    workers: int = 0,
    app: bool = False,
    app_processes: int = 2,
    attempts: int = 3,
    keep: bool = False,
    extra_env: dict[str, str] | None = None,
    database_url: str = "",
) -> Iterator[tuple[object, Path]]:
    """A scripts.stack.Stack in a fresh temp dir; always stopped (and removed) afterwards.

    The app build shares /work/main/.web with anyone else building there, so a failed
    start is retried on a new port.
    """
    from scripts.redis_server import free_port
    from scripts.stack import Stack

    if app:
        reflex_env()
    var_dir = Path(tempfile.mkdtemp(prefix=f"jobboard-bench-{name}-"))
    database_url = database_url or f"sqlite:///{var_dir / 'jobboard.db'}"
    # REDIS_URL="" makes the stack start its own server even if the caller's env names one.
    env = {"REDIS_URL": "", "DATABASE_URL": database_url, "REFLEX_TELEMETRY_ENABLED": "false"}
    env |= extra_env or {}
    stack = None
    try:
        for attempt in range(1, attempts + 1):
            port = free_port()
            while port == 3000:
                port = free_port()
            stack = Stack(
                var_dir,
                port=port,
                workers=workers,
                app=app,
                app_processes=app_processes,
                env=env,
                log_dir=var_dir / "logs",
            )
            started = time.monotonic()
            try:
                stack.start()
            except Exception as exc:
                app_log = _tail(var_dir / "logs" / "app.log")
                stack.stop()
                if attempt == attempts:
                    raise RuntimeError(f"stack did not start: {exc}\n{app_log}") from exc
                log(f"stack start failed ({exc}); retrying ({attempt}/{attempts})")
                time.sleep(5)
                continue
            what = f"{workers} worker(s)" + (f", app at {stack.url}" if app else "")
            log(f"{name}: stack up in {time.monotonic() - started:.1f} s ({what})")
            break
        assert stack is not None
        _point_core_at(var_dir, stack.env["REDIS_URL"], database_url)
        yield stack, var_dir
    finally:
        if stack is not None:
            stack.stop()
        from jobboard.core.db import get_engine

        with contextlib.suppress(Exception):
            get_engine().dispose()
        if keep:
            log(f"{name}: kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


def make_accounts(n: int) -> list[tuple[object, str]]:
    """n new accounts of the stack's database, each with a signed-in session secret."""
    from jobboard.core import accounts

    out = []
    for i in range(n):
        user = accounts.create_user(
            f"bench{i}-{uuid.uuid4().hex[:6]}@example.com", "bench-pass-1234"
        )
        out.append((user, accounts.start_session(user, address="127.0.0.1", user_agent="bench")))
    return out


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100) of an unsorted sequence."""
    if not values:
        return math.nan
    data = sorted(values)
    k = (len(data) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    if lo == hi:
        return data[lo]
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version_of(args: list[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    return "unknown"


def machine_info() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    def pkg(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    from scripts.redis_server import find_server_binary

    try:
        redis_server = _version_of([find_server_binary(), "--version"])
    except RuntimeError:
        redis_server = "unknown"
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    commit = _version_of(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
        if dirty:
            commit += f" + uncommitted changes in {len(dirty.splitlines())} file(s)"
    return {
        "git commit": commit,
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu_model(),
        "memory": mem or "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
        "reflex": pkg("reflex"),
        "rq": pkg("rq"),
        "redis-py": pkg("redis"),
        "redis server": redis_server,
        "chromium": _version_of([CHROMIUM, "--version"]) if Path(CHROMIUM).exists() else "absent",
    }
