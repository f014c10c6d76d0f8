"""What to tell a user when one of their jobs ends, in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobboard.core.format import count, plural
from jobboard.core.jobs import KINDS
from jobboard.core.models import JobStatus
from jobboard.core.outcome import UPLOAD_COUNTS, outcome_of

_NOUN = {"product_upload": "Upload"}


@dataclass(frozen=True)
class Notice:
    level: str  # "success" | "warning" | "error" | "info"
    title: str
    body: str
    url: str
    tag: str  # one notification per job, however many tabs


def _result_words(kind: str, result: dict[str, Any]) -> str:
    """What an AI or export job produced, in one line (the same numbers as its page)."""
    if kind == "find_duplicates":
        groups = result.get("groups_total", len(result.get("groups") or []))
        compared = plural(result.get("compared", 0), "product")
        return f"{plural(groups, 'group')} of likely duplicates among {compared}"
    if kind == "auto_categorize":
        return f"{plural(len(result.get('assignments') or []), 'product')} categorized"
    if kind == "auto_match":
        return (
            f"{count(result.get('matched_count', 0))} of {plural(result.get('rows', 0), 'row')} "
            "matched"
        )
    if kind == "describe_products":
        return f"{plural(len(result.get('descriptions') or []), 'description')} written"
    if kind == "export_catalog":
        return f"{plural(result.get('products', 0), 'product')} exported"
    return ""


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
        outcome = outcome_of(status, result, job.get("error_data"))
        partial = outcome.tone == "warning"
        level = "warning" if partial else "success"
        title = f"{noun} finished" + (f" · {outcome.label.split(' · ', 1)[1]}" if partial else "")
        if job["kind"] == "product_upload":
            # Lead with what happened: a re-import of a known file updates (or finds nothing
            # to change), it imports nothing.
            lead = next((key for key in UPLOAD_COUNTS if result.get(key)), UPLOAD_COUNTS[0])
            if lead == "unchanged":
                body = f"{plural(result[lead], 'product')} from {name} already up to date"
            else:
                body = f"{plural(result.get(lead, 0), 'product')} {lead} from {name}"
            extra = [
                f"{count(result[key])} {key}"
                for key in (*UPLOAD_COUNTS, "skipped")
                if key != lead and result.get(key)
            ]
            if extra:
                body += f" ({', '.join(extra)})"
            if outcome.skipped:
                body += ". Download the skipped rows from the job page to fix them."
        else:
            body = _result_words(job["kind"], result) or f"{name} is done"
            if outcome.failed_items:
                body += f"; {plural(outcome.failed_items, 'item')} failed"
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
