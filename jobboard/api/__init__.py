"""HTTP API mounted into the Reflex app (same port)."""

from __future__ import annotations

from fastapi import FastAPI

from jobboard.api.auth import router as auth_router
from jobboard.api.limits import UploadLimitMiddleware
from jobboard.api.routes import router


def create_api() -> FastAPI:
    api = FastAPI(title="Jobboard API", docs_url="/api/docs", openapi_url="/api/openapi.json")
    api.include_router(router)
    api.include_router(auth_router)
    # Reflex mounts its own routes (`/_upload` among them) inside this app, so the guard
    # wraps them too.
    api.add_middleware(UploadLimitMiddleware)
    return api
