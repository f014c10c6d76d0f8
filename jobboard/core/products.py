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


@lru_cache(maxsize=2)
def _upsert_sql(dialect: str) -> str:
    """Plain DB-API upsert: SQLAlchemy's per-row bind processing would cost more than the write."""

    def value(column: str) -> str:
        if dialect == "postgresql":
            return f"CAST(%({column})s AS JSON)" if column in _JSON_COLUMNS else f"%({column})s"
        return f":{column}"

    updates = ", ".join(f"{c} = excluded.{c}" for c in _UPDATABLE)
    return (
        f"INSERT INTO product ({', '.join(_COLUMNS)}) "
        f"VALUES ({', '.join(value(c) for c in _COLUMNS)}) "
        f"ON CONFLICT (owner_id, key) DO UPDATE SET {updates}"
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
    """Insert or update products by (owner, key); returns (imported, updated)."""
    if not records:
        return 0, 0
    # The same key twice in one batch: the later row wins and counts as an update.
    by_key = {rec.key: rec for rec in records}
    repeats = len(records) - len(by_key)
    dialect = get_engine().dialect
    stamp = _stamp_processor(dialect.name)(utcnow())
    rows = [
        {
            "owner_id": owner_id,
            "key": rec.key,
            "handle": rec.handle,
            "sku": rec.sku,
            "title": rec.title,
            "description": rec.description,
            "vendor": rec.vendor,
            "product_type": rec.product_type,
            "tags": _json(rec.tags),
            "price": rec.price,
            "options": _json(rec.options),
            "variants": _json(rec.variants),
            "created_at": stamp,
            "updated_at": stamp,
        }
        for rec in by_key.values()
    ]
    with session_scope() as session:
        existing = set(
            session.exec(
                select(Product.key).where(
                    Product.owner_id == owner_id, col(Product.key).in_(list(by_key))
                )
            ).all()
        )
        cursor = session.connection().connection.cursor()
        try:
            cursor.executemany(_upsert_sql(dialect.name), rows)
        finally:
            cursor.close()
    updated = len(existing) + repeats
    return len(by_key) - len(existing), updated


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
