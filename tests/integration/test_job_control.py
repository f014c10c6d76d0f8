"""Cancel, stop, retry, stuck-job detection and queue positions, with real workers."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rq.job import Job as RQJob

from jobboard.core import jobs
from jobboard.core.db import session_scope
from jobboard.core.models import Job
from jobboard.core.products import list_products
from jobboard.core.redis import get_redis
from scripts.stack import Stack, horse_of
from tests.conftest import isolated_stack, job_events, wait_for


def big_csv(path: Path, rows: int) -> Path:
    with path.open("w") as out:
        out.write("sku,title,price\n")
        out.writelines(f"C-{i},Control test {i},{i % 40 + 0.5}\n" for i in range(rows))
    return path


def submit(owner: str, path: Path) -> str:
    params = {"path": str(path), "filename": path.name}
    return jobs.submit("product_upload", owner_id=owner, title=path.name, params=params).id


def status_is(job_id: str, owner: str, *statuses: str) -> Callable[[], Any]:
    return lambda: (j := jobs.get_job(job_id, owner)) and j["status"] in statuses and j


def running(job_id: str, owner: str) -> dict[str, Any]:
    return wait_for(
        lambda: (
            (j := jobs.get_job(job_id, owner))
            and j["status"] == "processing"
            and (j["progress_data"].get("processed") or 0) > 0
            and j
        ),
        30,
        "the job to run",
    )


def test_cancel_a_queued_job_removes_it_from_the_queue(tmp_path: Path, owner: str) -> None:
    with isolated_stack(tmp_path, workers=0):  # nobody takes the job: it stays queued
        job_id = submit(owner, big_csv(tmp_path / "q.csv", 10))
        assert jobs.get_job(job_id, owner)["status"] == "queued"
        assert jobs.get_queue("uploads").get_job_position(job_id) == 0
        assert jobs.cancel(job_id, owner) == "cancelled"
        job = jobs.get_job(job_id, owner)
        assert job["status"] == "cancelled"
        assert job["error_data"]["message"] == "cancelled before it started"
        assert jobs.get_queue("uploads").get_job_position(job_id) is None
        assert RQJob.fetch(job_id, connection=get_redis()).get_status() == "canceled"


def test_queued_jobs_know_their_place_in_line(tmp_path: Path, owner: str) -> None:
    with isolated_stack(tmp_path, workers=0):
        ids = [submit(owner, big_csv(tmp_path / f"{n}.csv", 10)) for n in range(3)]
        steps = [jobs.get_job(i, owner)["progress_data"]["current_step"] for i in ids]
        assert steps == ["1st in line", "2nd in line", "3rd in line"]
        assert jobs.get_job(ids[2], owner)["progress_data"]["queue_position"] == 3


def test_cancel_a_running_job_keeps_what_it_finished(
    services: Stack, owner: str, tmp_path: Path
) -> None:
    job_id = submit(owner, big_csv(tmp_path / "long.csv", 400_000))
    running(job_id, owner)
    clicked = time.monotonic()
    assert jobs.cancel(job_id, owner) == "processing"
    job = wait_for(status_is(job_id, owner, "cancelled", "completed", "failed"), 15, "cancel")
    assert job["status"] == "cancelled", job
    assert time.monotonic() - clicked < jobs.CANCEL_GRACE_SECONDS  # cooperative, no kill
    message = job["error_data"]["message"]
    assert message.startswith("cancelled at ") and " of 400,000 rows done" in message
    imported = job["result_data"]["imported"]
    assert 0 < imported < 400_000
    assert f"{imported:,} products imported" in message
    assert list_products(owner, limit=1)[1] == imported  # what it finished is kept
    # The numbers agree: every row it says it processed was written.
    assert job["progress_data"]["processed"] == imported
    assert f"{imported:,} of 400,000 rows done" in message


def test_force_stop_ends_a_running_job_and_the_worker_goes_on(
    services: Stack, owner: str, tmp_path: Path
) -> None:
    job_id = submit(owner, big_csv(tmp_path / "stop.csv", 400_000))
    running(job_id, owner)
    jobs.force_stop(job_id)
    job = wait_for(status_is(job_id, owner, "cancelled"), 15, "the stop")
    assert "(stopped)" in job["error_data"]["message"] or "stopped" in job["error_data"]["message"]
    # The worker survived its work horse and takes the next job.
    nxt = submit(owner, big_csv(tmp_path / "next.csv", 100))
    assert wait_for(status_is(nxt, owner, "completed"), 30, "the next job")


def _live_workers() -> int:
    from rq import Worker

    return Worker.count(connection=get_redis())


@pytest.mark.parametrize("victim", ["horse", "worker"])
def test_a_killed_worker_fails_its_job_and_is_replaced(
    tmp_path: Path, owner: str, victim: str
) -> None:
    """kill -9 of the work horse (OOM killer) or of its worker: the job ends `failed` with
    the reason, a new worker takes the next job and `rq info` counts two workers again."""
    with isolated_stack(tmp_path, workers=2) as stack:
        wait_for(lambda: _live_workers() == 2, 30, "two workers")
        job_id = submit(owner, big_csv(tmp_path / "kill.csv", 600_000))
        running(job_id, owner)
        worker_pid = stack.rq_worker_pid(RQJob.fetch(job_id, connection=get_redis()).worker_name)
        horse = horse_of(worker_pid)
        assert horse
        os.kill(horse if victim == "horse" else worker_pid, signal.SIGKILL)
        killed = time.monotonic()
        job = wait_for(status_is(job_id, owner, "failed"), 15, "the failure")
        assert time.monotonic() - killed < 15
        assert job["error_data"]["message"] == (
            f"{jobs.WORKER_LOST}: killed by signal 9, SIGKILL (out of memory, or stopped by hand)"
        )
        # Nothing runs on as an orphan, the pool is whole again and takes the next job.
        wait_for(lambda: not os.path.exists(f"/proc/{horse}"), 10, "the horse to be gone")
        wait_for(lambda: _live_workers() == 2, 10, "the replacement worker")
        nxt = submit(owner, big_csv(tmp_path / "next.csv", 100))
        assert wait_for(status_is(nxt, owner, "completed"), 30, "the next job")
        assert all(p.poll() is None for p in stack.worker_procs)


def test_skipped_rows_are_not_offered_a_retry(
    services: Stack, owner: str, upload_file: Callable[[str, bytes], Path]
) -> None:
    """Rows invalid in themselves fail the same way again: no retry, a CSV to fix instead."""
    data = b"sku,title,price\nA-1,Good,1\n,No sku,2\nA-3,Bad price,abc\nA-4,Good too,4\n"
    first = submit(owner, upload_file("rows.csv", data))
    done = wait_for(status_is(first, owner, "completed"), 30, "the first run")
    assert done["result_data"]["failed_rows"] == [3, 4]
    assert done["outcome"]["label"] == "completed · 2 skipped"
    assert done["outcome"]["tone"] == "warning"
    assert not done["outcome"]["can_retry"] and not done["outcome"]["can_retry_failed"]
    with pytest.raises(jobs.JobError, match="only a failed or cancelled job"):
        jobs.retry(first, owner)
    with pytest.raises(jobs.JobError, match="invalid in themselves"):
        jobs.retry(first, owner, only_failed_rows=True)


def test_a_file_that_can_never_import_is_not_retried(
    services: Stack, owner: str, upload_file: Callable[[str, bytes], Path]
) -> None:
    path = upload_file("broken.csv", b"a,b\n1,2\n")
    first = submit(owner, path)
    failed = wait_for(status_is(first, owner, "failed"), 30, "the failure")
    assert failed["error_data"]["retryable"] is False
    assert not failed["outcome"]["can_retry"]
    with pytest.raises(jobs.JobError, match="would fail the same way"):
        jobs.retry(first, owner)


def test_retry_links_both_ways_and_only_once(
    services: Stack, owner: str, upload_file: Callable[[str, bytes], Path]
) -> None:
    path = upload_file("later.csv", b"sku,title\nX-1,Fine\n")
    lost = Job(
        owner_id=owner,
        id=str(uuid.uuid4()),
        kind="product_upload",
        title="later.csv",
        status="failed",
        params={"path": str(path), "filename": "later.csv"},
        error_data={"message": jobs.WORKER_LOST, "details": None, "retryable": True},
    )
    with session_scope() as session:
        session.add(lost)
    first = jobs.get_job(lost.id, owner)
    assert first["outcome"]["can_retry"]  # its worker was lost: a passing cause
    again = jobs.retry(lost.id, owner)
    original = jobs.get_job(lost.id, owner)
    assert original["retried_by"] == again.id and not original["outcome"]["can_retry"]
    retry = wait_for(status_is(again.id, owner, "completed"), 30, "the retry")
    assert retry["retry_of"] == lost.id and retry["title"] == "later.csv"
    with pytest.raises(jobs.JobError, match="already been retried"):
        jobs.retry(lost.id, owner)
    with pytest.raises(LookupError):
        jobs.retry(lost.id, "someone-else")


def _processed_never_goes_back(seen: list[tuple[str, int | None]]) -> int:
    counts = [n for _status, n in seen if n is not None]
    assert counts, "no progress was published"
    assert counts == sorted(counts), f"processed went backwards: {counts}"
    return counts[-1]


def test_processed_never_goes_back_and_matches_the_result_after_a_cancel(
    services: Stack, owner: str, tmp_path: Path
) -> None:
    job_id = submit(owner, big_csv(tmp_path / "mono.csv", 300_000))
    pick = lambda e: (e["job"]["status"], e["job"]["progress_data"].get("processed"))  # noqa: E731
    with job_events(owner, pick) as seen:
        running(job_id, owner)
        jobs.cancel(job_id, owner)
        job = wait_for(status_is(job_id, owner, "cancelled", "completed"), 15, "the cancel")
    assert job["status"] == "cancelled", job
    last = _processed_never_goes_back(seen)
    assert seen[-1][0] == "cancelled"
    imported = job["result_data"]["imported"]
    assert job["progress_data"]["processed"] == last == imported
    assert list_products(owner, limit=1)[1] == imported
    assert f"{imported:,} of 300,000 rows done" in job["error_data"]["message"]


def test_processed_never_goes_back_and_never_runs_ahead_after_a_stop(
    services: Stack, owner: str, tmp_path: Path
) -> None:
    from workers.product_upload import BATCH_SIZE

    job_id = submit(owner, big_csv(tmp_path / "stopmono.csv", 300_000))
    pick = lambda e: (e["job"]["status"], e["job"]["progress_data"].get("processed"))  # noqa: E731
    with job_events(owner, pick) as seen:
        running(job_id, owner)
        jobs.force_stop(job_id)  # the work horse is killed: nothing more reports
        job = wait_for(status_is(job_id, owner, "cancelled"), 15, "the stop")
    last = _processed_never_goes_back(seen)
    assert job["progress_data"]["processed"] == last
    in_catalog = list_products(owner, limit=1)[1]
    # Counted rows were written: at most the batch being committed at the kill is not counted.
    assert last <= in_catalog <= last + BATCH_SIZE, (last, in_catalog)
