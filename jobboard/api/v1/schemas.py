"""Request and response models of REST v1.

`Job` mirrors `jobboard.core.jobs.to_public()` and validates its dict; it drops what must not leave
the server (`error_data.details`, the traceback of a crash).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from jobboard.core import jobs
from jobboard.core.models import FIELD_LIMITS, JobStatus
from jobboard.core.product_query import MAX_QUERY_CHARS, ProductFilter

MAX_PRODUCT_IDS = 10_000  # per catalog AI job (the UI's selection is far smaller)
MAX_DESCRIBE = 200  # the describe worker's own limit
MAX_INSTRUCTIONS = 2000
MIN_THRESHOLD, DEFAULT_THRESHOLD = 0.5, 0.88
MIN_CATEGORIES, MAX_CATEGORIES, MAX_CATEGORY_CHARS = 2, 50, 100

Status = StrEnum("Status", {s: s for s in JobStatus.ALL})  # type: ignore[misc]
Kind = StrEnum("Kind", {k: k for k in jobs.KINDS})  # type: ignore[misc]

ProductId = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]
CategoryName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CATEGORY_CHARS)
]


class ProgressData(BaseModel):
    model_config = ConfigDict(extra="allow")

    percentage: float = 0.0
    current_step: str | None = Field(
        None,
        description='what the job is doing, in English: "Comparing products 12,664 of 300,617"',
    )
    step_template: str | None = Field(
        None,
        description="the step with its numbers as `{name}` fields, for clients that write "
        'them their own way: "Comparing products {done} of {total}"; null for a step '
        "without numbers",
    )
    step_values: dict[str, int | float | str] | None = Field(
        None, description='the values of those fields: {"done": 12664, "total": 300617}'
    )
    processed: int | None = None
    total: int | None = None
    estimated_time_remaining: float | None = None
    speed: float | None = None


class ErrorData(BaseModel):
    """Only the message: the details (a traceback) stay in the server's record."""

    model_config = ConfigDict(extra="ignore")

    message: str = ""
    retryable: bool | None = Field(
        None, description="whether running the job again could end differently"
    )


class Outcome(BaseModel):
    """How the job ended in one honest line ("completed · 9 skipped"), and which retry helps."""

    label: str = ""
    tone: str = Field("neutral", description="neutral|active|success|warning|error|stopped")
    skipped: int = 0
    failed_items: int = 0
    retryable_items: int = 0
    can_retry: bool = False
    can_retry_failed: bool = False


class Job(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    kind: str
    title: str
    status: Status
    progress_data: ProgressData = Field(default_factory=ProgressData)
    result_data: dict[str, Any] | None = None
    error_data: ErrorData | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    retry_of: str | None = None
    retried_by: str | None = None
    outcome: Outcome = Field(default_factory=Outcome)
    version: int = Field(
        0,
        description="grows with every change of the job; `GET /api/v1/jobs/{job_id}"
        "?since_version=N` answers when it is above N",
    )


class Pagination(BaseModel):
    total: int = Field(description="jobs that match (at least this many if not `total_exact`)")
    page: int
    limit: int
    pages: int
    total_exact: bool = True
    older: str | None = Field(None, description="cursor of the next page: pass as `before`")
    newer: str | None = Field(None, description="cursor of the previous page: pass as `after`")


class JobPage(BaseModel):
    jobs: list[Job]
    pagination: Pagination
    running_count: int = Field(description="the caller's queued and processing jobs")


class LatestJob(BaseModel):
    latest_job: Job | None
    has_running_job: bool


class JobAccepted(BaseModel):
    job_id: str
    status: Status


class Problem(BaseModel):
    detail: str


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductFilterIn(_Body):
    """Which products, as on the Products page: resolved for the caller when the job runs."""

    q: str = Field(
        "", max_length=MAX_QUERY_CHARS, description="words that start words of the title or SKU"
    )
    vendor: str = Field("", max_length=FIELD_LIMITS["vendor"], description="exact vendor")
    product_type: str = Field("", max_length=FIELD_LIMITS["product_type"], description="exact type")
    category: str = Field("", max_length=FIELD_LIMITS["category"], description="exact category")

    @field_validator("q", "vendor", "product_type", "category")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value

    def to_filter(self) -> ProductFilter:
        return ProductFilter(" ".join(self.q.split()), self.vendor.strip(),
                             self.product_type.strip(), self.category.strip())  # fmt: skip


class _Scoped(_Body):
    """`product_ids` or `filter` (or neither: the whole catalog), never both."""

    filter: ProductFilterIn | None = Field(
        None, description="the products matching this filter (instead of product_ids)"
    )

    @model_validator(mode="after")
    def _one_scope(self) -> _Scoped:
        if getattr(self, "product_ids", None) is not None and self.filter is not None:
            raise ValueError("give product_ids or filter, not both")
        return self


class FindDuplicatesIn(_Scoped):
    product_ids: list[ProductId] | None = Field(
        None,
        min_length=1,
        max_length=MAX_PRODUCT_IDS,
        description="the products to compare; omit for the whole catalog",
    )
    threshold: float = Field(DEFAULT_THRESHOLD, ge=MIN_THRESHOLD, le=1.0, allow_inf_nan=False)


class AutoCategorizeIn(_Scoped):
    product_ids: list[ProductId] | None = Field(
        None, min_length=1, max_length=MAX_PRODUCT_IDS, description="omit for the whole catalog"
    )
    categories: list[CategoryName] = Field(min_length=MIN_CATEGORIES, max_length=MAX_CATEGORIES)

    @field_validator("categories")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        names: dict[str, str] = {}
        for name in value:
            names.setdefault(" ".join(name.split()).casefold(), " ".join(name.split()))
        if len(names) < MIN_CATEGORIES:
            raise ValueError(f"give at least {MIN_CATEGORIES} different categories")
        return list(names.values())


class DescribeProductsIn(_Scoped):
    product_ids: list[ProductId] | None = Field(
        None,
        min_length=1,
        max_length=MAX_DESCRIBE,
        description=f"the products to describe; or give a filter matching at most {MAX_DESCRIBE}",
    )
    instructions: str | None = Field(None, max_length=MAX_INSTRUCTIONS)

    @model_validator(mode="after")
    def _some_products(self) -> DescribeProductsIn:
        if self.product_ids is None and (self.filter is None or self.filter.to_filter().empty):
            raise ValueError(f"give product_ids or a filter (at most {MAX_DESCRIBE} products)")
        return self


class ExportCatalogIn(_Scoped):
    format: Literal["shopify", "plain"] = "shopify"
    product_ids: list[ProductId] | None = Field(
        None, min_length=1, max_length=MAX_PRODUCT_IDS, description="omit for the whole catalog"
    )


Window = Literal["24h", "7d", "30d"]


class StatsPoint(BaseModel):
    """The jobs that ended within one hour (24 h window) or one day of `tz` (7 d, 30 d)."""

    start: datetime
    completed: int
    failed: int
    cancelled: int
    total: int
    failure_rate: float | None = Field(description="failed / total; null without jobs")
    p50_seconds: float | None = Field(description="median run time of the completed jobs")
    p95_seconds: float | None


class KindStats(StatsPoint):
    """One job kind over the whole window (`start` is the window's start) and its series."""

    kind: str
    label: str
    series: list[StatsPoint]


class Stats(BaseModel):
    window: Window
    bucket: Literal["hour", "day"]
    tz: str = Field(description="the IANA time zone of the days and times (UTC by default)")
    since: datetime
    until: datetime
    kinds: list[KindStats] = Field(description="the kinds that ended at least one job")
