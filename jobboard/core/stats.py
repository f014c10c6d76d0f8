"""Job history from a rollup: per owner, kind and hour, how many jobs ended how, and how long
the completed ones took (a fixed log-scale histogram, so p50/p95 can be estimated).

The rollup row of a job's hour is bumped in the same transaction that ends the job
(`record_end`, called by `jobs._transition`), so the history never disagrees with the jobs
table and questions about the last 24 h / 7 days / 30 days read at most a few thousand small
rows instead of scanning every job. Jobs deleted by retention stay counted here.

Hours are whole hours since the Unix epoch (UTC). A summary's days are the days of the
reader's time zone (UTC unless given), so a day is 23 or 25 hours long across a DST change.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import time as clock_time
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Index,
    Integer,
    String,
    Table,
    case,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel, col

from jobboard.core.db import session_scope
from jobboard.core.models import Job, JobStatus, utcnow

# Upper bounds (seconds) of the duration buckets: 1-2-5 per decade, 0.1 s to ~3 h, then
# everything longer. Prometheus' job duration histogram uses the same bounds.
DURATION_BOUNDS: tuple[float, ...] = (
    0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, math.inf,
)  # fmt: skip
BUCKETS = tuple(f"d{i:02d}" for i in range(len(DURATION_BOUNDS)))
OUTCOMES = (JobStatus.COMPLETED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value)
COUNTS = (*OUTCOMES, "duration_sum", *BUCKETS)
KEY = ("owner_id", "hour", "kind")

job_stat = Table(
    "job_stat",
    SQLModel.metadata,
    Column("owner_id", String(64), primary_key=True),
    Column("hour", Integer, primary_key=True),  # hours since the epoch (UTC) the jobs ended in
    Column("kind", String(32), primary_key=True),
    *(Column(name, Integer, nullable=False, server_default="0") for name in OUTCOMES),
    # Seconds, completed jobs only (with the buckets: a mean is available too).
    Column("duration_sum", Float, nullable=False, server_default="0"),
    *(Column(name, Integer, nullable=False, server_default="0") for name in BUCKETS),
    # Prometheus asks for the last 24 h of every owner.
    Index("ix_job_stat_hour", "hour"),
)

WINDOWS: dict[str, tuple[int, str]] = {"24h": (24, "hour"), "7d": (7, "day"), "30d": (30, "day")}


def _aware(when: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; they are stored in UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def epoch_hour(when: datetime) -> int:
    return int(_aware(when).timestamp() // 3600)


def bucket_of(seconds: float) -> int:
    """Index of the duration bucket `seconds` falls in (upper bounds are inclusive)."""
    for index, bound in enumerate(DURATION_BOUNDS):
        if seconds <= bound:
            return index
    return len(DURATION_BOUNDS) - 1


def duration_of(job: Job | Any) -> float | None:
    """How long a job ran (start to end), or None when it never started or has not ended."""
    if job.started_at is None or job.completed_at is None:
        return None
    return max(0.0, (_aware(job.completed_at) - _aware(job.started_at)).total_seconds())


def _zero() -> dict[str, float]:
    return dict.fromkeys(COUNTS, 0)


def _add_job(counts: dict[str, float], status: str, duration: float | None) -> None:
    counts[status] += 1
    if status == JobStatus.COMPLETED and duration is not None:
        counts["duration_sum"] += duration
        counts[BUCKETS[bucket_of(duration)]] += 1


def _upsert(conn: Any, rows: list[dict[str, Any]]) -> None:
    """Add `rows` to the rollup: one INSERT … ON CONFLICT DO UPDATE (SQLite and PostgreSQL)."""
    if not rows:
        return
    if isinstance(conn, Connection):
        dialect, run = conn.dialect.name, conn.execute
    else:  # an ORM session
        dialect, run = conn.get_bind().dialect.name, conn.exec
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(job_stat).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: job_stat.c[name] + stmt.excluded[name] for name in COUNTS},
    )
    run(stmt)


def record_end(session: Any, job: Job, ended_at: datetime) -> None:
    """Count a job that just ended, inside the transaction that ended it."""
    if job.status not in OUTCOMES:
        return
    counts = _zero()
    started = job.started_at
    duration = max(0.0, (_aware(ended_at) - _aware(started)).total_seconds()) if started else None
    _add_job(counts, job.status, duration)
    key = {"owner_id": job.owner_id, "hour": epoch_hour(ended_at), "kind": job.kind}
    _upsert(session, [key | counts])


def backfill(conn: Connection, *, batch: int = 500) -> int:
    """Rebuild the rollup from the jobs table (the migration runs it); returns rows written.

    Streams the ended jobs once, so memory grows with the number of (owner, hour, kind)
    groups, not with the number of jobs.
    """
    groups: dict[tuple[str, int, str], dict[str, float]] = defaultdict(_zero)
    query = select(
        col(Job.owner_id),
        col(Job.kind),
        col(Job.status),
        col(Job.started_at),
        col(Job.completed_at),
        col(Job.updated_at),
    ).where(col(Job.status).in_(OUTCOMES))
    # Streamed (a server-side cursor on PostgreSQL); set on the statement, not the
    # connection, whose options would stick to the statements after it.
    result = conn.execute(query.execution_options(yield_per=10_000))
    for owner_id, kind, status, started_at, completed_at, updated_at in result:
        ended = completed_at or updated_at
        duration = (
            max(0.0, (_aware(ended) - _aware(started_at)).total_seconds()) if started_at else None
        )
        _add_job(groups[(owner_id, epoch_hour(ended), kind)], status, duration)
    conn.execute(delete(job_stat))
    rows = [dict(zip(KEY, key, strict=True)) | counts for key, counts in groups.items()]
    for start in range(0, len(rows), batch):
        _upsert(conn, rows[start : start + batch])
    return len(rows)


# --- reading --------------------------------------------------------------------------------


def estimate_quantile(buckets: Sequence[float], q: float) -> float | None:
    """The q-quantile of a bucketed histogram, interpolated within its bucket (log-scale
    buckets: geometric interpolation, linear in the first one); None without observations."""
    total = sum(buckets)
    if total <= 0:
        return None
    rank = q * total
    seen = 0.0
    for index, count in enumerate(buckets):
        if count and seen + count >= rank:
            upper = DURATION_BOUNDS[index]
            lower = DURATION_BOUNDS[index - 1] if index else 0.0
            if math.isinf(upper):
                return lower  # the open bucket: "at least this long"
            share = (rank - seen) / count
            if lower <= 0:
                return upper * share
            return lower * (upper / lower) ** share
        seen += count
    return DURATION_BOUNDS[-2]


@dataclass
class Slot:
    """One point of a series: the jobs that ended within one hour or day."""

    start: datetime
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    buckets: list[float] = field(default_factory=lambda: [0.0] * len(BUCKETS))

    @property
    def total(self) -> int:
        return self.completed + self.failed + self.cancelled

    def add(self, row: Any) -> None:
        self.completed += row.completed
        self.failed += row.failed
        self.cancelled += row.cancelled
        for index, name in enumerate(BUCKETS):
            self.buckets[index] += getattr(row, name)

    def figures(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "completed": self.completed,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "total": self.total,
            "failure_rate": self.failed / self.total if self.total else None,
            "p50_seconds": estimate_quantile(self.buckets, 0.5),
            "p95_seconds": estimate_quantile(self.buckets, 0.95),
        }


def _hour_start(hour: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(hours=hour)


def zone_name(zone: tzinfo) -> str:
    """The IANA name of a zone ("Europe/Prague"); "UTC" for datetime's own UTC."""
    return getattr(zone, "key", None) or str(zone)


