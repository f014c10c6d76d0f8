"""Review before apply over REST: apply the accepted rows of an AI job, undo the last apply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from jobboard.api.v1.deps import CurrentUser
from jobboard.api.v1.schemas import ProductId, _Body
from jobboard.core.reviews import ReviewError, ReviewNotFound, apply_reviewed, undo_last_apply

router = APIRouter(prefix="/jobs", tags=["review and apply AI results"])
JobId = Annotated[str, Path(min_length=1, max_length=64, description="the job's id")]
ERRORS = {
    404: {"description": "no such auto-categorize or describe job of yours"},
    409: {"description": "the job is still running, or there is nothing to undo"},
    422: {"description": "a row or value that is not part of the job's result"},
}


class ApplyIn(_Body):
    accepted: list[ProductId] = Field(
        min_length=1, max_length=5000, description="product ids of the rows you accept"
    )
    changes: dict[str, str] = Field(
        default_factory=dict,
        max_length=5000,
        description="product id → your value instead of the proposal (a category of the job, "
        "or an edited description)",
    )


class ApplyOut(BaseModel):
    changed: int = Field(description="products updated")
    skipped: int = Field(description="accepted rows whose product is no longer in the catalog")


class UndoOut(BaseModel):
    restored: int = Field(description="products that have their previous value back")
    kept: int = Field(description="products changed again since the apply (left as they are)")


def _refused(exc: ReviewError) -> HTTPException:
    if isinstance(exc, ReviewNotFound):
        return HTTPException(404, "not found")
    message = str(exc)
    return HTTPException(
        409 if ("Wait until" in message or "nothing to undo" in message) else 422, message
    )


@router.post(
    "/{job_id}/apply",
    response_model=ApplyOut,
    responses=ERRORS,
    summary="Apply the reviewed result of an auto-categorize or describe job",
    description="Only the rows you accept are written, with your changes; the values they "
    "replace are kept so that `undo-apply` can put them back.",
)
def apply_job_result(job_id: JobId, user: CurrentUser, body: ApplyIn) -> ApplyOut:
    try:
        changes = {int(k): v for k, v in body.changes.items()}
    except ValueError:
        raise HTTPException(422, "changes must be keyed by product id") from None
    try:
        done = apply_reviewed(user.id, job_id, list(body.accepted), changes)
    except ReviewError as exc:
        raise _refused(exc) from None
    return ApplyOut(changed=done.changed, skipped=done.skipped)


@router.post(
    "/{job_id}/undo-apply",
    response_model=UndoOut,
    responses=ERRORS,
    summary="Undo the last apply of this job's result",
)
def undo_job_apply(job_id: JobId, user: CurrentUser) -> UndoOut:
    try:
        restored, kept = undo_last_apply(user.id, job_id)
    except ReviewError as exc:
        raise _refused(exc) from None
    return UndoOut(restored=restored, kept=kept)
