"""`GET /metrics` for Prometheus.

The figures tell how much and what kind of work every account does, so the route asks for an
administrator's API token (`Authorization: Bearer jb_…`) unless JOBBOARD_METRICS_PUBLIC=1
(for a scraper on a private network). A browser's sign-in cookie is not accepted: a
scraper has no cookie, and a page must not be able to read the figures.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST

from jobboard.api.v1.deps import bearer, unauthorized
from jobboard.core import accounts, metrics
from jobboard.core.settings import get_settings

router = APIRouter(tags=["monitoring"])


def metrics_reader(
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    if get_settings().metrics_public:
        return
    if token is None:
        raise unauthorized("metrics need an administrator's API token: Authorization: Bearer …")
    raw = token.credentials.strip()
    user = accounts.user_for_token(raw) if accounts.looks_like_token(raw) else None
    if user is None:
        raise unauthorized("the API token is not valid: it is unknown, revoked or expired")
    if not user.is_admin:
        raise HTTPException(403, "metrics are for administrators: use an administrator's token")


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(metrics_reader)],
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        401: {"description": "no valid API token"},
        403: {"description": "the token's user is not an administrator"},
    },
    summary="Prometheus metrics (administrators)",
)
def prometheus_metrics() -> Response:
    # A plain def: FastAPI runs it in its thread pool, the DB and Redis reads stay off the loop.
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