def window_slots(
    window: str, now: datetime | None = None, tz: tzinfo | None = None
) -> tuple[str, list[datetime], list[int]]:
    """The bucket unit, the edges of the slots (oldest first, one more than there are slots,
    in `tz`) and the same edges in epoch hours: slot i counts the rollup's hours h with
    `bounds[i] <= h < bounds[i + 1]`.

    Hour slots are the last 24 epoch hours, shown on the zone's clock (14:30 in India). Day
    slots are the zone's calendar days, today last: each starts at the epoch hour of its
    local midnight, so a day across a DST change has 23 or 25 hours. Where the offset is not
    a whole number of hours (India's +05:30) midnight falls inside an epoch hour; the rollup
    cannot split that hour, so it is counted with the day that starts in it.
    """
    count, unit = WINDOWS[window]
    zone = tz or UTC
    now = _aware(now or utcnow())
    if unit == "hour":
        last = epoch_hour(now)
        bounds = list(range(last - count + 1, last + 2))
        return unit, [_hour_start(h).astimezone(zone) for h in bounds], bounds
    today = now.astimezone(zone).date()
    # Midnights of the first day … of tomorrow (the end of today). Where a DST change skips
    # midnight (Chile), `fold=0` reads it on the old offset: the instant the day starts.
    edges = [
        datetime.combine(today - timedelta(days=back), clock_time(), tzinfo=zone)
        for back in range(count - 1, -2, -1)
    ]
    return unit, edges, [epoch_hour(edge) for edge in edges]  # the hour holding each midnight


