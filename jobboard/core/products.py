"""The product catalog: batch upserts and paginated reads, always scoped to an owner."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

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
# Rows per SQLite INSERT statement: 14 parameters a row stays under its 32,766.
_ROWS_PER_STATEMENT = 1000
_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in _UPDATABLE)
_JSON_COLUMNS = ("tags", "options", "variants")


def _differs(column: str, dialect: str) -> str:
    """SQL true when the stored value differs from the incoming one (NULLs compare)."""
    if dialect == "postgresql" and column in _JSON_COLUMNS:
        # PostgreSQL's json has no equality; both sides are the text this module wrote.
        return f"product.{column}::text IS DISTINCT FROM excluded.{column}::text"
    return f"product.{column} IS DISTINCT FROM excluded.{column}"


def _on_conflict(dialect: str) -> str:
    """Update on a key conflict only when a value changed: an unchanged row is not written
    at all (no new row version, no index entries, `updated_at` kept), which is most rows of
    a catalog re-imported every night."""
    changed = " OR ".join(_differs(c, dialect) for c in _UPDATABLE[:-1])
    return f"ON CONFLICT (owner_id, key) DO UPDATE SET {_UPDATES} WHERE {changed}"


# PostgreSQL: the batch is COPYed into a per-connection scratch table (emptied at every
# commit), then one INSERT … SELECT upserts it: about three times the rows/s of a
# multi-row VALUES insert, which PostgreSQL must parse and bind anew each time.
_PG_SCRATCH = (
    "CREATE TEMP TABLE IF NOT EXISTS product_upsert ON COMMIT DELETE ROWS AS "
    f"SELECT {', '.join(_COLUMNS)} FROM product WITH NO DATA"
)
_PG_COPY = f"COPY product_upsert ({', '.join(_COLUMNS)}) FROM STDIN"
_PG_UPSERT = (
    f"INSERT INTO product ({', '.join(_COLUMNS)}) "
    f"SELECT {', '.join(_COLUMNS)} FROM product_upsert ORDER BY key "
    # Rows written come back (inserted or changed); a freshly inserted row version has no
    # deleting or locking transaction yet.
    f"{_on_conflict('postgresql')} RETURNING key, (xmax = 0)"
)


@lru_cache(maxsize=4)
def _sqlite_upsert_sql(rows: int) -> str:
    """A multi-row upsert answering, per row written, its key and whether it inserted.

    SQLite has no xmax: an update keeps the row's created_at while an insert stamps both
    timestamps with the same value.
    """
    values = ", ".join(f"({', '.join('?' for _ in _COLUMNS)})" for _ in range(rows))
    return (
        f"INSERT INTO product ({', '.join(_COLUMNS)}) VALUES {values} "
        f"{_on_conflict('sqlite')} RETURNING key, (created_at = updated_at)"
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


class Upserted(NamedTuple):
    """What one upsert did: products new, changed and found exactly as they were."""

    imported: int
    updated: int
    unchanged: int


def write_products(owner_id: str, records: Sequence[ProductData]) -> dict[str, bool]:
    """Insert or update products by (owner, key) in one pass. Returns, for each key written,
    whether it was inserted (True) or changed (False); a key absent from the answer was
    already stored with exactly these values and was left alone. The same key twice in
    `records`: the later row wins."""
    if not records:
        return {}
    by_key = {rec.key: rec for rec in records}
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
    # `ON CONFLICT (owner_id, key)` finds each row through the unique index itself: no
    # read-before-write whose plan could drift (a `SELECT … key IN (…)` on a never-analyzed
    # PostgreSQL table once took 2 s a batch). Plain DB-API: SQLAlchemy's per-row bind
    # processing would cost more than the write.
    with session_scope() as session:
        cursor = session.connection().connection.cursor()
        try:
            if dialect == "postgresql":
                cursor.execute(_PG_SCRATCH)
                with cursor.copy(_PG_COPY) as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(_PG_UPSERT)
                written = dict(cursor.fetchall())
            else:
                written = {}
                for start in range(0, len(rows), _ROWS_PER_STATEMENT):
                    chunk = rows[start : start + _ROWS_PER_STATEMENT]
                    params = [value for row in chunk for value in row]
                    cursor.execute(_sqlite_upsert_sql(len(chunk)), params)
                    written.update(cursor.fetchall())
        finally:
            cursor.close()
    return {key: bool(inserted) for key, inserted in written.items()}


def upsert_products(owner_id: str, records: Sequence[ProductData]) -> Upserted:
    """Insert or update products by (owner, key); counts what happened. The same key twice
    in `records` is one product (the later row wins)."""
    written = write_products(owner_id, records)
    imported = sum(1 for inserted in written.values() if inserted)
    distinct = len({rec.key for rec in records})
    return Upserted(imported, len(written) - imported, distinct - len(written))


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
