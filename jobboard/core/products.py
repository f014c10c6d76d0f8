"""The product catalog: batch upserts and paginated reads, always scoped to an owner."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import func
from sqlmodel import col, select

from jobboard.core.db import get_engine, session_scope
from jobboard.core.models import Product, utcnow

_UPDATABLE = (
    "handle",
    "sku",
    "title",
    "description",
    "vendor",
    "product_type",
    "tags",
    "price",
    "options",
    "variants",
    "updated_at",
)


_COLUMNS = ("owner_id", "key", *_UPDATABLE[:-1], "created_at", "updated_at")
_JSON_COLUMNS = ("tags", "options", "variants")
# Rows per INSERT statement: 14 parameters a row stays under SQLite's 32,766 and
# PostgreSQL's 65,535 bind parameters, and one size means one prepared plan.
_ROWS_PER_STATEMENT = 1000


@lru_cache(maxsize=16)
def _upsert_sql(dialect: str, rows: int) -> str:
    """A multi-row upsert on the unique key, answering per row whether it inserted.

    Plain DB-API: SQLAlchemy's per-row bind processing would cost more than the write.
    `ON CONFLICT (owner_id, key)` finds the row through the unique index itself, so there
    is no read-before-write whose plan could drift (a `SELECT … key IN (…)` on a
    never-analyzed PostgreSQL table once took 2 s a batch).
    """
    if dialect == "postgresql":
        value = ", ".join("CAST(%s AS JSON)" if c in _JSON_COLUMNS else "%s" for c in _COLUMNS)
        # A freshly inserted row version has no deleting/locking transaction yet.
        inserted = "(xmax = 0)"
    else:
        value = ", ".join("?" for _ in _COLUMNS)
        # SQLite has no xmax: an update keeps the row's created_at, an insert stamps both
        # columns with the same value.
        inserted = "(created_at = updated_at)"
    updates = ", ".join(f"{c} = excluded.{c}" for c in _UPDATABLE)
    values = ", ".join(f"({value})" for _ in range(rows))
    return (
        f"INSERT INTO product ({', '.join(_COLUMNS)}) VALUES {values} "
        f"ON CONFLICT (owner_id, key) DO UPDATE SET {updates} RETURNING {inserted}"
    )


def _json(value: list[Any]) -> str:
    return json.dumps(value) if value else "[]"


@lru_cache(maxsize=2)
def _stamp_processor(dialect: str) -> Callable[[datetime], Any]:
    """How the timestamp columns store a value, so raw SQL writes what the ORM reads."""
    engine_dialect = get_engine().dialect
    column_type = Product.__table__.c.updated_at.type  # type: ignore[attr-defined]
    processor = column_type.dialect_impl(engine_dialect).bind_processor(engine_dialect)
    return processor or (lambda value: value)


class ProductData(Protocol):
    """What an upsert needs of a product (the upload parser's records have it)."""

    key: str
    handle: str | None
    sku: str | None
    title: str
    description: str
    vendor: str
    product_type: str
    tags: list[str]
    price: float | None
    options: list[dict[str, Any]]
    variants: list[dict[str, Any]]


def upsert_products(owner_id: str, records: Sequence[ProductData]) -> tuple[int, int]:
    """Insert or update products by (owner, key) in one pass; returns (imported, updated)."""
    if not records:
        return 0, 0
    # The same key twice in one batch: the later row wins and counts as an update.
    by_key = {rec.key: rec for rec in records}
    repeats = len(records) - len(by_key)
    dialect = get_engine().dialect.name
    stamp = _stamp_processor(dialect)(utcnow())
    # In key order, so two uploads writing the same keys lock them in the same order.
    rows = [
        (
            owner_id,
            rec.key,
            rec.handle,
            rec.sku,
            rec.title,
            rec.description,
            rec.vendor,
            rec.product_type,
            _json(rec.tags),
            rec.price,
            _json(rec.options),
            _json(rec.variants),
            stamp,
            stamp,
        )
        for _key, rec in sorted(by_key.items())
    ]
    inserted = 0
    with session_scope() as session:
        cursor = session.connection().connection.cursor()
        try:
            for start in range(0, len(rows), _ROWS_PER_STATEMENT):
                chunk = rows[start : start + _ROWS_PER_STATEMENT]
                params = [value for row in chunk for value in row]
                cursor.execute(_upsert_sql(dialect, len(chunk)), params)
                inserted += sum(1 for (was_inserted,) in cursor.fetchall() if was_inserted)
        finally:
            cursor.close()
    return inserted, len(by_key) - inserted + repeats


def list_products(owner_id: str, *, offset: int = 0, limit: int = 25) -> tuple[list[Product], int]:
    """One page of the owner's catalog, most recently changed first, and the total."""
    with session_scope() as session:
        total = session.exec(
            select(func.count()).select_from(Product).where(Product.owner_id == owner_id)
        ).one()
        rows = session.exec(
            select(Product)
            .where(Product.owner_id == owner_id)
            .order_by(col(Product.updated_at).desc(), col(Product.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
    return list(rows), int(total)


def get_products(owner_id: str, ids: Sequence[int] | None = None) -> list[Product]:
    """The owner's products (all, or these ids), oldest first."""
    with session_scope() as session:
        query = select(Product).where(Product.owner_id == owner_id)
        if ids is not None:
            query = query.where(col(Product.id).in_(list(ids)))
        return list(session.exec(query.order_by(col(Product.id))).all())


def update_fields(owner_id: str, field: str, values: dict[int, str]) -> int:
    """Set one text field (category, description) on the owner's products; returns how many."""
    if field not in ("category", "description"):
        raise ValueError(f"{field} cannot be set this way")
    changed = 0
    now = utcnow()
    with session_scope() as session:
        for product in session.exec(
            select(Product).where(Product.owner_id == owner_id, col(Product.id).in_(list(values)))
        ):
            setattr(product, field, values[product.id])
            product.updated_at = now
            session.add(product)
            changed += 1
    return changed
