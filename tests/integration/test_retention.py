"""Retention: what `purge` deletes (old finished jobs, their files and Redis keys) and keeps."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rq.job import Job as RQJob
from rq.registry import CanceledJobRegistry
from sqlmodel import select

from jobboard.core import events, jobs, retention
from jobboard.core.db import session_scope
from jobboard.core.exports import export_path
from jobboard.core.models import Job, JobStatus, utcnow
from jobboard.core.products import list_products, upsert_products
from jobboard.core.redis import get_redis
from jobboard.core.settings import ROOT, get_settings
from scripts.stack import Stack
from tests.conftest import ProductRec

DAY = timedelta(days=1)


@pytest.fixture
def quiet(services: Stack) -> Iterator[None]:
    """No scheduled purge meanwhile, and nothing old left by others: counts are exact."""
    get_redis().set(retention.DUE_KEY, "1", px=3600 * 1000)
    retention.purge()
    yield


def make_job(
    owner: str,
    status: str,
    ended_days_ago: float | None,
    *,
    kind: str = "product_upload",
    params: dict[str, Any] | None = None,
) -> str:
    """A job row as the lifecycle leaves it, ended that long ago, with its live snapshot."""
    now = utcnow()
    age = (ended_days_ago or 0) * DAY
    job = Job(
        id=str(uuid.uuid4()),
        owner_id=owner,
        kind=kind,
        title=f"{status} {ended_days_ago}",
        status=status,
        params=params or {},
        created_at=now - age - DAY,
        started_at=None if status == JobStatus.QUEUED else now - age - DAY,
        updated_at=now - age,
        completed_at=None if ended_days_ago is None else now - age,
    )
    with session_scope() as session:
        session.add(job)
    events.publish(jobs.to_public(job), owner)
    return job.id


def upload(name: str = "shop.csv", data: bytes = b"sku,title\nA,a\n") -> Path:
    """A file where the upload page stores one: its own <hex> folder in the upload dir."""
    folder = get_settings().upload_dir / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(data)
    return path


def age(path: Path, days: float) -> Path:
    stamp = (utcnow() - days * DAY).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def params_for(path: Path) -> dict[str, Any]:
    return {"path": str(path), "filename": path.name}


def remaining(ids: list[str]) -> set[str]:
    with session_scope() as session:
        return set(session.exec(select(Job.id).where(Job.id.in_(ids))).all())  # type: ignore[attr-defined]


def test_purge_deletes_exactly_what_is_past_retention(
    quiet: None, owner: str, upload_file: Callable[[str, bytes], Path]
) -> None:
    days, failed_days = retention.retention_days()
    assert (days, failed_days) == (30, 60)
    r = get_redis()
    upsert_products(owner, [ProductRec("Kept product", sku="KEEP-1")])

    # Past retention: these go, with their files and keys.
    done_file = upload()
    old_done = make_job(owner, "completed", days + 1, params=params_for(done_file))
    old_cancelled = make_job(owner, "cancelled", days + 1)
    r.set(jobs.cancel_key(old_cancelled), "1")
    # Cancelled while queued: RQ keeps its record with no expiry.
    rq_job = RQJob.create(
        "workers.product_upload.run", args=(old_cancelled,), id=old_cancelled, connection=r,
        origin="uploads",
    )  # fmt: skip
    rq_job.save()
    rq_job.cancel()
    old_export = make_job(owner, "completed", days + 5, kind="export_catalog")
    export_path(old_export).parent.mkdir(parents=True, exist_ok=True)
    export_path(old_export).write_text("Handle,Title\n")
    failed_file = upload(data=b"x" * 5000)
    old_failed = make_job(owner, "failed", failed_days + 1, params=params_for(failed_file))
    outside = upload_file("outside.csv", b"keep me")
    old_outside = make_job(owner, "completed", days + 1, params=params_for(outside))
    sneaky = make_job(
        owner,
        "completed",
        days + 1,
        params={"path": str(get_settings().upload_dir / ("a" * 32) / ".." / ".." / "x.csv")},
    )
    shared_file = upload()
    old_retried = make_job(owner, "failed", failed_days + 2, params=params_for(shared_file))

    # Within retention, or still active: these stay, with their files and snapshots.
    recent_file = upload()
    recent = make_job(owner, "completed", days - 1, params=params_for(recent_file))
    failed_within = make_job(owner, "failed", days + 1)
    retry = make_job(owner, "completed", 1, params=params_for(shared_file))
    queued = make_job(owner, "queued", None, params=params_for(upload()))
    processing = make_job(owner, "processing", None)
    r.set(jobs.alive_key(processing), "1", ex=60)
    with session_scope() as session:  # active for ages: still never touched
        for job_id in (queued, processing):
            job = session.get(Job, job_id)
            job.created_at = utcnow() - 400 * DAY
            session.add(job)

    # Files no job refers to: old ones go, recent ones stay.
    orphan = age(upload().parent, days + 1)
    fresh_orphan = upload().parent
    orphan_export = export_path(str(uuid.uuid4()))
    orphan_export.write_text("old")
    age(orphan_export, days + 1)
    sizes = [done_file, failed_file, export_path(old_export), *orphan.iterdir(), orphan_export]
    gone_bytes = sum(p.stat().st_size for p in sizes)

    report = retention.purge()

    gone = [old_done, old_cancelled, old_export, old_failed, old_outside, sneaky, old_retried]
    kept = [recent, failed_within, retry, queued, processing]
    assert remaining(gone + kept) == set(kept)
    assert report.jobs == {"completed": 4, "cancelled": 1, "failed": 2}
    assert report.complete
    # Files: the purged jobs' own folders and export, and only those.
    assert not done_file.parent.exists() and not failed_file.parent.exists()
    assert not export_path(old_export).exists()
    assert outside.read_bytes() == b"keep me"
    assert shared_file.exists(), "a job still in retention reads this file"
    assert recent_file.exists()
    assert Path(jobs_path(queued)).exists()
    assert not orphan.exists() and fresh_orphan.exists()
    assert not orphan_export.exists()
    assert (report.orphan_folders, report.orphan_exports) == (1, 1)
    assert report.left_alone == 2  # old_outside and sneaky: paths outside the upload dir
    assert report.files == 5  # done, failed, export, orphan folder's file, orphan export
    assert report.bytes == gone_bytes
    # Redis: snapshots, flags and RQ's record of the purged jobs; the others' stay.
    for job_id in gone:
        assert not r.exists(events.snapshot_key(job_id))
    assert not r.exists(jobs.cancel_key(old_cancelled))
    assert not r.exists(RQJob.key_for(old_cancelled))
    assert old_cancelled not in CanceledJobRegistry("uploads", connection=r).get_job_ids()
    assert report.redis_keys == len(gone) + 2  # snapshots, the cancel flag, the RQ job
    assert all(r.exists(events.snapshot_key(job_id)) for job_id in kept)
    assert r.exists(jobs.alive_key(processing))
    # Catalog data is not job data.
    assert [p.sku for p in list_products(owner)[0]] == ["KEEP-1"]
    # The Settings page reads the last report.
    assert retention.last_report() == report
    assert report.summary() == (
        "7 jobs (1 cancelled, 4 completed, 2 failed), 5 files (4.9 KB), 9 Redis keys, "
        "1 unused upload folder, 1 unused export"
    )


def jobs_path(job_id: str) -> str:
    with session_scope() as session:
        job = session.get(Job, job_id)
    assert job is not None
    return job.params["path"]


def test_purge_goes_in_bounded_batches(quiet: None, owner: str) -> None:
    ids = [make_job(owner, "completed", 40 + i) for i in range(5)]
    first = retention.purge(batch_size=2, max_batches=2)
    assert first.jobs_total == 4 and not first.complete
    assert "more next time" in first.summary()
    assert remaining(ids) == {ids[0]}  # the oldest went first
    second = retention.purge(batch_size=2, max_batches=2)
    assert second.jobs_total == 1 and second.complete
    assert remaining(ids) == set()


def test_scheduled_purge_runs_once_per_period(quiet: None, owner: str) -> None:
    r = get_redis()
    old = make_job(owner, "cancelled", 31)
    r.delete(retention.DUE_KEY)
    report = retention.purge_if_due()
    assert report is not None and report.jobs == {"cancelled": 1}
    assert retention.purge_if_due() is None  # another process, same hour: nothing to do
    assert 0 < r.pttl(retention.DUE_KEY) <= retention.PERIOD_SECONDS * 1000
    assert remaining([old]) == set()


def test_policy_says_what_is_kept(services: Stack) -> None:
    words = dict(retention.policy())
    assert words["Completed and cancelled jobs"] == "30 days after they end"
    assert words["Failed jobs"] == "60 days after they end"
    assert words["Live progress in Redis"] == "kept while a job runs and up to 7 days after"
    assert words["Products"] == "kept until you delete them"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()  # monkeypatch restores the environment after this


@pytest.mark.parametrize("raw", ["0", "-5", "abc", "2.5", "99999"])
def test_hostile_retention_days_stop_start_up(
    raw: str, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("JOBBOARD_RETENTION_DAYS", raw)
    with pytest.raises(ValueError, match="JOBBOARD_RETENTION_DAYS must be a whole number"):
        get_settings()


@pytest.mark.parametrize(("raw", "days"), [("", 30), (" 7 ", 7), ("1", 1)])
def test_retention_days_from_the_environment(
    raw: str, days: int, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("JOBBOARD_RETENTION_DAYS", raw)
    assert get_settings().retention_days == days
    assert retention.retention_days() == (days, 2 * days)


def test_a_worker_refuses_to_start_with_a_bad_period(tmp_path: Path) -> None:
    env = os.environ | {"JOBBOARD_RETENTION_DAYS": "-1", "JOBBOARD_VAR_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "workers", "--burst"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "JOBBOARD_RETENTION_DAYS must be a whole number of days from 1 to 3650" in proc.stderr
