"""The progress reporter coalesces bursts but never loses the first, last or a step change."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from jobboard.core import events, jobs
from jobboard.core.db import session_scope
from jobboard.core.models import Job
from jobboard.core.progress import ProgressReporter
from scripts.stack import Stack


@pytest.fixture
def job(services: Stack, owner: str) -> Job:
    row = Job(id=f"{owner}-p", owner_id=owner, kind="product_upload", title="p.csv")
    with session_scope() as session:
        session.add(row)
    started = jobs.start(row.id)
    assert started is not None
    return started


@pytest.fixture
def inbox(job: Job) -> Iterator[queue.Queue[dict[str, Any]]]:
    """Events published for the job's owner, as they arrive."""
    q: queue.Queue[dict[str, Any]] = queue.Queue()
    pubsub = events.get_redis().pubsub()
    pubsub.subscribe(events.channel(job.owner_id))
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set():
            msg = pubsub.get_message(timeout=0.2)
            if msg and msg["type"] == "message":
                q.put(json.loads(msg["data"]))

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    yield q
    stop.set()
    thread.join(2)
    pubsub.close()


def drain(q: queue.Queue[dict[str, Any]], until: Any, timeout: float = 5) -> list[dict[str, Any]]:
    """Collect events until one satisfies `until` (or fail after `timeout`)."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = q.get(timeout=0.1)
        except queue.Empty:
            continue
        got.append(event)
        if until(event):
            return got
    raise AssertionError(f"no matching event; got {[e['job']['progress_data'] for e in got][-3:]}")


def test_a_burst_is_coalesced_but_first_and_last_go_out(job: Job, inbox: queue.Queue) -> None:
    reporter = ProgressReporter(job, interval=0.1, db_interval=60)
    total = 100_000
    started = time.monotonic()
    for i in range(1, total + 1):
        reporter.update(processed=i, total=total)
    elapsed = time.monotonic() - started
    reporter.close()
    got = drain(inbox, lambda e: e["job"]["progress_data"]["processed"] == total)
    assert got[0]["job"]["progress_data"]["processed"] == 1  # the first call goes out at once
    # At most one event per interval, plus the first and the final one.
    assert len(got) <= elapsed / 0.1 + 3
    assert got[-1]["job"]["progress_data"]["percentage"] == 100.0
    assert [e["version"] for e in got] == sorted({e["version"] for e in got})


def test_step_changes_are_never_coalesced(job: Job, inbox: queue.Queue) -> None:
    reporter = ProgressReporter(job, interval=60, db_interval=60)
    for step in ("Reading file", "Importing products", "Finishing"):
        reporter.update(step=step)
    got = drain(inbox, lambda e: e["job"]["progress_data"]["current_step"] == "Finishing")
    assert [e["job"]["progress_data"]["current_step"] for e in got] == [
        "Reading file",
        "Importing products",
        "Finishing",
    ]
    reporter.close()


def test_trailing_update_goes_out_without_another_call(job: Job, inbox: queue.Queue) -> None:
    reporter = ProgressReporter(job, interval=0.2, db_interval=60)
    reporter.update(processed=1, total=10)
    reporter.update(processed=7, total=10)  # within the interval: held back…
    # …and sent by the trailing timer, not by close().
    got = drain(inbox, lambda e: e["job"]["progress_data"]["processed"] == 7, timeout=3)
    assert got[-1]["job"]["progress_data"]["percentage"] == 70.0
    reporter.close()


def test_speed_eta_and_db_persistence(
    job: Job, inbox: queue.Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobboard.core.progress.typical_rate", lambda kind: None)  # no history
    reporter = ProgressReporter(job, interval=0, db_interval=0)
    reporter.update(processed=0, total=1000, step="Importing")
    time.sleep(0.3)  # let the clock move so a rate exists; not a timing assertion
    reporter.update(processed=300)
    data = reporter.close()
    assert data["speed"] > 0
    assert data["estimated_time_remaining"] == pytest.approx(700 / data["speed"], rel=0.05)
    stored = jobs.get_job(job.id, job.owner_id)
    assert stored["progress_data"]["processed"] == 300
    with session_scope() as session:
        assert (
            session.get(Job, job.id).version == events.read_snapshots([job.id])[job.id]["version"]
        )


def test_early_eta_leans_on_past_jobs_of_the_kind(
    job: Job, inbox: queue.Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobboard.core.progress.typical_rate", lambda kind: 1000.0)
    reporter = ProgressReporter(job, interval=0, db_interval=60)
    reporter.update(processed=0, total=50_000, step="Importing")  # no pace of its own yet
    data = reporter.close()
    assert data["speed"] is None
    assert data["estimated_time_remaining"] == pytest.approx(50.0)
