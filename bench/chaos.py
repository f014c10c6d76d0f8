"""Chaos run: many jobs of every kind while workers, work horses and Redis are killed.

    .venv/bin/python -m bench.chaos   # 1,000 jobs, 4 workers, 100 kills, 2 Redis restarts
    .venv/bin/python -m bench.chaos --jobs 60 --kills 6 --redis-restarts 1   # a short run

A private stack (its own Redis, SQLite database and worker pool, as `make run` starts them)
takes a mix of small and large product uploads, exports, duplicate searches,
auto-categorizations, auto-matches and description jobs (against a local fake
OpenAI-compatible server). Meanwhile the driver SIGKILLs a random worker or work horse and
restarts Redis: once gracefully (it saves) and once by SIGKILL (it loses what it had not
saved). At the end it checks that no job is left queued or processing, that every upload
reported as completed imported every one of its rows, that no failed upload claims more
than it wrote, and it reports how long each kill took to show as `failed`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from scripts.stack import Stack, children_of, horse_of

KILL_TARGET_S = 10.0


@dataclass
class ChaosReport:
    jobs: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    kills_of_busy: int = 0
    redis_restarts: list[str] = field(default_factory=list)
    kill_to_failed: list[float] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def problems(self) -> list[str]:
        out = [f"job {j} still {s}" for j, s in self.unfinished]
        out += self.inconsistent
        if self.kill_to_failed and max(self.kill_to_failed) > KILL_TARGET_S:
            out.append(f"a kill took {max(self.kill_to_failed):.1f} s to show as failed")
        return out

    def summary(self) -> dict[str, Any]:
        times = sorted(self.kill_to_failed)
        return {
            "jobs": self.jobs,
            "by_status": dict(self.statuses),
            "by_kind": dict(self.kinds),
            "kills": self.kills,
            "kills_of_busy_processes": self.kills_of_busy,
            "redis_restarts": self.redis_restarts,
            "kill_to_failed_p50_s": round(statistics.median(times), 2) if times else None,
            "kill_to_failed_max_s": round(times[-1], 2) if times else None,
            "kill_to_failed_count": len(times),
            "unfinished": len(self.unfinished),
            "inconsistent": len(self.inconsistent),
            "seconds": round(self.seconds, 1),
        }


def _log(msg: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _csv(path: Path, prefix: str, rows: int) -> Path:
    with path.open("w") as out:
        out.write("sku,title,price,vendor\n")
        words = ("cotton shirt", "steel kettle", "leather boots", "wool scarf")
        out.writelines(
            f"{prefix}{i},{words[i % 4]} {i},{i % 90 + 0.5},Vendor {i % 5}\n" for i in range(rows)
        )
    return path


def _rq_jobs_by_pid() -> dict[int, str]:
    """Worker pid → the job it runs, from RQ's own records."""
    from rq import Worker

    from jobboard.core.redis import get_redis

    out = {}
    for worker in Worker.all(connection=get_redis()):
        job_id = worker.get_current_job_id()
        if job_id and worker.pid:
            out[int(worker.pid)] = job_id
    return out


def _kill_one(stack: Stack, rng: random.Random) -> tuple[int, str | None]:
    """SIGKILL a random worker or work horse; returns (pid, the job it was running)."""
    workers = [pid for proc in stack.worker_procs for pid in children_of(proc.pid)]
    horses = {w: h for w in workers if (h := horse_of(w))}
    busy = _rq_jobs_by_pid()
    if horses and rng.random() < 0.5:
        worker, victim = rng.choice(sorted(horses.items()))
    elif workers:
        worker = victim = rng.choice(workers)
    else:
        return 0, None
    job_id = busy.get(worker)
    try:
        os.kill(victim, signal.SIGKILL)
    except ProcessLookupError:
        return victim, None
    return victim, job_id


def _restart_redis(stack: Stack, crash: bool) -> None:
    assert stack.redis is not None and stack.redis.process is not None
    if crash:
        stack.redis.process.kill()  # loses whatever it had not saved
    else:
        stack.redis.process.terminate()  # saves, as a clean restart does
    stack.redis.process.wait()
    stack.redis.start()


