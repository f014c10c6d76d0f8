"""The catalog upsert writes through the unique key in one pass and reports what it did."""

from __future__ import annotations

from jobboard.core.products import _ROWS_PER_STATEMENT, list_products, upsert_products
from scripts.stack import Stack
from tests.conftest import ProductRec


def check_upsert_counts(owner: str, other_owner: str) -> None:
    """Inserted, updated and unchanged; in-batch repeats, batches above one statement's size,
    owners apart."""
    big = _ROWS_PER_STATEMENT * 2 + 7  # three statements in one call
    first = [ProductRec(f"P {i}", sku=f"K-{i}") for i in range(big)]
    assert upsert_products(owner, first) == (big, 0, 0)
    # Half known (changed), half new, one key twice (the later row wins; one product).
    batch = [ProductRec(f"Q {i}", sku=f"K-{i}", price=i) for i in range(big // 2, big + 500)]
    batch.append(ProductRec("last one wins", sku=f"K-{big}"))
    known = big - big // 2
    assert upsert_products(owner, batch) == (500, known, 0)
    products, total = list_products(owner, limit=big + 1000)
    assert total == big + 500
    by_key = {p.key: p for p in products}
    assert by_key[f"K-{big}"].title == "last one wins"
    assert (
        by_key[f"K-{big - 1}"].title == f"Q {big - 1}" and by_key[f"K-{big - 1}"].price == big - 1
    )
    assert by_key["K-0"].title == "P 0"  # untouched
    # The same keys under another owner are other products.
    assert upsert_products(other_owner, [ProductRec("Mine", sku="K-0")]) == (1, 0, 0)
    assert list_products(owner, limit=1)[1] == big + 500
    # The same rows again: nothing to write, and `updated_at` says so.
    assert upsert_products(owner, first[:10]) == (0, 0, 10)
    assert (
        by_key["K-0"].updated_at
        == next(p for p in list_products(owner, limit=big + 1000)[0] if p.key == "K-0").updated_at
    )
    # Any one value changed (NULL to a value, a list, a nested object) is an update.
    created = by_key["K-1"].created_at
    changes = [
        ProductRec("P 1", sku="K-1", price=9.5),
        ProductRec("P 2", sku="K-2", tags=["new"]),
        ProductRec("P 3", sku="K-3", variants=[{"sku": "K-3", "price": 1.0}]),
        ProductRec("P 4", sku="K-4", handle="p-4"),
        ProductRec("P 5", sku="K-5", description="Now with a description"),
        ProductRec("P 6", sku="K-6"),  # as it was
    ]
    assert upsert_products(owner, changes) == (0, 5, 1)
    assert upsert_products(owner, changes) == (0, 0, 6)
    # A value back to empty is a change too.
    assert upsert_products(owner, [ProductRec("P 2", sku="K-2")]) == (0, 1, 0)
    assert upsert_products(owner, [ProductRec("Again", sku="K-1", price=9.5)]) == (0, 1, 0)
    again = next(p for p in list_products(owner, limit=5)[0] if p.key == "K-1")
    assert again.title == "Again" and again.created_at == created
    assert again.updated_at > created


def test_upsert_counts_on_sqlite(services: Stack, owner: str) -> None:
    check_upsert_counts(owner, owner + "-other")
