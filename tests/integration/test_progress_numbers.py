"""The reporter's numbers: counts never go back within a step, each step counts in its own
unit, and a job that models its whole run gets an ETA for the whole run."""

from __future__ import annotations

from jobboard.core import jobs
from jobboard.core.db import session_scope
from jobboard.core.models import Job
from jobboard.core.progress import ProgressReporter
from scripts.stack import Stack


def _running_job(owner: str) -> Job:
    job = Job(id=f"{owner}-p", owner_id=owner, kind="find_duplicates", title="numbers")
    with session_scope() as session:
        session.add(job)
    started = jobs.start(job.id)
    assert started is not None
    return started


def test_processed_keeps_its_high_water_mark_within_a_step(services: Stack, owner: str) -> None:
    reporter = ProgressReporter(_running_job(owner), interval=0, db_interval=0)
    reporter.update(step="Embedding 100 products", processed=0, total=100, unit="products")
    reporter.update(processed=60)
    reporter.update(processed=40)  # a late, older value: ignored
    assert reporter.progress_data["processed"] == 60
    reporter.update(step="Embedding products 70 of 100", processed=70)  # text with numbers
    assert reporter.progress_data["processed"] == 70
    # A new step that starts from 0 counts in its own unit.
    reporter.update(step="Comparing products", processed=0, total=100)
    assert reporter.progress_data["processed"] == 0
    reporter.update(step="Matching rows", processed=0, total=8, unit="rows")
    data = reporter.progress_data
    assert (data["processed"], data["total"], data["unit"]) == (0, 8, "rows")
    reporter.close()


def test_the_whole_jobs_percentage_never_goes_back_and_drives_the_eta(
    services: Stack, owner: str
) -> None:
    reporter = ProgressReporter(_running_job(owner), interval=0, db_interval=0)
    reporter.update(step="Embedding", processed=0, total=10, percentage=0)
    reporter.update(processed=5, percentage=30)
    reporter.update(step="Comparing", processed=0, total=10, percentage=20)  # stale: ignored
    data = reporter.progress_data
    assert data["percentage"] == 30
    # Modelled on the whole job: 70 % left at the pace of 30 % so far.
    assert data["estimated_time_remaining"] is not None
    assert data["estimated_time_remaining"] >= data["elapsed"] * 70 / 30 * 0.5
    reporter.close()


def test_a_step_with_numbers_is_published_with_its_values(services: Stack, owner: str) -> None:
    """The reporter stores the English text and the template with its values; a plain step
    after it drops them; a failure at such a step keeps them ("Failed while …")."""
    job = _running_job(owner)
    reporter = ProgressReporter(job, interval=0, db_interval=0)
    reporter.update(
        step="Comparing products {done} of {total}",
        step_values={"done": 12664, "total": 300617},
        processed=12664,
        total=300617,
    )
    data = reporter.progress_data
    assert data["current_step"] == "Comparing products 12,664 of 300,617"
    assert data["step_template"] == "Comparing products {done} of {total}"
    assert data["step_values"] == {"done": 12664, "total": 300617}
    live = jobs.get_job(job.id, owner)["progress_data"]  # what pages and the API read
    assert live["step_values"] == {"done": 12664, "total": 300617}
    reporter.update(step="Grouping duplicates")
    assert "step_template" not in reporter.progress_data
    reporter.update(
        step="Comparing products {done} of {total}", step_values={"done": 5, "total": 9}
    )
    progress = reporter.close()
    failed = jobs.fail(job.id, "broken on purpose", progress=progress)
    assert failed is not None
    stored = jobs.get_job(job.id, owner)["progress_data"]
    assert stored["current_step"] == "Failed while comparing products 5 of 9"
    assert stored["step_template"] == "Failed while comparing products {done} of {total}"
