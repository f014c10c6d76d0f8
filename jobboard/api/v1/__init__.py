"""REST API v1: thin routers over jobboard.core, one owner per request (see deps)."""

from __future__ import annotations

from fastapi import APIRouter

from jobboard.api.v1 import events, jobs, review, stats, submit, webhooks
from jobboard.api.v1.schemas import Problem

UPLOAD_PATHS = submit.UPLOAD_PATHS

router = APIRouter(
    prefix="/api/v1",
    responses={
        401: {"model": Problem, "description": "missing, invalid, revoked or expired credentials"},
        422: {"model": Problem, "description": "invalid parameters"},
        429: {"model": Problem, "description": "too many requests; see Retry-After"},
    },
)
router.include_router(submit.router)
router.include_router(jobs.router)
router.include_router(webhooks.router)
router.include_router(stats.router)
router.include_router(events.router)
router.include_router(review.router)