def _point_core_at(stack: Stack) -> None:
    from jobboard.core.settings import get_settings

    for key in ("REDIS_URL", "DATABASE_URL", "JOBBOARD_VAR_DIR"):
        os.environ[key] = stack.env[key]
    get_settings.cache_clear()


def _check_uploads(report: ChaosReport, uploads: dict[str, tuple[str, str, int]]) -> None:
    """Completed uploads imported every row; failed ones claim no more than they wrote."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from jobboard.core.db import session_scope
    from jobboard.core.models import Job, Product

    with session_scope() as session:
        for job_id, (owner, prefix, rows) in uploads.items():
            job = session.get(Job, job_id)
            assert job is not None
            written = session.exec(
                select(func.count())
                .select_from(Product)
                .where(Product.owner_id == owner, col(Product.key).startswith(prefix))
            ).one()
            result = job.result_data or {}
            claimed = sum(int(result.get(k, 0)) for k in ("imported", "updated", "unchanged"))
            if job.status == "completed" and (claimed != rows or written != rows):
                report.inconsistent.append(
                    f"upload {job_id} completed with {claimed} of {rows} rows reported, "
                    f"{written} written"
                )
            elif job.status != "completed" and claimed > written:
                report.inconsistent.append(
                    f"upload {job_id} {job.status} claims {claimed} rows but wrote {written}"
                )


def run_chaos(
    *,
    jobs: int = 1000,
    kills: int = 100,
    redis_restarts: int = 2,
    workers: int = 4,
    large_rows: int = 20_000,
    seed: int = 7,
    timeout: float = 1800.0,
    var_dir: Path | None = None,
) -> ChaosReport:
    from tests.fake_openai import FakeOpenAI

    rng = random.Random(seed)
    var_dir = Path(var_dir or tempfile.mkdtemp(prefix="jobboard-chaos-"))
    files = var_dir / "files"
    files.mkdir(parents=True, exist_ok=True)
    report = ChaosReport()
    started = time.monotonic()
    with FakeOpenAI(api_key="sk-chaos") as provider:
        env = {
            "REDIS_URL": "",
            "DATABASE_URL": f"sqlite:///{var_dir / 'chaos.db'}",
            "JOBBOARD_AI_BASE_URL": provider.base_url,
            "JOBBOARD_AI_API_KEY": "sk-chaos",
            "JOBBOARD_AI_MODEL": "fake",
        }
        stack = Stack(
            var_dir, workers=workers, app=False, env=env, log_dir=var_dir / "logs",
            persist_redis=True,
        )  # fmt: skip
        with stack:
            _point_core_at(stack)
            for key in ("JOBBOARD_AI_BASE_URL", "JOBBOARD_AI_API_KEY", "JOBBOARD_AI_MODEL"):
                os.environ[key] = env[key]
            _drive(stack, report, rng, jobs, kills, redis_restarts, large_rows, files, timeout)
    report.seconds = time.monotonic() - started
    return report


def _drive(
    stack: Stack,
    report: ChaosReport,
    rng: random.Random,
    total: int,
    kills: int,
    redis_restarts: int,
    large_rows: int,
    files: Path,
    timeout: float,
) -> None:
    from jobboard.core import jobs as core_jobs
    from jobboard.core.models import JobStatus
    from jobboard.core.products import list_products

    owners = [f"chaos-{n}" for n in range(4)]
    uploads: dict[str, tuple[str, str, int]] = {}
    submitted: list[str] = []
    killed: dict[str, float] = {}  # job id → wall time of the kill that hit it
    restart_at = {int(total * (k + 1) / (redis_restarts + 1)) for k in range(redis_restarts)}
    kill_every = max(1, total // max(1, kills))
    match_file = _csv(files / "match.csv", "M-", 40)

    def submit(kind: str, owner: str, title: str, params: dict[str, Any]) -> None:
        try:
            job = core_jobs.submit(kind, owner_id=owner, title=title, params=params)
        except Exception:  # refused (e.g. Redis restarting): the job is recorded as failed
            return
        submitted.append(job.id)
        report.kinds[kind] += 1

    for n in range(total):
        owner = owners[n % len(owners)]
        roll = rng.random()
        ids = [p.id for p in list_products(owner, limit=30)[0]] if roll >= 0.7 else []
        if roll < 0.6 or (roll >= 0.7 and len(ids) < 2):
            rows = large_rows if rng.random() < 0.15 else rng.randint(5, 200)
            prefix = f"J{n}-"
            path = _csv(files / f"u{n}.csv", prefix, rows)
            before = len(submitted)
            submit("product_upload", owner, path.name, {"path": str(path), "filename": path.name})
            if len(submitted) > before:
                uploads[submitted[-1]] = (owner, prefix, rows)
        elif roll < 0.7:
            submit(
                "export_catalog",
                owner,
                "catalog export",
                {"format": rng.choice(["shopify", "plain"])},
            )
        elif roll < 0.78:
            submit("find_duplicates", owner, "duplicates", {"product_ids": ids})
        elif roll < 0.86:
            cats = ["Shirts", "Kitchen", "Shoes", "Scarves"]
            submit("auto_categorize", owner, "categorize", {"product_ids": ids, "categories": cats})
        elif roll < 0.93:
            submit("auto_match", owner, "match", {"path": str(match_file), "filename": "match.csv"})
        else:
            submit("describe_products", owner, "describe", {"product_ids": ids[:5]})
        if n % kill_every == kill_every - 1 and report.kills < kills:
            _, job_id = _kill_one(stack, rng)
            report.kills += 1
            if job_id:
                report.kills_of_busy += 1
                killed.setdefault(job_id, time.time())
        if n in restart_at:
            crash = len(report.redis_restarts) % 2 == 1
            _restart_redis(stack, crash)
            report.redis_restarts.append("crash (SIGKILL)" if crash else "clean (SIGTERM)")
        time.sleep(0.02)
    while report.kills < kills:  # any kills left: spread them over the tail of the run
        _, job_id = _kill_one(stack, rng)
        report.kills += 1
        if job_id:
            report.kills_of_busy += 1
            killed.setdefault(job_id, time.time())
        time.sleep(0.3)

    deadline = time.monotonic() + timeout
    pending = set(submitted)
    while pending and time.monotonic() < deadline:
        for job_id in list(pending)[:200]:
            job = core_jobs.get_job(job_id, _owner_of(job_id))
            if job and job["status"] in JobStatus.TERMINAL:
                pending.discard(job_id)
        if pending:
            _log(f"{len(pending)} jobs still running or queued")
        time.sleep(0.5)
    _collect(report, submitted, killed)
    _check_uploads(report, uploads)


def _owner_of(job_id: str) -> str:
    from jobboard.core.db import session_scope
    from jobboard.core.models import Job

    with session_scope() as session:
        job = session.get(Job, job_id)
        return job.owner_id if job else ""


def _collect(report: ChaosReport, submitted: list[str], killed: dict[str, float]) -> None:
    from jobboard.core import jobs as core_jobs
    from jobboard.core.db import session_scope
    from jobboard.core.models import Job, JobStatus

    report.jobs = len(submitted)
    with session_scope() as session:
        for job_id in submitted:
            job = session.get(Job, job_id)
            assert job is not None
            report.statuses[job.status] += 1
            if job.status in JobStatus.ACTIVE:
                report.unfinished.append((job_id, job.status))
            message = (job.error_data or {}).get("message") or ""
            if (
                job_id in killed
                and job.status == JobStatus.FAILED
                and message.startswith(core_jobs.WORKER_LOST)
                and job.completed_at
            ):
                ended = job.completed_at
                if ended.tzinfo is None:  # SQLite keeps UTC without its zone
                    ended = ended.replace(tzinfo=UTC)
                report.kill_to_failed.append(ended.timestamp() - killed[job_id])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--redis-restarts", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--large-rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    # SIGTERM (e.g. `timeout`) unwinds like Ctrl-C, so the private stack is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = run_chaos(
        jobs=args.jobs,
        kills=args.kills,
        redis_restarts=args.redis_restarts,
        workers=args.workers,
        large_rows=args.large_rows,
        seed=args.seed,
    )
    print(json.dumps(report.summary(), indent=2))
    for problem in report.problems():
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if report.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
