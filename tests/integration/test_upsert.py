"""The catalog upsert writes through the unique key in one pass and reports what it did."""

from __future__ import annotations

from jobboard.core.products import _ROWS_PER_STATEMENT, list_products, upsert_products
from scripts.stack import Stack
from tests.conftest import ProductRec


def check_upsert_counts(owner: str, other_owner: str) -> None:
    """Inserted vs updated, in-batch repeats, batches above one statement's size, owners apart."""
    big = _ROWS_PER_STATEMENT * 2 + 7  # three statements in one call
    assert upsert_products(owner, [ProductRec(f"P {i}", sku=f"K-{i}") for i in range(big)]) == (
        big,
        0,
    )
    # Half known, half new, one key twice (the later row wins and counts as an update).
    batch = [ProductRec(f"Q {i}", sku=f"K-{i}", price=i) for i in range(big // 2, big + 500)]
    batch.append(ProductRec("last one wins", sku=f"K-{big}"))
    known = big - big // 2
    assert upsert_products(owner, batch) == (500, known + 1)
    products, total = list_products(owner, limit=big + 1000)
    assert total == big + 500
    by_key = {p.key: p for p in products}
    assert by_key[f"K-{big}"].title == "last one wins"
    assert (
        by_key[f"K-{big - 1}"].title == f"Q {big - 1}" and by_key[f"K-{big - 1}"].price == big - 1
    )
    assert by_key["K-0"].title == "P 0"  # untouched
    # The same keys under another owner are other products.
    assert upsert_products(other_owner, [ProductRec("Mine", sku="K-0")]) == (1, 0)
    assert list_products(owner, limit=1)[1] == big + 500
    # Updated again: still updates, created_at kept.
    created = by_key["K-1"].created_at
    assert upsert_products(owner, [ProductRec("Again", sku="K-1")]) == (0, 1)
    again = next(p for p in list_products(owner, limit=5)[0] if p.key == "K-1")
    assert again.title == "Again" and again.created_at == created
    assert again.updated_at > created


def test_upsert_counts_on_sqlite(services: Stack, owner: str) -> None:
    check_upsert_counts(owner, owner + "-other")
