"""Review before apply: AI results change the catalog only as the owner accepted them, and
the last apply of a job can be undone.

The proposals come from the job's stored result (never from the browser); the browser only
says which rows were accepted and, for a row, a changed value — checked here: a changed
category must be one of the job's categories, a description is capped like an upload's.
Each apply stores the values it replaced (`CatalogApply`), so "undo" puts them back —
except on products changed again since, which keep their newer value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from jobboard.core.db import session_scope
from jobboard.core.format import count
from jobboard.core.models import FIELD_LIMITS, CatalogApply, Job, JobStatus, Product, utcnow

DEFAULT_THRESHOLD = 0.7  # rows below this confidence are hidden until the owner lowers it
FIELDS = {"auto_categorize": "category", "describe_products": "description"}


class ReviewError(ValueError):
    """Why an apply or undo cannot happen; the message is for the user."""


class ReviewNotFound(ReviewError):
    """No such job of this owner (or not one whose results can be applied)."""


@dataclass(frozen=True)
class Proposal:
    product_id: int
    title: str
    value: str
    confidence: float | None  # None: the job gives none (descriptions)


@dataclass(frozen=True)
class Applied:
    changed: int
    skipped: int  # accepted rows whose product is gone


def _owned_job(session: Any, owner_id: str, job_id: str) -> Job:
    job = session.exec(select(Job).where(Job.id == job_id, Job.owner_id == owner_id)).first()
    if job is None or job.kind not in FIELDS:
        raise ReviewNotFound("No such job, or it is not yours.")
    return job


def proposals(result: Mapping[str, Any] | None, kind: str) -> list[Proposal]:
    """What a finished categorize / describe job proposes, row by row."""
    result = result or {}
    if kind == "auto_categorize":
        return [
            Proposal(
                int(a["product_id"]),
                str(a.get("title") or ""),
                str(a["category"]),
                float(a.get("confidence") or 0.0),
            )
            for a in result.get("assignments") or []
        ]
    if kind == "describe_products":
        return [
            Proposal(int(d["product_id"]), str(d.get("title") or ""), str(d["description"]), None)
            for d in result.get("descriptions") or []
        ]
    return []


def _checked_value(job: Job, field: str, value: str) -> str:
    if field == "category":
        allowed = {str(c) for c in (job.result_data or {}).get("categories") or []}
        if value not in allowed:
            raise ReviewError(f"“{value[:60]}” is not one of this job's categories.")
        return value
    value = value.strip()
    if not value:
        raise ReviewError("A description cannot be empty; reject the row instead.")
    if len(value) > FIELD_LIMITS["description"]:
        raise ReviewError(
            f"A description can be at most {count(FIELD_LIMITS['description'])} characters."
        )
    return value


def apply_reviewed(
    owner_id: str, job_id: str, accepted: list[int], changes: Mapping[int, str]
) -> Applied:
    """Write the accepted rows (with the owner's changes) and remember what they replaced."""
    if not accepted:
        raise ReviewError("Accept at least one row first.")
    with session_scope() as session:
        job = _owned_job(session, owner_id, job_id)
        if job.status in JobStatus.ACTIVE:
            raise ReviewError("Wait until the job has ended to apply its result.")
        field = FIELDS[job.kind]
        proposed = {p.product_id: p.value for p in proposals(job.result_data, job.kind)}
        values: dict[int, str] = {}
        for product_id in dict.fromkeys(accepted):
            if product_id not in proposed:
                raise ReviewError("That row is not part of this job's result.")
            values[product_id] = _checked_value(
                job, field, changes.get(product_id, proposed[product_id])
            )
        previous: dict[str, str] = {}
        applied: dict[str, str] = {}
        now = utcnow()
        ids = list(values)
        for start in range(0, len(ids), 5000):
            for product in session.exec(
                select(Product).where(
                    Product.owner_id == owner_id, col(Product.id).in_(ids[start : start + 5000])
                )
            ):
                key = str(product.id)
                previous[key] = getattr(product, field)
                applied[key] = values[product.id]  # type: ignore[index]
                setattr(product, field, values[product.id])  # type: ignore[index]
                product.updated_at = now
                session.add(product)
        session.add(
            CatalogApply(
                owner_id=owner_id, job_id=job_id, field=field, previous=previous, applied=applied
            )
        )
    return Applied(len(applied), len(values) - len(applied))


def last_apply(owner_id: str, job_id: str) -> CatalogApply | None:
    """The job's most recent apply that has not been undone."""
    with session_scope() as session:
        return session.exec(
            select(CatalogApply)
            .where(
                CatalogApply.owner_id == owner_id,
                CatalogApply.job_id == job_id,
                col(CatalogApply.undone_at).is_(None),
            )
            .order_by(col(CatalogApply.created_at).desc(), col(CatalogApply.id).desc())
            .limit(1)
        ).first()


def undo_last_apply(owner_id: str, job_id: str) -> tuple[int, int]:
    """Put back what the job's last apply replaced; returns (restored, kept newer edits)."""
    with session_scope() as session:
        _owned_job(session, owner_id, job_id)
        entry = session.exec(
            select(CatalogApply)
            .where(
                CatalogApply.owner_id == owner_id,
                CatalogApply.job_id == job_id,
                col(CatalogApply.undone_at).is_(None),
            )
            .order_by(col(CatalogApply.created_at).desc(), col(CatalogApply.id).desc())
            .limit(1)
        ).first()
        if entry is None:
            raise ReviewError("There is nothing to undo for this job.")
        ids = [int(k) for k in entry.previous]
        restored = kept = 0
        now = utcnow()
        for start in range(0, len(ids), 5000):
            for product in session.exec(
                select(Product).where(
                    Product.owner_id == owner_id, col(Product.id).in_(ids[start : start + 5000])
                )
            ):
                key = str(product.id)
                if getattr(product, entry.field) != entry.applied.get(key):
                    kept += 1  # changed again since: the newer value stays
                    continue
                setattr(product, entry.field, entry.previous[key])
                product.updated_at = now
                session.add(product)
                restored += 1
        entry.undone_at = now
        session.add(entry)
    return restored, kept
