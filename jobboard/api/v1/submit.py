"""Starting jobs: the same kinds, parameters and titles as the UI, owned by the caller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, File, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool

from jobboard.api.v1.deps import CurrentUser
from jobboard.api.v1.schemas import (
    AutoCategorizeIn,
    DescribeProductsIn,
    ExportCatalogIn,
    FindDuplicatesIn,
    JobAccepted,
)
from jobboard.core import jobs, uploads
from jobboard.core.ai import NOT_CONFIGURED_MESSAGE, provider_config
from jobboard.core.exports import export_title

router = APIRouter(tags=["start a job"])

UPLOAD_PATHS = ("/api/v1/product-upload-job", "/api/v1/auto-match-job")
ACCEPTED = {202: {"description": "queued"}}
UPLOAD_ERRORS = ACCEPTED | {
    413: {"description": "the file is larger than the upload limit"},
    415: {"description": f"not {uploads.ACCEPTED_TYPES_TEXT}"},
}
UploadField = Annotated[
    UploadFile, File(description=f"{uploads.ACCEPTED_TYPES_TEXT} (extensions: csv, tsv, txt, json)")
]


def _submit(kind: str, owner_id: str, title: str, params: dict[str, Any]) -> JobAccepted:
    try:
        job = jobs.submit(kind, owner_id=owner_id, title=title, params=params)
    except Exception:
        raise HTTPException(503, "the job could not be queued; try again in a moment") from None
    return JobAccepted(job_id=job.id, status=job.status)


async def _store(file: UploadFile) -> uploads.StoredUpload:
    try:
        return await run_in_threadpool(
            uploads.store_upload, file.file, file.filename, file.content_type or ""
        )
    except uploads.UploadTooLarge as exc:
        raise HTTPException(413, str(exc)) from None
    except uploads.UploadRefused as exc:
        raise HTTPException(415, str(exc)) from None
    except OSError:
        raise HTTPException(503, "the file could not be saved on the server; try again") from None


async def _start_with_file(
    kind: str, user_id: str, stored: uploads.StoredUpload, title: str, params: dict[str, Any]
) -> JobAccepted:
    try:
        return await run_in_threadpool(_submit, kind, user_id, title, params)
    except HTTPException:
        uploads.discard(stored.path)
        raise


@router.post(
    "/product-upload-job",
    status_code=202,
    response_model=JobAccepted,
    responses=UPLOAD_ERRORS,
    summary="Import a product file",
)
async def product_upload_job(user: CurrentUser, file: UploadField) -> JobAccepted:
    stored = await _store(file)
    params = {"path": str(stored.path), "filename": stored.name, "size": stored.size}
    return await _start_with_file("product_upload", user.id, stored, stored.name, params)


@router.post(
    "/auto-match-job",
    status_code=202,
    response_model=JobAccepted,
    responses=UPLOAD_ERRORS,
    summary="Match a file's products against the catalog",
)
async def auto_match_job(user: CurrentUser, file: UploadField) -> JobAccepted:
    stored = await _store(file)
    params = {"path": str(stored.path), "filename": stored.name}
    return await _start_with_file("auto_match", user.id, stored, f"Match {stored.name}", params)


def _scope_words(product_ids: list[int] | None) -> str:
    return "whole catalog" if product_ids is None else f"{len(product_ids)} products"


def _unique(ids: list[int] | None) -> list[int] | None:
    return None if ids is None else list(dict.fromkeys(ids))


@router.post(
    "/find-duplicates-job",
    status_code=202,
    response_model=JobAccepted,
    responses=ACCEPTED,
    summary="Find near-duplicate products",
)
def find_duplicates_job(user: CurrentUser, body: FindDuplicatesIn) -> JobAccepted:
    ids = _unique(body.product_ids)
    params = {"product_ids": ids, "threshold": body.threshold}
    return _submit("find_duplicates", user.id, f"Find duplicates ({_scope_words(ids)})", params)


@router.post(
    "/auto-categorize-job",
    status_code=202,
    response_model=JobAccepted,
    responses=ACCEPTED,
    summary="Sort products into the categories you give",
)
def auto_categorize_job(user: CurrentUser, body: AutoCategorizeIn) -> JobAccepted:
    ids = _unique(body.product_ids)
    title = f"Auto-categorize into {len(body.categories)} categories ({_scope_words(ids)})"
    params = {"product_ids": ids, "categories": body.categories}
    return _submit("auto_categorize", user.id, title, params)


@router.post(
    "/describe-products-job",
    status_code=202,
    response_model=JobAccepted,
    responses=ACCEPTED | {409: {"description": "no AI provider is configured"}},
    summary="Write product descriptions with the configured AI provider",
)
def describe_products_job(user: CurrentUser, body: DescribeProductsIn) -> JobAccepted:
    if provider_config() is None:
        raise HTTPException(409, NOT_CONFIGURED_MESSAGE)
    ids = _unique(body.product_ids) or []
    params = {"product_ids": ids, "instructions": (body.instructions or "").strip() or None}
    return _submit(
        "describe_products", user.id, f"Write descriptions for {len(ids)} products", params
    )


@router.post(
    "/export-catalog-job",
    status_code=202,
    response_model=JobAccepted,
    responses=ACCEPTED,
    summary="Export the catalog as CSV",
)
def export_catalog_job(
    user: CurrentUser, body: Annotated[ExportCatalogIn | None, Body()] = None
) -> JobAccepted:
    fmt = (body or ExportCatalogIn()).format
    return _submit("export_catalog", user.id, export_title(fmt), {"format": fmt})
