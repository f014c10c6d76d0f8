"""Retention: old finished jobs, their files and their Redis keys are deleted on a schedule.

The rule, measured from a job's `completed_at`:

- completed and cancelled jobs are kept `JOBBOARD_RETENTION_DAYS` days (default 30);
- failed jobs are kept twice as long: their errors are what people come back to look into;
- queued and processing jobs are never touched, however old;
- products are catalog data, not job data: nothing here deletes them.

With a job go its upload folder (only a `<hex>` folder directly inside the upload dir: a path
from the database that leads anywhere else is left alone), its export file, its live snapshot
and every other per-job Redis key (cancel flag, heartbeat, what RQ still holds). A folder that
a job still in retention uses stays (a retry reads its original's file). Upload folders and
export files that no job refers to are removed once they are older than the period.

RQ's own records are already bounded by the TTLs `jobs.submit` sets: a finished job's RQ hash,
result and FinishedJobRegistry entry live `result_ttl` (1 day), a failed one's `failure_ttl`
(7 days), and every worker cleans its registries every 10 minutes. The exception is a job
cancelled while queued: RQ keeps it in the CanceledJobRegistry with no expiry, so `purge`
deletes the RQ record of every job it purges.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, or_
from sqlmodel import col, select

from jobboard.core import events, jobs, webhooks
from jobboard.core.db import session_scope
from jobboard.core.exports import export_path
from jobboard.core.format import human_size, plural
from jobboard.core.models import Job, JobStatus, utcnow
from jobboard.core.redis import get_redis
from jobboard.core.settings import get_settings
from jobboard.core.skipped import skipped_path

log = logging.getLogger(__name__)

FAILED_FACTOR = 2  # failed jobs are kept this many times longer than completed ones
BATCH_SIZE = 200  # jobs per transaction
MAX_BATCHES = 50  # per run; a bigger backlog is finished by the next runs
PERIOD_SECONDS = 3600  # how often the scheduled purge runs
DUE_KEY = "jobboard:retention:due"  # exists while the current period's purge is done
LAST_REPORT_KEY = "jobboard:retention:last"

_UPLOAD_FOLDER = re.compile(r"^[0-9a-f]{32}$")  # uuid4().hex, as the upload handlers name them
_EXPORT_FILE = re.compile(r"^([0-9a-f-]{36})\.csv$")


@dataclass
class PurgeReport:
    started_at: str = ""
    finished_at: str = ""
    jobs: dict[str, int] = field(default_factory=dict)  # status -> rows deleted
    files: int = 0
    bytes: int = 0
    redis_keys: int = 0
    orphan_folders: int = 0  # upload folders no job referred to
    orphan_exports: int = 0  # export files without a job
    left_alone: int = 0  # job paths outside the upload dir: never deleted
    webhook_deliveries: int = 0  # delivery log entries past `webhook_log_days`
    complete: bool = True  # False when MAX_BATCHES stopped the run; the next run goes on

    @property
    def jobs_total(self) -> int:
        return sum(self.jobs.values())

    def summary(self) -> str:
        """E.g. "3 jobs (2 completed, 1 failed), 4 files (1.2 MB), 9 Redis keys"."""
        if not (self.jobs_total or self.files or self.redis_keys or self.webhook_deliveries):
            return "nothing was old enough to delete"
        parts = [_count(self.jobs_total, "job")]
        if self.jobs:
            parts[0] += " (" + ", ".join(f"{n} {s}" for s, n in sorted(self.jobs.items())) + ")"
        parts.append(f"{_count(self.files, 'file')} ({human_size(self.bytes)})")
        parts.append(_count(self.redis_keys, "Redis key"))
        if self.orphan_folders:
            parts.append(_count(self.orphan_folders, "unused upload folder"))
        if self.orphan_exports:
            parts.append(_count(self.orphan_exports, "unused export"))
        if self.webhook_deliveries:
            parts.append(_count(self.webhook_deliveries, "logged webhook attempt"))
        if not self.complete:
            parts.append("more next time")
        return ", ".join(parts)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> PurgeReport:
        data = json.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def _count(n: int, noun: str) -> str:
    return plural(n, noun)


def retention_days() -> tuple[int, int]:
    """(completed and cancelled jobs, failed jobs), in days."""
    days = get_settings().retention_days
    return days, days * FAILED_FACTOR


def policy() -> list[tuple[str, str]]:
    """What is kept and for how long, in words (for the Settings page)."""
    days, failed_days = retention_days()
    snapshot_days = min(days, max(1, get_settings().snapshot_ttl_seconds // 86400))
    return [
        ("Completed and cancelled jobs", f"{_count(days, 'day')} after they end"),
        ("Failed jobs", f"{_count(failed_days, 'day')} after they end"),
        (
            "Uploaded files and exports",
            f"deleted with their job; files no job uses after {_count(days, 'day')}",
        ),
        (
            "Live progress in Redis",
            f"kept while a job runs and up to {_count(snapshot_days, 'day')} after",
        ),
        (
            "Webhook delivery log",
            f"{_count(get_settings().webhook_log_days, 'day')} after each attempt",
        ),
        ("Products", "kept until you delete them"),
    ]


def last_report() -> PurgeReport | None:
    raw = get_redis().get(LAST_REPORT_KEY)
    return PurgeReport.from_json(raw) if raw else None


def purge_if_due() -> PurgeReport | None:
    """Purge once per period across all processes: the first to set the key does it."""
    if not get_redis().set(DUE_KEY, "1", nx=True, px=PERIOD_SECONDS * 1000):
        return None
    return purge()


def purge(
    now: datetime | None = None, *, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES
) -> PurgeReport:
    """Delete what is past retention, `batch_size` jobs per transaction; returns what went.

    Safe to run twice at once: every step re-checks and only counts what it removed itself.
    """
    now = now or utcnow()
    days, failed_days = retention_days()
    done_cutoff = now - timedelta(days=days)
    expired = or_(
        and_(
            col(Job.status).in_((JobStatus.COMPLETED, JobStatus.CANCELLED)),
            col(Job.completed_at) < done_cutoff,
        ),
        and_(
            Job.status == JobStatus.FAILED,
            col(Job.completed_at) < now - timedelta(days=failed_days),
        ),
    )
    report = PurgeReport(started_at=now.isoformat())
    for _ in range(max_batches):
        if _purge_batch(expired, batch_size, report) < batch_size:
            break
    else:
        report.complete = False
    _sweep_orphan_uploads(done_cutoff.timestamp(), report)
    _sweep_orphan_exports(done_cutoff.timestamp(), report)
    report.webhook_deliveries = webhooks.purge_log(now)
    report.finished_at = utcnow().isoformat()
    get_redis().set(LAST_REPORT_KEY, report.to_json())
    log.info("retention purge: %s", report.summary())
    return report


def _purge_batch(expired: Any, batch_size: int, report: PurgeReport) -> int:
    """Delete one batch of expired jobs and everything that belongs to them; returns its size."""
    with session_scope() as session:
        rows = session.exec(
            select(Job.id, Job.status, Job.params)
            .where(expired)
            .order_by(col(Job.completed_at))
            .limit(batch_size)
        ).all()
        if not rows:
            return 0
        # The condition is checked again as the rows go: what changed meanwhile stays.
        gone = set(
            session.exec(
                delete(Job)
                .where(col(Job.id).in_([r[0] for r in rows]), expired)
                .returning(col(Job.id))
            ).scalars()
        )
    folders: list[Path] = []
    for job_id, status, params in rows:
        if job_id not in gone:
            continue
        report.jobs[status] = report.jobs.get(status, 0) + 1
        raw = (params or {}).get("path")
        folder = _upload_folder(raw)
        if folder is not None:
            folders.append(folder)
        elif raw:
            report.left_alone += 1
        _remove_file(export_path(job_id), report)
        _remove_file(skipped_path(job_id), report)
    in_use = _folders_in_use(folders)
    for folder in dict.fromkeys(folders):
        if folder not in in_use:
            _remove_folder(folder, report)
    _delete_redis_keys(sorted(gone), report)
    return len(rows)


def _upload_dir() -> Path:
    return Path(os.path.abspath(get_settings().upload_dir))


def _upload_folder(raw: Any) -> Path | None:
    """The `<hex>` folder directly inside the upload dir that holds this file, else None.

    The path comes from the database: it is normalised without following links, and the
    folder must be a real directory (not a link) whose real location is in the upload dir.
    """
    if not isinstance(raw, str) or not raw:
        return None
    upload_dir = _upload_dir()
    folder = Path(os.path.abspath(raw)).parent
    if (
        folder.parent != upload_dir
        or not _UPLOAD_FOLDER.match(folder.name)
        or folder.is_symlink()
        or Path(os.path.realpath(folder)).parent != Path(os.path.realpath(upload_dir))
    ):
        return None
    return folder


def _chunks(items: list[Path], size: int = BATCH_SIZE) -> Iterator[list[Path]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _folders_in_use(folders: Iterable[Path]) -> set[Path]:
    """The folders that a job still in the database has its file in."""
    folders = list(dict.fromkeys(folders))
    if not folders:
        return set()
    path = col(Job.params)["path"].as_string()
    used: set[Path] = set()
    for chunk in _chunks(folders):
        prefixes = [f"{folder}{os.sep}" for folder in chunk]
        with session_scope() as session:
            paths = session.exec(
                select(path).where(or_(*(path.startswith(p, autoescape=True) for p in prefixes)))
            ).all()
        used.update(Path(os.path.abspath(p)).parent for p in paths if p)
    return used


def _remove_file(path: Path, report: PurgeReport) -> bool:
    try:
        size = path.lstat().st_size
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        log.exception("could not delete %s", path)
        return False
    report.files += 1
    report.bytes += size
    return True


def _remove_folder(folder: Path, report: PurgeReport) -> bool:
    if not folder.is_dir() or folder.is_symlink():
        return False
    files = size = 0
    for root, _dirs, names in os.walk(folder):  # does not follow links
        for name in names:
            try:
                size += os.lstat(os.path.join(root, name)).st_size
                files += 1
            except OSError:
                pass
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:
        return False
    except OSError:
        log.exception("could not delete %s", folder)
        return False
    report.files += files
    report.bytes += size
    return True


def _delete_redis_keys(job_ids: list[str], report: PurgeReport) -> None:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as RQJob

    if not job_ids:
        return
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.delete(events.snapshot_key(job_id), jobs.cancel_key(job_id), jobs.alive_key(job_id))
        pipe.exists(RQJob.key_for(job_id))
    results = pipe.execute()
    report.redis_keys += sum(results[0::2])
    for job_id, in_rq in zip(job_ids, results[1::2], strict=True):
        if not in_rq:
            continue
        try:  # removes it from RQ's registries too
            RQJob.fetch(job_id, connection=client).delete(remove_from_queue=True)
            report.redis_keys += 1
        except NoSuchJobError:
            pass
        except Exception:
            log.exception("could not delete RQ's record of job %s", job_id)


def _sweep_orphan_uploads(cutoff: float, report: PurgeReport) -> None:
    """Upload folders older than the period that no job refers to (e.g. a failed submit)."""
    upload_dir = _upload_dir()
    if not upload_dir.is_dir():
        return
    old: list[Path] = []
    with os.scandir(upload_dir) as entries:
        for entry in entries:
            if (
                _UPLOAD_FOLDER.match(entry.name)
                and entry.is_dir(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_mtime < cutoff
            ):
                old.append(upload_dir / entry.name)
    in_use = _folders_in_use(old)
    for folder in old:
        if folder not in in_use and _remove_folder(folder, report):
            report.orphan_folders += 1


def _sweep_orphan_exports(cutoff: float, report: PurgeReport) -> None:
    """Export files older than the period whose job is gone."""
    exports_dir = get_settings().var_dir / "exports"
    if not exports_dir.is_dir():
        return
    old: dict[str, Path] = {}
    with os.scandir(exports_dir) as entries:
        for entry in entries:
            match = _EXPORT_FILE.match(entry.name)
            if (
                match
                and entry.is_file(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_mtime < cutoff
            ):
                old[match.group(1)] = exports_dir / entry.name
    ids = list(old)
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        with session_scope() as session:
            known = set(session.exec(select(Job.id).where(col(Job.id).in_(chunk))).all())
        for job_id in chunk:
            if job_id not in known and _remove_file(old[job_id], report):
                report.orphan_exports += 1
