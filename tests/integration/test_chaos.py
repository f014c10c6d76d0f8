"""The short chaos run (`bench/chaos.py` has the long one): jobs of every kind while
workers, work horses and Redis are killed. Every job ends, and every ending is true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.chaos import run_chaos


@pytest.fixture
def own_env():
    """The chaos run points this process at its own stack; put the suite's back after."""
    from jobboard.core.settings import get_settings

    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()


def test_short_chaos_run_leaves_every_job_ended_and_true(tmp_path: Path, own_env: None) -> None:
    report = run_chaos(
        jobs=40, kills=6, redis_restarts=2, workers=2, large_rows=5_000, timeout=180,
        var_dir=tmp_path,
    )  # fmt: skip
    assert report.jobs >= 35  # a submission refused while Redis restarts is recorded as failed
    assert report.unfinished == []
    assert report.inconsistent == []
    assert report.kills == 6
    assert report.redis_restarts == ["clean (SIGTERM)", "crash (SIGKILL)"]
    assert sum(report.statuses.values()) == report.jobs
    assert set(report.statuses) <= {"completed", "failed", "cancelled"}
