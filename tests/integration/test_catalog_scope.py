"""Catalog search, filters and sorts, and jobs whose scope is a filter (resolved for the job's
owner when it runs) — on SQLite, and on PostgreSQL when JOBBOARD_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobboard.core.exports import export_path
from jobboard.core.product_query import (
    BadFilter,
    ProductFilter,
    count_matching,
    facet_values,
    matching_ids,
    parse_filter,
    search_products,
)
from jobboard.core.products import get_products, upsert_products
from jobboard.core.settings import get_settings, normalize_database_url
from scripts.stack import Stack
from tests.conftest import ProductRec
from tests.integration.test_ai_catalog import run_job

Rec = ProductRec
PG_URL = os.environ.get("JOBBOARD_TEST_POSTGRES_URL", "")

CATALOG = [
    Rec("Blue Cotton T-Shirt", "TS-BLUE", vendor="Acme", product_type="Shirts", price=19.5),
    Rec("Red Cotton T-Shirt", "TS-RED", vendor="Acme", product_type="Shirts", price=17.0),
    Rec("Stainless Steel Kettle", "KET-1", vendor="HomeCo", product_type="Kitchen", price=39.0),
    Rec("Ceramic Coffee Mug", "MUG-1", vendor="HomeCo", product_type="Kitchen", price=9.0),
    Rec("Crème brûlée torch", "CRM-9", vendor="Chef & Co", product_type="Kitchen"),
    Rec("Wool Socks", "SOCK-1", vendor="Trail", product_type="Socks", price=12.0),
]
HOSTILE = [
    '"',
    "'",
    "' OR 1=1 --",
    '"; DROP TABLE product; --',
    "NEAR(blue red)",
    "blue OR red",
    "title:blue",
    "*",
    "blue*",
    "-blue",
    "^blue",
    "AND",
    "(",
    ")",
    "\\",
    "%",
    "_",
    "::",
    "!&|",
    "💥",
    "\u202e",
    "a" * 200,
    "x " * 100,
]


def titles(owner: str, flt: ProductFilter, **kwargs: Any) -> list[str]:
    return [p.title for p in search_products(owner, flt, **kwargs)[0]]


def check_search(owner: str) -> None:
    """What every database must answer the same way."""
    other = owner + "-other"
    upsert_products(owner, CATALOG)
    upsert_products(other, [Rec("Blue Cotton T-Shirt", "TS-BLUE", vendor="Acme")])

    assert titles(owner, ProductFilter(q="blue")) == ["Blue Cotton T-Shirt"]
    assert set(titles(owner, ProductFilter(q="cotton t"))) == {
        "Blue Cotton T-Shirt",
        "Red Cotton T-Shirt",
    }
    assert titles(owner, ProductFilter(q="ket-1")) == ["Stainless Steel Kettle"]  # SKU
    # Words joined by punctuation are a phrase, its last word a prefix.
    assert titles(owner, ProductFilter(q="ts-blu")) == ["Blue Cotton T-Shirt"]
    assert set(titles(owner, ProductFilter(q="t-s"))) == {
        "Blue Cotton T-Shirt",
        "Red Cotton T-Shirt",
    }
    assert titles(owner, ProductFilter(q="ke-1")) == []  # "ke" is not the word "ket"
    assert titles(owner, ProductFilter(q="cotton-shirt")) == []  # not adjacent words
    assert titles(owner, ProductFilter(q="KET")) == ["Stainless Steel Kettle"]  # prefix
    assert titles(owner, ProductFilter(q="brûlée")) == ["Crème brûlée torch"]
    assert titles(owner, ProductFilter(vendor="Chef & Co")) == ["Crème brûlée torch"]
    assert titles(owner, ProductFilter(q="mug", product_type="Kitchen")) == ["Ceramic Coffee Mug"]
    assert titles(owner, ProductFilter(q="mug", product_type="Shirts")) == []
    assert titles(owner, ProductFilter(vendor="acme")) == []  # exact, as offered in the list
    # Sorts: title A–Z; price low→high with unpriced last; and the reverse.
    assert titles(owner, ProductFilter(product_type="Kitchen"), sort="title") == [
        "Ceramic Coffee Mug",
        "Crème brûlée torch",
        "Stainless Steel Kettle",
    ]
    assert titles(owner, ProductFilter(product_type="Kitchen"), sort="price") == [
        "Ceramic Coffee Mug",
        "Stainless Steel Kettle",
        "Crème brûlée torch",
    ]
    assert titles(owner, ProductFilter(), sort="price_desc")[0] == "Stainless Steel Kettle"
    assert titles(owner, ProductFilter(), sort="nonsense; DROP") == titles(owner, ProductFilter())
    # Pages and counts.
    page, total = search_products(owner, ProductFilter(), sort="title", offset=2, limit=2)
    assert total == len(CATALOG) and [p.title for p in page] == [
        "Crème brûlée torch",
        "Red Cotton T-Shirt",
    ]
    # Price order pages across the priced / unpriced boundary the same as in one go.
    for sort in ("price", "price_desc"):
        whole = titles(owner, ProductFilter(), sort=sort, limit=100)
        paged = [
            t
            for n in range(0, 8, 2)
            for t in titles(owner, ProductFilter(), sort=sort, offset=n, limit=2)
        ]
        assert paged[: len(whole)] == whole and whole[-1] == "Crème brûlée torch", sort
    assert count_matching(owner, ProductFilter(vendor="HomeCo")) == 2
    assert count_matching(owner, ProductFilter(), cap=3) == 4  # "more than 3"
    assert facet_values(owner, "vendor") == ["Acme", "Chef & Co", "HomeCo", "Trail"]
    assert facet_values(owner, "category") == []
    # Another owner's products never appear, whatever is searched.
    assert len(matching_ids(owner, ProductFilter(q="blue"))) == 1
    assert count_matching(other, ProductFilter(q="kettle")) == 0
    # The index follows renames and deletes (SQLite: triggers; PostgreSQL: the GIN index).
    upsert_products(owner, [Rec("Merino Socks", "SOCK-1", vendor="Trail", product_type="Socks")])
    assert titles(owner, ProductFilter(q="merino")) == ["Merino Socks"]
    assert titles(owner, ProductFilter(q="wool")) == []
    # Hostile searches give results (maybe none), never an error.
    for q in HOSTILE:
        flt = parse_filter({"q": q})
        found, total = search_products(owner, flt)
        assert total == len(found) <= len(CATALOG), q
        search_products(owner, parse_filter({"vendor": q[:255], "category": q[:255]}))


def test_search_filters_and_sorts_on_sqlite(services: Stack, owner: str) -> None:
    check_search(owner)


def test_sqlite_large_match_sets_page_like_small_ones(
    services: Stack, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_large_match_sets(owner, monkeypatch)


def check_large_match_sets(owner: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A search matching more than SORT_ALL_MAX products walks the sort's index and tests
    each row; it must give the very pages and totals that reading and sorting every match
    gives, for every sort, filter, page and count cap."""
    from jobboard.core import product_query

    colors, nouns = ["Red", "Blue", "Green"], ["Kettle", "Mug", "Shirt", "Sock"]
    recs = [
        Rec(
            f"{colors[i % 3]} {nouns[i % 4]} {i}",
            f"SKU-{i:04d}",
            vendor=f"V{i % 5}",
            product_type=nouns[i % 4],
            price=None if i % 7 == 0 else float((i * 37) % 50),
        )
        for i in range(120)
    ]
    upsert_products(owner, recs)
    upsert_products(owner + "-other", recs[:40])  # other owners' matches are skipped
    # A rename moves a product in "recently updated" order away from id order.
    upsert_products(owner, [Rec("Blue Kettle renamed", "SKU-0003", vendor="V3", price=5.0)])
    cases = [
        ProductFilter(q="kettle"),
        ProductFilter(q="blue"),
        ProductFilter(q="bl k"),
        ProductFilter(q="sku"),
        ProductFilter(q="sku-001"),
        ProductFilter(q="red", vendor="V2"),
        ProductFilter(q="shirt", product_type="Shirt"),
        ProductFilter(q="zzz"),
    ]
    for flt in cases:
        for sort in ("updated", "title", "price", "price_desc"):
            for offset, limit, cap in ((0, 5, None), (5, 7, None), (0, 5, 3), (30, 10, 20)):
                args = {"sort": sort, "offset": offset, "limit": limit, "count_cap": cap}
                for name in ("SORT_ALL_MAX", "PG_SORT_ALL_MAX"):  # SQLite's, PostgreSQL's
                    monkeypatch.setattr(product_query, name, 10_000)
                small, small_total = search_products(owner, flt, **args)
                for name in ("SORT_ALL_MAX", "PG_SORT_ALL_MAX"):
                    monkeypatch.setattr(product_query, name, 0)
                big, big_total = search_products(owner, flt, **args)
                assert [p.id for p in big] == [p.id for p in small], (flt, args)
                assert big_total == small_total, (flt, args)


