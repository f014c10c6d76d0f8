"""HTTP API mounted into the Reflex app (same port): REST v1 under /api/v1."""

from __future__ import annotations

import logging

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from jobboard.api import v1
from jobboard.api.auth import router as auth_router
from jobboard.api.health import router as health_router
from jobboard.api.limits import UPLOAD_PATH, UploadLimitMiddleware
from jobboard.api.metrics import router as metrics_router

log = logging.getLogger(__name__)


def validation_detail(exc: RequestValidationError) -> str:
    """FastAPI's list of errors as one readable line, without echoing the input back."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(dict.fromkeys(parts))[:2000] or "invalid request"


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": validation_detail(exc)}, status_code=422)


async def _queue_down(request: Request, exc: redis.RedisError) -> JSONResponse:
    """Redis away (it restarts under `make run`): a plain 503 to retry, not an internal error."""
    log.warning("%s %s: Redis is not answering (%s)", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the job queue is not answering right now; try again in a few seconds"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _crashed(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error in %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def create_api() -> FastAPI:
    api = FastAPI(
        title="Jobboard API",
        version="1",
        description="Start, follow, cancel and retry Jobboard jobs. Authenticate with a personal "
        "API token: `Authorization: Bearer jb_…`.",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
    )
    api.include_router(v1.router)
    api.include_router(auth_router)
    api.include_router(metrics_router)
    api.include_router(health_router)
    api.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    api.add_exception_handler(redis.RedisError, _queue_down)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, _crashed)
    # Reflex mounts its own routes (`/_upload` among them) inside this app, so the guard
    # wraps them too.
    api.add_middleware(UploadLimitMiddleware, paths=(UPLOAD_PATH, *v1.UPLOAD_PATHS))
    return api