def summary(
    owner_id: str,
    window: str,
    *,
    kind: str | None = None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> dict[str, Any]:
    """The owner's history over `window` ("24h", "7d" or "30d"): per kind that ended any job,
    totals, failure rate, p50/p95 duration and a series per hour (24 h) or per day, the days
    and the slots' `start` in the time zone `tz` (UTC when None; the answer's `tz` names it)."""
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}")
    unit, edges, bounds = window_slots(window, now, tz)
    starts = edges[:-1]
    conditions = [
        job_stat.c.owner_id == owner_id,
        job_stat.c.hour >= bounds[0],
        job_stat.c.hour < bounds[-1],  # rows of a clock ahead of ours stay out
    ]
    if kind:
        conditions.append(job_stat.c.kind == kind)
    # The database adds up the hours of each slot: at most 6 kinds x 30 days come back. A day
    # slot is found by its bounds (days differ in length across DST changes).
    if unit == "hour":
        slot = (job_stat.c.hour - bounds[0]).label("slot")
    else:
        slot = case(
            *((job_stat.c.hour < bound, index) for index, bound in enumerate(bounds[1:-1])),
            else_=len(starts) - 1,
        ).label("slot")
    sums = [func.sum(job_stat.c[name]).label(name) for name in (*OUTCOMES, *BUCKETS)]
    query = select(job_stat.c.kind, slot, *sums).where(*conditions).group_by(job_stat.c.kind, slot)
    with session_scope() as session:
        rows = session.exec(query).all()  # type: ignore[call-overload]
    per_kind: dict[str, list[Slot]] = {}
    totals: dict[str, Slot] = {}
    for row in rows:
        if row.kind not in per_kind:
            per_kind[row.kind] = [Slot(start) for start in starts]
            totals[row.kind] = Slot(starts[0])
        per_kind[row.kind][int(row.slot)].add(row)
        totals[row.kind].add(row)
    kinds = [
        {"kind": name, **totals[name].figures(), "series": [s.figures() for s in slots]}
        for name, slots in sorted(per_kind.items())
    ]
    return {
        "window": window,
        "bucket": unit,
        "tz": zone_name(tz or UTC),
        "since": starts[0],
        "until": edges[-1],
        "kinds": kinds,
    }


def recent_outcomes(hours: int = 24, now: datetime | None = None) -> dict[tuple[str, str], int]:
    """(kind, outcome) -> jobs of every owner that ended in the last `hours` (for /metrics)."""
    first = epoch_hour(now or utcnow()) - hours + 1
    query = (
        select(job_stat.c.kind, *(func.sum(job_stat.c[name]) for name in OUTCOMES))
        .where(job_stat.c.hour >= first)
        .group_by(job_stat.c.kind)
    )
    out: dict[tuple[str, str], int] = {}
    with session_scope() as session:
        for kind, *values in session.exec(query).all():  # type: ignore[call-overload]
            for outcome, value in zip(OUTCOMES, values, strict=True):
                out[(kind, outcome)] = int(value or 0)
    return out


def add_rows(rows: Iterable[dict[str, Any]]) -> None:
    """Add ready-made rollup rows (benchmarks and tests build large histories this way)."""
    with session_scope() as session:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(_zero() | row)
            if len(batch) >= 500:
                _upsert(session, batch)
                batch = []
        _upsert(session, batch)
