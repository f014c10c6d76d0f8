"""Prometheus metrics, shared by the app and worker processes (prometheus-client's multiprocess
mode: every process writes its samples to files in PROMETHEUS_MULTIPROC_DIR, a scrape of any
app process adds them up).

`scripts.stack.Stack` points PROMETHEUS_MULTIPROC_DIR at `<var>/prometheus` for the app and the
workers and empties it at start. Without the variable every process keeps its own metrics in
memory (a scrape then sees only the process that answered).

Work horses: RQ forks one per job. With the default per-pid files every job would leave two
files behind and scrapes would read thousands of them; a worker runs one horse at a time, so
its horses share one identity (`use_horse_identity`) and continue each other's files.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

log = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
if MULTIPROCESS:  # a missing directory would fail the first metric of every process
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
_identity: dict[str, str] = {}


def _process_identifier() -> str:
    return _identity.get("shared") or str(os.getpid())


if MULTIPROCESS:
    values.ValueClass = values.MultiProcessValue(_process_identifier)


def use_horse_identity(worker_pid: int) -> None:
    """Called first thing in a work horse: write to the files of this worker's horses."""
    _identity["shared"] = f"horse{worker_pid}"


# The rollup's bounds (jobboard.core.stats.DURATION_BOUNDS), without the implicit +Inf.
_BOUNDS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
_LAG_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

JOB_DURATION = Histogram(
    "jobboard_job_duration_seconds",
    "Run time (start to end) of jobs that ended, by kind and final status",
    ["kind", "status"],
    buckets=_BOUNDS,
)
EVENTS_PUBLISHED = Counter(
    "jobboard_events_published", "Job events published to Redis (progress and status changes)"
)
SESSIONS = Gauge(
    "jobboard_sessions_connected",
    "Browser sessions (websockets) connected to the app processes",
    multiprocess_mode="livesum",
)
PUSH_LAG = Histogram(
    "jobboard_event_push_lag_seconds",
    "Time from a job change (its updated_at) to its push to a browser session",
    buckets=_LAG_BOUNDS,
)


def job_ended(kind: str, status: str, seconds: float | None) -> None:
    """A job ended: observe its run time (jobs cancelled before they started have none)."""
    try:
        if seconds is not None:
            JOB_DURATION.labels(kind=kind, status=status).observe(seconds)
    except Exception:  # metrics never stop a job from ending
        log.exception("could not record the metrics of a job")


def event_published() -> None:
    EVENTS_PUBLISHED.inc()


def pushed(batch: Iterable[dict[str, Any]]) -> None:
    """Events were pushed to a session: observe how long after their change."""
    now = datetime.now(UTC)
    for event in batch:
        raw = event.get("job", {}).get("updated_at")
        try:
            when = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            when = None
        if when is not None:
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            PUSH_LAG.observe(max(0.0, (now - when).total_seconds()))


def sessions_connected(count: int) -> None:
    SESSIONS.set(count)


def process_exiting() -> None:
    """An app process stops: its sessions gauge no longer counts."""
    if MULTIPROCESS:
        mark_process_dead(os.getpid())


class _LiveCollector:
    """Figures read at scrape time: jobs by kind and status, RQ queues."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from jobboard.core import jobs, stats

        by_status = GaugeMetricFamily(
            "jobboard_jobs",
            "Jobs by kind and status: queued and processing now; completed, failed and "
            "cancelled in the last 24 hours (from the rollup)",
            labels=["kind", "status"],
        )
        counts = stats.recent_outcomes(24) | jobs.active_counts()
        for kind in jobs.KINDS:
            for status in ("queued", "processing", *stats.OUTCOMES):
                by_status.add_metric([kind, status], counts.get((kind, status), 0))
        yield by_status
        depth = GaugeMetricFamily(
            "jobboard_queue_depth", "Jobs waiting on each RQ queue", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "jobboard_queue_oldest_age_seconds",
            "Age of the oldest job waiting on each RQ queue (0 when empty)",
            labels=["queue"],
        )
        for name, (waiting, age) in jobs.queue_figures().items():
            depth.add_metric([name], waiting)
            oldest.add_metric([name], age)
        yield depth
        yield oldest


def exposition() -> bytes:
    """The text a Prometheus scrape gets: every process' samples plus the live figures."""
    registry = CollectorRegistry()
    if MULTIPROCESS:
        MultiProcessCollector(registry)
    else:  # this process' own samples only
        for collector in (JOB_DURATION, EVENTS_PUBLISHED, SESSIONS, PUSH_LAG):
            registry.register(collector)
    registry.register(_LiveCollector())  # type: ignore[arg-type]
    return generate_latest(registry)
