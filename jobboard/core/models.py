"""The durable record: plain SQLModel tables."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


# The catalog's text limits, in characters: the column sizes of `Product` below, plus caps that
# keep one product readable (the description column itself is unbounded). Uploads cut longer
# values to these and say so per row.
FIELD_LIMITS: dict[str, int] = {
    "key": 255,
    "handle": 255,
    "sku": 255,
    "title": 500,
    "vendor": 255,
    "product_type": 255,
    "category": 255,
    "description": 64 * 1024,
    "tag": 255,  # each tag
    "option": 255,  # each option name and value
}


class JobStatus(StrEnum):
    """A job's status; members compare equal to the plain strings the database stores."""

    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    # Groups of statuses (set below the class: inside an enum's body they would be members).
    ALL: ClassVar[tuple[JobStatus, ...]]
    ACTIVE: ClassVar[tuple[JobStatus, ...]]
    TERMINAL: ClassVar[tuple[JobStatus, ...]]


ALL_STATUSES = JobStatus.ALL = tuple(JobStatus)
ACTIVE_STATUSES = JobStatus.ACTIVE = (JobStatus.QUEUED, JobStatus.PROCESSING)
TERMINAL_STATUSES = JobStatus.TERMINAL = (
    JobStatus.COMPLETED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)


class Job(SQLModel, table=True):
    """One long-running job; its id is also the RQ job id."""

    __table_args__ = (
        # The Tasks list filters by owner (+ status / kind) and pages newest first by the
        # keyset (created_at, id): each filter has an index that ends in that key.
        Index("ix_job_owner_created", "owner_id", "created_at", "id"),
        Index("ix_job_owner_status_created", "owner_id", "status", "created_at", "id"),
        Index("ix_job_owner_kind_created", "owner_id", "kind", "created_at", "id"),
        Index("ix_job_owner_status_kind_created", "owner_id", "status", "kind", "created_at", "id"),
        # Queue positions' "starts in about …" read the newest completed jobs of a kind.
        Index("ix_job_kind_status_completed", "kind", "status", "completed_at"),
        # The watchdog (every second) and retention look up jobs by status for every owner.
        Index("ix_job_status_created", "status", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    owner_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    title: str = Field(max_length=300)
    status: str = Field(default=JobStatus.QUEUED, max_length=16)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    progress_data: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    result_data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    error_data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    version: int = Field(default=0)
    # A retry links to the job it reruns, and that job to its retry (one: a retried job
    # offers no further retry; the retry itself may be retried).
    retry_of: str | None = Field(default=None, max_length=36)
    retried_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None


class JobCount(SQLModel, table=True):
    """How many jobs an owner has per (status, kind), kept by database triggers on `job`
    (migration 0008), so the Tasks totals and the active-jobs badge never count rows."""

    __tablename__ = "job_count"

    owner_id: str = Field(primary_key=True, max_length=64)
    status: str = Field(primary_key=True, max_length=16)
    kind: str = Field(primary_key=True, max_length=32)
    n: int = 0


class Product(SQLModel, table=True):
    """A catalog product; `key` is the upsert key (the Shopify handle, else the SKU)."""

    __table_args__ = (
        UniqueConstraint("owner_id", "key", name="uq_product_owner_key"),
        Index("ix_product_owner_updated", "owner_id", "updated_at"),
        # Filters and sorts of the Products page (migration 0009; search has its own index).
        Index("ix_product_owner_vendor", "owner_id", "vendor", "updated_at"),
        Index("ix_product_owner_type", "owner_id", "product_type", "updated_at"),
        Index("ix_product_owner_category", "owner_id", "category", "updated_at"),
        Index("ix_product_owner_title", "owner_id", "title"),
        Index("ix_product_owner_price", "owner_id", "price"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: str = Field(max_length=64)
    key: str = Field(max_length=FIELD_LIMITS["key"])
    handle: str | None = Field(default=None, max_length=FIELD_LIMITS["handle"])
    sku: str | None = Field(default=None, max_length=FIELD_LIMITS["sku"])
    title: str = Field(max_length=FIELD_LIMITS["title"])
    description: str = ""
    vendor: str = Field(default="", max_length=FIELD_LIMITS["vendor"])
    product_type: str = Field(default="", max_length=FIELD_LIMITS["product_type"])
    category: str = Field(default="", max_length=FIELD_LIMITS["category"])
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    price: float | None = None
    options: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    variants: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class NotificationPrefs(SQLModel, table=True):
    """Which job endings a user wants a browser notification for."""

    owner_id: str = Field(primary_key=True, max_length=64)
    on_completed: bool = True
    on_failed: bool = True
    on_cancelled: bool = False
    only_in_background: bool = False
    updated_at: datetime = Field(default_factory=utcnow)


class CatalogApply(SQLModel, table=True):
    """One reviewed apply of an AI job's results to the catalog, with what it replaced.

    `previous` and `applied` map product ids (as text: JSON keys) to the field's value before
    and after, so the last apply can be undone without touching later edits.
    """

    __table_args__ = (Index("ix_catalog_apply_owner_job", "owner_id", "job_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: str = Field(max_length=64)
    job_id: str = Field(max_length=36)
    field: str = Field(max_length=32)
    previous: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    applied: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    undone_at: datetime | None = None