@pytest.fixture
def postgres() -> Iterator[None]:
    """This process talks to a fresh, migrated PostgreSQL database for the test."""
    if not PG_URL:
        pytest.skip("JOBBOARD_TEST_POSTGRES_URL is not set")
    import psycopg

    from jobboard.core.db import _engine_for, migrate

    name = f"jobboard_test_{uuid.uuid4().hex[:10]}"
    admin_url = normalize_database_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = normalize_database_url(admin_url.rsplit("/", 1)[0] + "/" + name)
    before = os.environ.get("DATABASE_URL", "")
    os.environ["DATABASE_URL"] = db_url
    get_settings.cache_clear()
    try:
        migrate()
        yield
    finally:
        os.environ["DATABASE_URL"] = before
        get_settings.cache_clear()
        _engine_for(db_url).dispose()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_search_filters_and_sorts_on_postgres(postgres: None, owner: str) -> None:
    assert get_settings().database_url.startswith("postgresql")
    check_search(owner)


@pytest.mark.postgres
def test_postgres_large_match_sets_page_like_small_ones(
    postgres: None, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert get_settings().database_url.startswith("postgresql")
    check_large_match_sets(owner, monkeypatch)


@pytest.mark.parametrize(
    "raw",
    [
        "q=blue",
        ["q"],
        {"owner_id": "someone-else"},
        {"q": 5},
        {"vendor": ["Acme"]},
        {"q": "a\x00b"},
        {"q": "x" * 201},
        {"category": "c" * 256},
    ],
)
def test_bad_filters_are_refused_with_a_message(raw: Any) -> None:
    with pytest.raises(BadFilter) as err:
        parse_filter(raw)
    assert str(err.value).startswith(("the product filter", "unknown product filter"))


# --------------------------------------------------------------------------- jobs over a scope


def seed(owner: str) -> dict[str, int]:
    upsert_products(owner, CATALOG)
    upsert_products(owner + "-other", [Rec("Enamel Kettle", "KET-2", product_type="Kitchen")])
    return {p.title: p.id for p in get_products(owner)}  # type: ignore[misc]


def test_categorize_runs_over_exactly_the_filter(services: Stack, owner: str) -> None:
    ids = seed(owner)
    params = {"product_ids": None, "filter": {"product_type": "Kitchen"}, "categories": ["A", "B"]}
    job = run_job(owner, "auto_categorize", params)
    assert job["status"] == "completed", job["error_data"]
    got = {a["product_id"] for a in job["result_data"]["assignments"]}
    assert got == {
        ids[t] for t in ("Stainless Steel Kettle", "Ceramic Coffee Mug", "Crème brûlée torch")
    }
    # A search that matches nothing says so.
    empty = {"filter": {"q": "zzz"}, "categories": ["A", "B"], "product_ids": None}
    job = run_job(owner, "auto_categorize", empty)
    assert job["status"] == "failed"
    assert "no products matching “zzz”" in job["error_data"]["message"]
    # A hostile filter in the params fails the job with a message (the API refuses it earlier).
    bad = {"filter": {"q": 5}, "categories": ["A", "B"], "product_ids": None}
    job = run_job(owner, "auto_categorize", bad)
    assert job["status"] == "failed" and "must be text" in job["error_data"]["message"]


def test_duplicates_and_export_honour_the_filter(services: Stack, owner: str) -> None:
    seed(owner)
    job = run_job(owner, "find_duplicates", {"product_ids": None, "filter": {"q": "cotton"}})
    assert job["status"] == "completed", job["error_data"]
    assert job["result_data"]["compared"] == 2

    job = run_job(owner, "export_catalog", {"format": "plain", "filter": {"vendor": "HomeCo"}})
    assert job["status"] == "completed", job["error_data"]
    with export_path(job["id"]).open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["title"] for r in rows) == ["Ceramic Coffee Mug", "Stainless Steel Kettle"]


def test_auto_match_honours_the_scope(services: Stack, owner: str, upload_file: Any) -> None:
    seed(owner)
    path: Path = upload_file("supplier.csv", b"sku,title\nKET-1,Kettle\nTS-RED,Red tee\n")
    params = {"path": str(path), "filename": "supplier.csv", "filter": {"product_type": "Kitchen"}}
    job = run_job(owner, "auto_match", params)
    assert job["status"] == "completed", job["error_data"]
    result = job["result_data"]
    assert result["catalog_products"] == 3  # the three kitchen products, not the whole catalog
    assert [m["sku"] for m in result["matched"]] == ["KET-1"]  # TS-RED is out of scope
