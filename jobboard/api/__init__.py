"""HTTP API mounted into the Reflex app (same port)."""

from __future__ import annotations

from fastapi import FastAPI

from jobboard.api.routes import router


def create_api() -> FastAPI:
    api = FastAPI(title="Jobboard API", docs_url="/api/docs", openapi_url="/api/openapi.json")
    api.include_router(router)
    return api
