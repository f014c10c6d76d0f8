"""What a job's ending means to its user: an honest label, a tone, and whether a retry helps.

One place decides it for every channel (Tasks rows, the job page, toasts, OS notifications,
REST, SSE): a `completed` job that skipped rows or failed items says so ("completed · 9
skipped", tone "warning"), and "Retry" is offered only where running again can change the
outcome — never for rows invalid in themselves, never for a file that can never import, and
not again once a job has been retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobboard.core.format import count
from jobboard.core.models import JobStatus

# What an upload did to the products of its file, in the order a summary names them: new,
# changed, and found exactly as in the file (left alone). Each product counts once.
UPLOAD_COUNTS = ("imported", "updated", "unchanged")

# Tones the UI maps to colours (Radix colour schemes): one word per meaning, not per colour.
TONES = {
    "neutral": "gray",
    "active": "blue",
    "success": "green",
    "warning": "amber",
    "error": "red",
    "stopped": "orange",
}


@dataclass(frozen=True)
class Outcome:
    label: str  # "completed · 9 skipped"
    tone: str  # a key of TONES
    skipped: int = 0  # upload rows not imported (invalid in themselves)
    failed_items: int = 0  # items of an AI job that failed
    retryable_items: int = 0  # of those, how many a retry could change (transient causes)
    can_retry: bool = False  # run the whole job again
    can_retry_failed: bool = False  # run only the failed items again

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "tone": self.tone,
            "skipped": self.skipped,
            "failed_items": self.failed_items,
            "retryable_items": self.retryable_items,
            "can_retry": self.can_retry,
            "can_retry_failed": self.can_retry_failed,
        }


def retryable_failed(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The failed items of a result that a retry could change (marked so where they failed)."""
    return [f for f in (result or {}).get("failed") or [] if f.get("retryable")]


def outcome_of(
    status: str,
    result: dict[str, Any] | None,
    error: dict[str, Any] | None,
    retried_by: str | None = None,
) -> Outcome:
    result = result or {}
    skipped = int(result.get("skipped") or 0)
    failed_items = len(result.get("failed") or [])
    retryable = len(retryable_failed(result))
    ended = status in JobStatus.TERMINAL
    not_retried = ended and not retried_by
    # A job that failed or was cancelled can run again unless its cause is permanent
    # (an unreadable file, bad parameters): `error_data.retryable` is set where it failed.
    whole = (
        not_retried
        and status in (JobStatus.FAILED, JobStatus.CANCELLED)
        and (error or {}).get("retryable", True) is not False
    )
    only_failed = not_retried and retryable > 0
    parts = [str(status)]
    if skipped:
        parts.append(f"{count(skipped)} skipped")
    if failed_items:
        parts.append(f"{count(failed_items)} failed")
    label = " · ".join(parts)
    if status == JobStatus.COMPLETED:
        tone = "warning" if skipped or failed_items else "success"
    elif status == JobStatus.FAILED:
        tone = "error"
    elif status == JobStatus.CANCELLED:
        tone = "stopped"
    elif status == JobStatus.PROCESSING:
        tone = "active"
    else:
        tone = "neutral"
    return Outcome(
        label=label,
        tone=tone,
        skipped=skipped,
        failed_items=failed_items,
        retryable_items=retryable,
        can_retry=whole,
        can_retry_failed=only_failed,
    )
