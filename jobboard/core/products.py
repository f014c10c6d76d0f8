"""The product catalog: batch upserts and paginated reads, always scoped to an owner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


def upsert_products(owner_id: str, records: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Insert or update products by (owner, key); returns (imported, updated)."""
    if not records:
        return 0, 0
    now = utcnow()
    # The same key twice in one batch: the later row wins and counts as an update.
    by_key: dict[str, dict[str, Any]] = {}
    for rec in records:
        by_key[rec["key"]] = rec
    repeats = len(records) - len(by_key)
    rows = [
        {**rec, "owner_id": owner_id, "created_at": now, "updated_at": now}
        for rec in by_key.values()
    ]
    engine = get_engine()
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    with session_scope() as session:
        existing = set(
            session.exec(
                select(Product.key).where(
                    Product.owner_id == owner_id, col(Product.key).in_(list(by_key))
                )
            ).all()
        )
        stmt = insert(Product.__table__)  # type: ignore[attr-defined]
        stmt = stmt.on_conflict_do_update(
            index_elements=["owner_id", "key"],
            set_={name: stmt.excluded[name] for name in _UPDATABLE},
        )
        session.execute(stmt, rows)
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
