"""Starting jobs: the same kinds, parameters and titles as the UI, owned by the caller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool

from jobboard.api.v1.deps import CurrentUser
from jobboard.api.v1.schemas import (
    MAX_DESCRIBE,
    AutoCategorizeIn,
    DescribeProductsIn,
    ExportCatalogIn,
    FindDuplicatesIn,
    JobAccepted,
    ProductFilterIn,
)
from jobboard.core import jobs, uploads
from jobboard.core.ai import NOT_CONFIGURED_MESSAGE, provider_config
from jobboard.core.exports import export_title
from jobboard.core.product_query import BadFilter, ProductFilter, count_matching, parse_filter

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
async def auto_match_job(
    user: CurrentUser,
    file: UploadField,
    q: Annotated[str, Form(description="match only against products matching these words")] = "",
    vendor: Annotated[str, Form(description="… of this vendor")] = "",
    product_type: Annotated[str, Form(description="… of this type")] = "",
    category: Annotated[str, Form(description="… in this category")] = "",
) -> JobAccepted:
    try:
        flt = parse_filter(
            {"q": q, "vendor": vendor, "product_type": product_type, "category": category}
        )
    except BadFilter as exc:
        raise HTTPException(422, str(exc)) from None
    stored = await _store(file)
    params: dict[str, Any] = {"path": str(stored.path), "filename": stored.name}
    title = f"Match {stored.name}"
    if not flt.empty:
        params["filter"] = flt.as_params()
        title += f" (products {flt.describe()})"
    return await _start_with_file("auto_match", user.id, stored, title, params)


def _scope(
    owner_id: str, ids: list[int] | None, flt: ProductFilterIn | None
) -> tuple[dict[str, Any], str, int | None]:
    """Job params, title words and (for a filter) the count of a job's scope."""
    if ids is not None:
        return {"product_ids": ids}, f"{len(ids)} products", len(ids)
    product_filter = flt.to_filter() if flt is not None else ProductFilter()
    if product_filter.empty:
        return {"product_ids": None}, "whole catalog", None
    count = count_matching(owner_id, product_filter)
    params = {"product_ids": None, "filter": product_filter.as_params()}
    return params, f"{count:,} products {product_filter.describe()}", count


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
    scope, words, _ = _scope(user.id, _unique(body.product_ids), body.filter)
    params = scope | {"threshold": body.threshold}
    return _submit("find_duplicates", user.id, f"Find duplicates ({words})", params)


@router.post(
    "/auto-categorize-job",
    status_code=202,
    response_model=JobAccepted,
    responses=ACCEPTED,
    summary="Sort products into the categories you give",
)
def auto_categorize_job(user: CurrentUser, body: AutoCategorizeIn) -> JobAccepted:
    scope, words, _ = _scope(user.id, _unique(body.product_ids), body.filter)
    title = f"Auto-categorize into {len(body.categories)} categories ({words})"
    params = scope | {"categories": body.categories}
    return _submit("auto_categorize", user.id, title, params)


@router.post(
    "/describe-products-job",
    status_code=202,
    response_model=JobAccepted,
    responses=ACCEPTED
    | {
        409: {"description": "no AI provider is configured"},
        422: {"description": "no products, or more than 200, in the scope"},
    },
    summary="Write product descriptions with the configured AI provider",
)
def describe_products_job(user: CurrentUser, body: DescribeProductsIn) -> JobAccepted:
    if provider_config() is None:
        raise HTTPException(409, NOT_CONFIGURED_MESSAGE)
    scope, _, count = _scope(user.id, _unique(body.product_ids), body.filter)
    if not count:
        raise HTTPException(422, "no products match the filter")
    if count > MAX_DESCRIBE:
        raise HTTPException(
            422, f"{count:,} products match the filter; at most {MAX_DESCRIBE} per job"
        )
    params = scope | {"instructions": (body.instructions or "").strip() or None}
    return _submit("describe_products", user.id, f"Write descriptions for {count} products", params)


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
    body = body or ExportCatalogIn()
    scope, words, _ = _scope(user.id, _unique(body.product_ids), body.filter)
    title = export_title(body.format) + ("" if words == "whole catalog" else f" ({words})")
    return _submit("export_catalog", user.id, title, scope | {"format": body.format})
