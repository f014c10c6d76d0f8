"""What to tell a user when one of their jobs ends, in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobboard.core.jobs import KINDS
from jobboard.core.models import JobStatus

_NOUN = {"product_upload": "Upload"}


@dataclass(frozen=True)
class Notice:
    level: str  # "success" | "error" | "info"
    title: str
    body: str
    url: str
    tag: str  # one notification per job, however many tabs


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def ending_notice(job: dict[str, Any]) -> Notice | None:
    """The notice for a job that just ended; None while it is still active."""
    status = job["status"]
    if status not in JobStatus.TERMINAL:
        return None
    spec = KINDS.get(job["kind"])
    noun = _NOUN.get(job["kind"]) or (spec.label if spec else "Job")
    name = job["title"]
    result = job.get("result_data") or {}
    if status == JobStatus.COMPLETED:
        level, title = "success", f"{noun} finished"
        if job["kind"] == "product_upload":
            body = f"{_plural(result.get('imported', 0), 'product')} imported from {name}"
            extra = [f"{result[key]:,} {key}" for key in ("updated", "skipped") if result.get(key)]
            if extra:
                body += f" ({', '.join(extra)})"
        else:
            body = f"{name} is done"
    elif status == JobStatus.FAILED:
        level, title = "error", f"{noun} failed"
        body = (job.get("error_data") or {}).get("message") or f"{name} could not be finished"
    else:
        level, title = "info", f"{noun} cancelled"
        body = f"{name} was cancelled"
    return Notice(level, title, body, f"/tasks/{job['id']}", f"jobboard-job-{job['id']}")


def claim_announcement(tab_id: str, job_id: str) -> bool:
    """True the first time a tab may announce a job's ending; False ever after (a day).

    Atomic in Redis, so two catch-ups racing after a reconnect announce it once.
    """
    from jobboard.core.redis import get_redis

    return bool(get_redis().set(f"jobboard:announced:{tab_id}:{job_id}", "1", nx=True, ex=86400))
