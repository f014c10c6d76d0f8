"""Status transitions move only forward, and every one is published with a new version."""

from __future__ import annotations

import pytest

from jobboard.core import events, jobs
from jobboard.core.db import session_scope
from jobboard.core.models import Job, JobStatus
from scripts.stack import Stack


def _queued_job(owner: str) -> Job:
    """A queued job row that was never put on a queue, so no worker takes it."""
    job = Job(id=f"{owner}-job", owner_id=owner, kind="product_upload", title="t.csv")
    with session_scope() as session:
        session.add(job)
    return job


def test_statuses_only_move_forward(services: Stack, owner: str) -> None:
    job = _queued_job(owner)
    assert jobs.complete(job.id, {}, {}) is None  # queued → completed skips processing
    started = jobs.start(job.id)
    assert started is not None and started.status == JobStatus.PROCESSING
    assert jobs.start(job.id) is None  # not twice
    done = jobs.complete(job.id, {"imported": 1}, {"processed": 1, "total": 1})
    assert done is not None and done.status == JobStatus.COMPLETED
    assert done.progress_data["percentage"] == 100
    assert jobs.fail(job.id, "late failure") is None  # terminal is final
    assert jobs.get_job(job.id, owner)["status"] == "completed"


def test_queued_job_can_fail_directly_and_versions_grow(services: Stack, owner: str) -> None:
    job = _queued_job(owner)
    failed = jobs.fail(job.id, "could not queue the job")
    assert failed is not None and failed.error_data == {
        "message": "could not queue the job",
        "details": None,
        "retryable": True,
    }
    first = failed.version
    assert jobs.start(job.id) is None
    snap = events.read_snapshots([job.id])[job.id]
    assert snap["version"] == first and snap["job"]["status"] == "failed"


def test_get_job_is_scoped_to_owner(services: Stack, owner: str) -> None:
    job = _queued_job(owner)
    assert jobs.get_job(job.id, owner) is not None
    assert jobs.get_job(job.id, "someone-else") is None


def test_list_jobs_filters_and_paginates_newest_first(services: Stack, owner: str) -> None:
    ids = []
    for n in range(5):
        job = Job(id=f"{owner}-{n}", owner_id=owner, kind="product_upload", title=f"{n}.csv")
        with session_scope() as session:
            session.add(job)
        ids.append(job.id)
    jobs.start(ids[0])
    page, total = jobs.list_jobs(owner, limit=2)
    assert total == 5 and [j["id"] for j in page] == [ids[4], ids[3]]
    page2, _ = jobs.list_jobs(owner, offset=2, limit=2)
    assert [j["id"] for j in page2] == [ids[2], ids[1]]
    processing, count = jobs.list_jobs(owner, status="processing")
    assert count == 1 and processing[0]["id"] == ids[0]
    assert jobs.list_jobs(owner, kind="nope")[1] == 0


def test_submit_without_redis_fails_visibly(
    services: Stack, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobboard.core.settings import get_settings
    from scripts.redis_server import free_port

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    get_settings.cache_clear()
    try:
        with pytest.raises(Exception, match=r"Connection refused|Error"):
            jobs.submit("product_upload", owner_id=owner, title="x.csv", params={})
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    [job], total = jobs.list_jobs(owner)
    assert total == 1 and job["status"] == "failed"
    assert job["error_data"]["message"].startswith("could not queue the job")


def test_no_event_after_the_final_one(services: Stack, owner: str) -> None:
    """A late progress report (a work horse being stopped) cannot undo an ending."""
    job = _queued_job(owner)
    started = jobs.start(job.id)
    assert started is not None
    ended = jobs.complete(job.id, {}, {})
    assert ended is not None
    late = jobs.to_public(started)  # what a still-running reporter would send
    version = events.publish(late, owner)
    snap = events.read_snapshots([job.id])[job.id]
    assert snap["job"]["status"] == "completed"
    assert version == snap["version"] == ended.version


def test_a_crash_keeps_its_traceback_for_admins_only_without_server_paths(
    services: Stack, owner: str
) -> None:
    from jobboard.core.settings import ROOT

    job = _queued_job(owner)

    def crash(job: Job, reporter: object) -> dict:
        open(f"{ROOT}/var/no-such-dir/secret.csv")  # noqa: SIM115
        return {}

    with pytest.raises(FileNotFoundError):
        jobs.run(job.id, crash)
    with session_scope() as session:
        stored = session.get(Job, job.id)
        assert stored is not None and stored.status == JobStatus.FAILED
        error = dict(stored.error_data or {})
    # Users (UI, REST, events) get words; the traceback stays in the database for admins.
    public = jobs.get_job(job.id, owner)
    assert public["error_data"] == {
        "message": "an internal error stopped the job (FileNotFoundError)",
        "retryable": True,  # an internal error may pass: a retry is offered
    }
    assert jobs.to_public(stored, include_details=True)["error_data"]["details"] == error["details"]
    assert 'File "tests/integration/test_lifecycle.py"' in error["details"]
    assert "'var/no-such-dir/secret.csv'" in error["details"]
    assert str(ROOT) not in error["details"] and "site-packages" not in error["details"]


def test_a_failure_message_names_no_server_path(services: Stack, owner: str) -> None:
    job = _queued_job(owner)
    failed = jobs.fail(job.id, "the model is broken: [Errno 2] No such file: '/opt/models/w.bin'")
    assert failed is not None
    assert failed.error_data == {
        "message": "the model is broken: [Errno 2] No such file: '…/w.bin'",
        "details": None,
        "retryable": True,
    }
