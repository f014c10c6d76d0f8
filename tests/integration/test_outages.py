"""Redis goes away under a running job: the worker keeps importing and reports again when
Redis is back, or fails the job saying why once the grace period is over — never silently."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

from rq import Worker
from rq.job import Job as RQJob

from jobboard.core import events, jobs
from jobboard.core.models import JobStatus
from jobboard.core.products import list_products
from jobboard.core.redis import get_redis
from scripts.stack import horse_of
from tests.conftest import isolated_stack, wait_for
from tests.integration.test_job_control import big_csv, running, status_is, submit


def count_products(owner: str) -> int:
    return list_products(owner, limit=1)[1]


def _db_job(job_id: str, owner: str) -> dict:
    return jobs.get_job(job_id, owner) or {}  # the durable record while Redis is away


def _snapshot_status(job_id: str) -> str | None:
    snap = events.read_snapshots([job_id]).get(job_id)
    return snap and snap["job"]["status"]


def test_a_job_runs_through_a_redis_restart(tmp_path: Path, owner: str) -> None:
    with isolated_stack(tmp_path, workers=1) as stack:
        assert stack.redis is not None and stack.redis.process is not None
        job_id = submit(owner, big_csv(tmp_path / "through.csv", 300_000))
        running(job_id, owner)
        get_redis().save()  # like `make run`'s Redis, which keeps its data
        stack.redis.process.kill()
        stack.redis.process.wait()
        wait_for(lambda: _db_job(job_id, owner).get("status") in JobStatus.TERMINAL, 90, "the end")
        job = _db_job(job_id, owner)
        assert job["status"] == "completed", job["error_data"]
        assert job["result_data"]["imported"] == 300_000
        assert count_products(owner) == 300_000
        stack.redis.start()
        # Its ending, published while Redis was away, is announced once Redis is back.
        wait_for(lambda: _snapshot_status(job_id) == "completed", 10, "the ending's event")
        # The pool is whole again and takes the next job.
        wait_for(lambda: Worker.count(connection=get_redis()) >= 1, 20, "a worker")
        nxt = submit(owner, big_csv(tmp_path / "next.csv", 10))
        wait_for(lambda: _db_job(nxt, owner).get("status") == "completed", 30, "the next job")


def test_a_job_fails_saying_why_when_redis_stays_away(tmp_path: Path, owner: str) -> None:
    env = {"JOBBOARD_REDIS_GRACE_SECONDS": "1"}
    with isolated_stack(tmp_path, workers=1, env=env) as stack:
        assert stack.redis is not None and stack.redis.process is not None
        job_id = submit(owner, big_csv(tmp_path / "away.csv", 600_000))
        running(job_id, owner)
        get_redis().save()
        stack.redis.process.kill()
        stack.redis.process.wait()
        wait_for(lambda: _db_job(job_id, owner).get("status") == "failed", 30, "the failure")
        job = _db_job(job_id, owner)
        assert "could not reach Redis for 1 s" in job["error_data"]["message"]
        imported = sum(job["result_data"][k] for k in ("imported", "updated", "unchanged"))
        assert 0 < imported < 600_000
        assert count_products(owner) == imported  # what it says it did, it did
        stack.redis.start()
        wait_for(lambda: _snapshot_status(job_id) == "failed", 10, "the ending's event")


def test_jobs_a_crashed_redis_forgot_run_anyway(tmp_path: Path, owner: str) -> None:
    """Redis dies with nothing saved: the running job goes on, and the queued one, which
    the new Redis never heard of, is queued again and runs."""
    with isolated_stack(tmp_path, workers=1) as stack:
        assert stack.redis is not None and stack.redis.process is not None
        first = submit(owner, big_csv(tmp_path / "first.csv", 300_000))
        running(first, owner)
        second = submit(owner, big_csv(tmp_path / "second.csv", 100))
        assert _db_job(second, owner)["status"] == "queued"
        stack.redis.process.kill()
        stack.redis.process.wait()
        for path in stack.redis.directory.glob("*.rdb"):
            path.unlink()  # a crash that lost everything
        stack.redis.start()
        for job_id in (first, second):
            wait_for(
                lambda job_id=job_id: _db_job(job_id, owner).get("status") == "completed",
                60,
                f"job {job_id} to complete",
            )


def _worker_names() -> set[str]:
    return {w.name for w in Worker.all(connection=get_redis())}


def test_a_horse_whose_worker_died_stops_at_once(tmp_path: Path, owner: str) -> None:
    """kill -9 of the RQ worker only (not its work horse): the horse stops within seconds
    instead of importing on as an orphan, the job ends `failed` with the worker's words,
    and the dead worker leaves `rq info` straight away."""
    with isolated_stack(tmp_path, workers=1) as stack:
        wait_for(lambda: len(_worker_names()) == 1, 30, "the worker")
        assert _worker_names() == {f"{socket.gethostname()}.1"}  # named after host and number
        job_id = submit(owner, big_csv(tmp_path / "orphan.csv", 600_000))
        running(job_id, owner)
        worker_name = RQJob.fetch(job_id, connection=get_redis()).worker_name
        worker_pid = stack.rq_worker_pid(worker_name)
        horse = horse_of(worker_pid)
        assert horse
        os.kill(worker_pid, signal.SIGKILL)  # the worker only; the horse is not touched
        wait_for(lambda: not _alive(horse), 15, "the orphaned horse to stop")
        job = wait_for(status_is(job_id, owner, "failed", "completed", "cancelled"), 10, "the end")
        assert job["status"] == "failed"
        assert job["error_data"]["message"] == jobs.worker_lost_message(signal.SIGKILL)
        # Its replacement may take the same name (<host>.1): the dead one is known by its pid.
        wait_for(
            lambda: worker_pid not in {w.pid for w in Worker.all(connection=get_redis())},
            15,
            "the dead worker to leave rq info",
        )
        assert count_products(owner) < 600_000
        # The pool is whole again and takes the next job.
        wait_for(lambda: len(_worker_names()) == 1, 10, "the replacement worker")
        nxt = submit(owner, big_csv(tmp_path / "next.csv", 10))
        wait_for(status_is(nxt, owner, "completed"), 30, "the next job")


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it no longer runs)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_stopping_the_stack_mid_job_fails_the_job_saying_so(tmp_path: Path, owner: str) -> None:
    """`make run` stopped (Ctrl-C / SIGTERM) while a job runs: when the stop returns, the job
    reads `failed` with words that say what happened, and nothing of it runs on."""
    with isolated_stack(tmp_path, workers=1) as stack:
        job_id = submit(owner, big_csv(tmp_path / "stopped.csv", 600_000))
        running(job_id, owner)
        worker_pid = stack.rq_worker_pid(RQJob.fetch(job_id, connection=get_redis()).worker_name)
        horse = horse_of(worker_pid)
        stack.stop()  # what scripts.run does on SIGINT/SIGTERM
        job = _db_job(job_id, owner)
        assert job["status"] == "failed", job
        assert job["error_data"]["message"] == jobs.STOPPED_WITH_APP
        assert job["error_data"]["message"] == "stopped with the app; retry to run again"
        assert horse and not _alive(horse) and not _alive(worker_pid)


def test_health_says_whether_redis_answers(tmp_path: Path, monkeypatch) -> None:
    """`/api/health` (what the pages' "job queue is not answering" notice asks) follows
    Redis: up while it answers, down within a second of its going, up again when it is back."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from jobboard.api import health
    from jobboard.core.settings import get_settings
    from scripts.redis_server import RedisServer

    server = RedisServer(tmp_path / "redis").start()
    monkeypatch.setenv("REDIS_URL", server.url)
    get_settings.cache_clear()
    app = FastAPI()
    app.include_router(health.router)

    def queue() -> str:
        monkeypatch.setattr(health, "_last", (float("-inf"), False))  # no cached answer
        response = client.get("/api/health")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        return response.json()["queue"]

    try:
        with TestClient(app) as client:
            assert queue() == "up"
            server.process.kill()  # type: ignore[union-attr]
            server.process.wait()  # type: ignore[union-attr]
            assert queue() == "down"
            server.start()
            assert queue() == "up"
    finally:
        server.stop()
        monkeypatch.undo()
        get_settings.cache_clear()
