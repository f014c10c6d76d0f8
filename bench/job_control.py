"""Job control timings: cancel → cancelled, worker kill → failed, products embedded per second.

.venv/bin/python -m bench.job_control [--quick]
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import time
from pathlib import Path

from bench.common import Result, log, private_stack

NAME = "control"
KILL_TARGET_S = 10.0  # the reliability issue: kill → failed within 10 s


def _csv(path: Path, rows: int) -> Path:
    with path.open("w") as out:
        out.write("sku,title,price\n")
        out.writelines(f"K-{i},Control bench {i},{i % 70 + 0.5}\n" for i in range(rows))
    return path


def _submit(path: Path) -> str:
    from jobboard.core import jobs
    from jobboard.core.settings import get_settings

    params = {"path": str(path), "filename": path.name}
    owner = get_settings().local_user
    return jobs.submit("product_upload", owner_id=owner, title=path.name, params=params).id


def _wait(
    job_id: str, statuses: tuple[str, ...], timeout: float, need_progress: bool = False
) -> float:
    """Poll the job (what the UI reads) until it reaches a status; returns the monotonic time."""
    from jobboard.core.jobs import get_job
    from jobboard.core.settings import get_settings

    owner = get_settings().local_user
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = get_job(job_id, owner)
        if (
            job
            and job["status"] in statuses
            and (not need_progress or (job["progress_data"].get("processed") or 0) > 0)
        ):
            return time.monotonic()
        time.sleep(0.005)
    raise TimeoutError(f"job {job_id} did not reach {statuses} within {timeout} s")


def cancel_times(runs: int) -> list[float]:
    from jobboard.core import jobs
    from jobboard.core.settings import get_settings

    times = []
    with private_stack(f"{NAME}-cancel", workers=1) as (_stack, var_dir):
        path = _csv(var_dir / "cancel.csv", 300_000)
        for _ in range(runs):
            job_id = _submit(path)
            _wait(job_id, ("processing",), 60, need_progress=True)
            clicked = time.monotonic()
            jobs.cancel(job_id, get_settings().local_user)  # what the Cancel button calls
            done = _wait(job_id, ("cancelled",), 30)
            times.append((done - clicked) * 1000)
    return times


def kill_times(runs: int) -> list[float]:
    from rq.job import Job as RQJob

    from jobboard.core.redis import get_redis

    times = []
    with private_stack(f"{NAME}-kill", workers=2) as (stack, var_dir):
        path = _csv(var_dir / "kill.csv", 600_000)
        for _ in range(runs):
            job_id = _submit(path)
            _wait(job_id, ("processing",), 60, need_progress=True)
            name = RQJob.fetch(job_id, connection=get_redis()).worker_name
            # The worker itself: its horse dies with it and the pool replaces it.
            os.kill(stack.rq_worker_pid(name), signal.SIGKILL)
            killed = time.monotonic()
            done = _wait(job_id, ("failed",), 60)
            times.append(done - killed)
    return times


def embed_rate(count: int) -> float | None:
    try:
        from workers.embeddings import embed
    except ImportError:
        return None
    texts = [
        f"Product {i} {['cotton shirt', 'steel kettle', 'leather boots'][i % 3]} size {i % 7}"
        for i in range(count)
    ]
    embed(texts[:100])  # load the model outside the timing
    started = time.perf_counter()
    embed(texts)
    return count / (time.perf_counter() - started)


def run(quick: bool = False, keep: bool = False) -> list[Result]:
    results: list[Result] = []
    cancels = cancel_times(2 if quick else 5)
    results.append(
        Result(
            NAME,
            f"cancel click → cancelled (running upload), median of {len(cancels)}",
            statistics.median(cancels),
            "ms",
            note=f"max {max(cancels):.0f} ms; the job stops at its next progress report",
        )
    )
    kills = kill_times(1 if quick else 3)
    worst = max(kills)
    results.append(
        Result(
            NAME,
            f"worker kill -9 → failed, worst of {len(kills)}",
            worst,
            "s",
            target=f"≤ {KILL_TARGET_S:.0f}",
            met=worst <= KILL_TARGET_S,
            note=f"median {statistics.median(kills):.2f} s; the pool checks workers each second",
        )
    )
    rate = embed_rate(10_000 if quick else 50_000)
    if rate is not None:
        results.append(
            Result(NAME, "products embedded per second (wordllama, 256-d)", rate, "products/s")
        )
    return results


def main() -> None:
    for r in run("--quick" in sys.argv):
        log(f"{r.metric}: {r.shown()} {r.unit} {r.note}")


if __name__ == "__main__":
    main()
