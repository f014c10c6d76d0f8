"""Worker-side progress reporter.

A job may call `update()` a hundred thousand times; the reporter keeps the newest values
and sends at most one event per `interval` (the first call, every step change and the
final state always go out at once). It writes the DB at a slower, bounded rate.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy import update
from sqlmodel import col

from jobboard.core import events, jobs, steps
from jobboard.core.db import session_scope
from jobboard.core.jobs import JobCancelled, alive_key, cancel_key, to_public, typical_rate
from jobboard.core.models import Job, JobStatus
from jobboard.core.redis import get_redis
from jobboard.core.settings import get_settings
from jobboard.core.watchdog import HEARTBEAT_EVERY, HEARTBEAT_TTL

log = logging.getLogger(__name__)

# Speed is measured over this many recent seconds, so ETA follows the current pace.
_SPEED_WINDOW = 5.0
# Until a job has run this long, its ETA leans on how fast past jobs of its kind went.
_HISTORY_WEIGHT_SECONDS = 2.0


class ProgressReporter:
    def __init__(
        self,
        job: Job,
        *,
        interval: float | None = None,
        db_interval: float | None = None,
    ) -> None:
        settings = get_settings()
        self.job_id = job.id
        self.owner_id = job.owner_id
        self._base = to_public(job)
        self._version = job.version
        self._interval = settings.progress_interval if interval is None else interval
        self._db_interval = settings.db_persist_interval if db_interval is None else db_interval
        self._processed: int | None = None
        self._total: int | None = None
        self._step: str = (job.progress_data or {}).get("current_step", "")
        # A step with numbers: its template and values, for pages in other locales. One
        # tuple, so the trailing timer's thread never reads one step's template with
        # another's values.
        self._step_parts: tuple[str, dict[str, Any]] | None = None
        self._percentage: float | None = None
        self._extra: dict[str, Any] = {}
        self._started = time.monotonic()
        try:
            self._past_rate = typical_rate(job.kind)
        except Exception:  # history is a refinement; never a reason to fail a job
            self._past_rate = None
        self._last_flush = float("-inf")
        self._last_db = self._started
        self._samples: deque[tuple[float, int]] = deque()
        self._pct_samples: deque[tuple[float, float]] = deque()
        self._pending = False
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.progress_data: dict[str, Any] = dict(job.progress_data or {})
        self.flushes = 0
        self.cancelled = False
        self._redis_lost_at: float | None = None
        self._redis_grace = settings.redis_grace_seconds
        self._stop_heartbeat = threading.Event()
        self._beat()
        self._heartbeat = threading.Thread(target=self._heartbeat_loop, daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        get_redis().set(alive_key(self.job_id), "1", ex=HEARTBEAT_TTL)

    def _heartbeat_loop(self) -> None:
        # A thread, not the progress calls: a job busy in one long step is still alive.
        while not self._stop_heartbeat.wait(HEARTBEAT_EVERY):
            with contextlib.suppress(Exception):  # Redis blip: the next beat tries again
                self._beat()

    def update(
        self,
        *,
        processed: int | None = None,
        total: int | None = None,
        step: str | None = None,
        percentage: float | None = None,
        checkpoint: bool = False,
        step_values: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        """Record progress; cheap enough to call for every row.

        Counts never go backwards within a step: `processed` keeps its high-water mark
        unless the step or the total changes (a new unit). `checkpoint=True` sends the
        values at once (e.g. right after a batch was committed), so what a kill leaves
        behind agrees with what was written. A step with numbers is a template and its
        `step_values` ("Comparing products {done} of {total}"; see `jobboard.core.steps`),
        so each page writes the numbers in its viewer's locale.
        """
        template: str | None = None
        if step is not None and step_values and steps.has_fields(step):
            template, step = step, steps.english(step, step_values)
        step_changed = step is not None and step != self._step
        # A multi-step job counts each step in its own unit: a new total, a new unit or a
        # new step starting from 0 begins a new count; otherwise counts only go up.
        new_unit = (
            (total is not None and total != self._total)
            or ("unit" in extra and extra["unit"] != self._extra.get("unit"))
            or (step_changed and processed == 0)
        )
        if processed is not None:
            if new_unit or self._processed is None:
                self._processed = processed
                self._samples.clear()  # the pace of the old unit says nothing of the new
            else:
                self._processed = max(self._processed, processed)
        if total is not None:
            self._total = total
        if percentage is not None:  # the whole job's: it never goes back
            self._percentage = max(self._percentage or 0.0, percentage)
        if extra:
            self._extra.update(extra)
        if step is not None:
            self._step = step
            self._step_parts = (template, dict(step_values or {})) if template else None
        now = time.monotonic()
        if self.cancelled:
            self._pending = True  # close() reports these last values with the cancellation
            raise JobCancelled(self.job_id)
        if checkpoint or step_changed or now - self._last_flush >= self._interval:
            self._flush(now)
            if self.cancelled:
                raise JobCancelled(self.job_id)
            return
        with self._lock:
            self._pending = True
            if self._timer is None and not self._closed:
                delay = max(0.0, self._last_flush + self._interval - now)
                self._timer = threading.Timer(delay, self._trailing_flush)
                self._timer.daemon = True
                self._timer.start()

    def _trailing_flush(self) -> None:
        with self._lock:
            self._timer = None
            if not self._pending or self._closed:
                return
        self._flush(time.monotonic())

    def _speed(self, now: float, processed: int) -> float | None:
        samples = self._samples
        samples.append((now, processed))
        while len(samples) > 2 and now - samples[0][0] > _SPEED_WINDOW:
            samples.popleft()
        t0, p0 = samples[0]
        if now - t0 < 0.5:  # too short a window: use the whole run so far
            t0, p0 = self._started, 0
        elapsed = now - t0
        return (processed - p0) / elapsed if elapsed > 0 else None

    def _compute(self, now: float) -> dict[str, Any]:
        processed, total = self._processed, self._total
        percentage = self._percentage
        if percentage is None and processed is not None and total:
            percentage = min(100.0, processed * 100.0 / total)
        data: dict[str, Any] = {
            "percentage": round(percentage or 0.0, 1),
            "current_step": self._step,
            "processed": processed,
            "total": total,
            "speed": None,
            "estimated_time_remaining": None,
            "elapsed": round(now - self._started, 1),
        }
        if processed is not None:
            speed = self._speed(now, processed)
            if speed:
                data["speed"] = round(speed, 1)
            if total is not None and self._percentage is None:
                data["estimated_time_remaining"] = self._eta(now, total - processed, speed)
        if self._percentage is not None:
            # The job models its whole run as one percentage (steps weighted by their
            # expected cost): the ETA follows that, not the current step's count.
            data["estimated_time_remaining"] = self._overall_eta(now, self._percentage)
        if (parts := self._step_parts) is not None:
            data[steps.TEMPLATE], data[steps.VALUES] = parts
        if self._extra:
            data.update(self._extra)
        return data

    def _overall_eta(self, now: float, percentage: float) -> float | None:
        """Time left from the pace of the whole job's percentage over the recent window."""
        samples = self._pct_samples
        samples.append((now, percentage))
        while len(samples) > 2 and now - samples[0][0] > _SPEED_WINDOW * 2:
            samples.popleft()
        t0, p0 = samples[0]
        if now - t0 < 1.0 or percentage <= p0:  # too little to go on: the run so far
            t0, p0 = self._started, 0.0
        if now - t0 <= 0 or percentage <= p0:
            return None
        return round((100.0 - percentage) * (now - t0) / (percentage - p0), 1)

    def _eta(self, now: float, remaining: int, speed: float | None) -> float | None:
        """Remaining time from the pace so far, blended early on with past jobs' pace."""
        remaining = max(0, remaining)
        live = remaining / speed if speed else None
        past = remaining / self._past_rate if self._past_rate else None
        if live is None or past is None:
            eta = live if live is not None else past
        else:
            weight = min(1.0, (now - self._started) / _HISTORY_WEIGHT_SECONDS)
            eta = weight * live + (1 - weight) * past
        return None if eta is None else round(eta, 1)

    def _flush(self, now: float) -> None:
        with self._lock:
            self._pending = False
            self._last_flush = now
            data = self._compute(now)
            self.progress_data = data
            public = self._base | {
                "status": JobStatus.PROCESSING,
                "progress_data": data,
                "updated_at": datetime.now(UTC).isoformat(),
            }
            self._announce(public, now)
            self.flushes += 1
            # While Redis is away the database is the only record: keep it current.
            persist = now - self._last_db >= self._db_interval or self._redis_lost_at is not None
            if persist:
                self._last_db = now
        if persist:
            self._persist(data)

    def _announce(self, public: dict[str, Any], now: float) -> None:
        """Publish the progress; a Redis outage pauses the announcements, not the job."""
        try:
            self._version = events.publish(public, self.owner_id, floor_version=self._version)
            # Checked at each report (at most ~10 a second): how a cancel reaches the job.
            if get_redis().exists(cancel_key(self.job_id)):
                self.cancelled = True
        except redis.exceptions.RedisError:
            if self._redis_lost_at is None:
                self._redis_lost_at = now
                log.warning("job %s: Redis unreachable; the job goes on", self.job_id)
            elif now - self._redis_lost_at > self._redis_grace:
                raise jobs.JobError(
                    f"the worker could not reach Redis for {self._redis_grace:.0f} s, so nobody "
                    "could follow or cancel the job; it was stopped (retry it)",
                    retryable=True,
                ) from None
            return
        if self._redis_lost_at is not None:
            log.info("job %s: Redis is back", self.job_id)
            self._redis_lost_at = None

    def _persist(self, data: dict[str, Any]) -> None:
        with session_scope() as session:
            session.exec(
                update(Job)
                .where(col(Job.id) == self.job_id, col(Job.status) == JobStatus.PROCESSING)
                .values(progress_data=data, version=self._version, updated_at=datetime.now(UTC))
            )

    def close(self) -> dict[str, Any]:
        """Send what is pending and stop the trailing timer; returns the last progress."""
        self._stop_heartbeat.set()
        with self._lock:
            self._closed = True
            timer, self._timer = self._timer, None
            pending = self._pending
        if timer is not None:
            timer.cancel()
        if pending:
            # The job is ending anyway: a Redis outage must not stop it from being recorded.
            with contextlib.suppress(jobs.JobError):
                self._flush(time.monotonic())
        with contextlib.suppress(Exception):  # it expires on its own
            get_redis().delete(alive_key(self.job_id))
        return self.progress_data
