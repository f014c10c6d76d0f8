"""The job's public shape: one typed model, the same dict as before, no technical details."""

from __future__ import annotations

from datetime import UTC, datetime

from jobboard.core.jobs import to_public
from jobboard.core.models import Job, JobStatus
from jobboard.core.public import JobPublic

FIELDS = {
    "id",
    "kind",
    "title",
    "status",
    "progress_data",
    "result_data",
    "error_data",
    "created_at",
    "started_at",
    "updated_at",
    "completed_at",
    "retry_of",
    "retried_by",
    "outcome",
}


def _failed_job() -> Job:
    at = datetime(2026, 11, 26, 12, 0, 1, 250000, tzinfo=UTC)
    return Job(
        id="j1",
        owner_id="o",
        kind="product_upload",
        title="shop.csv",
        status="failed",
        progress_data={
            "percentage": 40,
            "current_step": "Failed",
            "processed": 312,
            "total": 780,
            "estimated_time_remaining": None,
            "speed": 120.5,
            "elapsed": 2.6,  # a kind's own extra survives
        },
        result_data={"imported": 300},
        error_data={"message": "an internal error stopped the job", "details": "Traceback…"},
        version=7,
        created_at=at,
        started_at=at,
        updated_at=at,
        completed_at=None,
    )


def test_the_public_dict_has_the_documented_fields_and_no_version() -> None:
    public = to_public(_failed_job())
    assert set(public) == FIELDS
    assert public["status"] == "failed" and type(public["status"]) is str
    assert public["progress_data"] == {
        "percentage": 40.0,
        "current_step": "Failed",
        "processed": 312,
        "total": 780,
        "estimated_time_remaining": None,
        "speed": 120.5,
        "elapsed": 2.6,
    }
    assert public["result_data"] == {"imported": 300}
    assert public["created_at"] == "2026-11-26T12:00:01.250000+00:00"  # isoformat, as before
    assert public["completed_at"] is None
    JobPublic.model_validate(public)  # what every channel sends reads back as the model


def test_details_are_left_out_unless_asked_for() -> None:
    job = _failed_job()
    assert to_public(job)["error_data"] == {
        "message": "an internal error stopped the job",
        "retryable": None,
    }
    assert to_public(job, include_details=True)["error_data"]["details"] == "Traceback…"


def test_a_new_job_without_progress_or_error() -> None:
    job = Job(id="j2", owner_id="o", kind="export_catalog", title="t")
    public = to_public(job)
    assert public["status"] == JobStatus.QUEUED == "queued"
    assert public["progress_data"]["percentage"] == 0
    assert public["error_data"] is None and public["result_data"] is None


def test_statuses_are_plain_strings_too() -> None:
    assert JobStatus.ALL == ("queued", "processing", "completed", "failed", "cancelled")
    assert JobStatus.ACTIVE == ("queued", "processing")
    assert JobStatus.TERMINAL == ("completed", "failed", "cancelled")
    assert "processing" in JobStatus.ACTIVE and JobStatus("failed") is JobStatus.FAILED
    assert f"{JobStatus.CANCELLED}" == "cancelled"
