"""Offline AI catalog jobs through the real path: submit → "ai" queue → rq worker → result."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jobboard.core import jobs
from jobboard.core.products import get_products, upsert_products
from scripts.stack import Stack
from tests.conftest import ProductRec, job_events, wait_for

Rec = ProductRec


def seed(owner: str, records: list[Rec]) -> dict[str, int]:
    """Insert the products; returns title -> id (titles are unique in these catalogs)."""
    upsert_products(owner, records)
    return {p.title: p.id for p in get_products(owner)}  # type: ignore[misc]


def run_job(owner: str, kind: str, params: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    job = jobs.submit(kind, owner_id=owner, title=kind, params=params)
    return wait_for(
        lambda: (j := jobs.get_job(job.id, owner)) and j["status"] in jobs.JobStatus.TERMINAL and j,
        timeout,
        f"{kind} job {job.id} to finish",
    )


@pytest.fixture
def steps_seen(services: Stack, owner: str) -> Iterator[list[dict[str, Any]]]:
    """Progress data of every event published for the owner while the test runs."""
    with job_events(owner, lambda event: event["job"]["progress_data"]) as seen:
        yield seen


def step_texts(seen: list[dict[str, Any]]) -> list[str]:
    """Step texts of the events seen, once the final one ("Completed") has arrived."""
    wait_for(lambda: any(p.get("current_step") == "Completed" for p in seen), 5, "the last event")
    return [p.get("current_step", "") for p in seen]


CATALOG = [
    Rec("Blue Cotton T-Shirt", "TS-BLUE", vendor="Acme", description="<p>A soft tee.</p>"),
    Rec("T-Shirt, cotton, blue", "IMPORT-77", vendor="Acme"),
    Rec("Red Cotton T-Shirt", "TS-RED", vendor="Acme"),
    Rec("Stainless Steel Electric Kettle 1.7L", "KET-1", vendor="HomeCo"),
    Rec("Men's Leather Running Shoes", "SHOE-1", vendor="Stride"),
    Rec("Ceramic Coffee Mug", "MUG-1", vendor="HomeCo"),
    Rec("Wool Socks", "SOCK-1", vendor="Trail"),
    Rec("Hiking socks, merino, 3-pack", "sock-1 ", key="socks-pack", vendor="Trail"),
]


# --------------------------------------------------------------------------- #
# find_duplicates
# --------------------------------------------------------------------------- #


def test_find_duplicates_groups_near_identical_products_only(
    owner: str, steps_seen: list[dict[str, Any]]
) -> None:
    ids = seed(owner, CATALOG)
    job = run_job(owner, "find_duplicates", {"product_ids": None})
    assert job["status"] == "completed", job["error_data"]
    result = job["result_data"]
    assert result["compared"] == len(CATALOG) and result["threshold"] == 0.88
    groups = {frozenset(p["id"] for p in g["products"]): g for g in result["groups"]}
    tees = frozenset({ids["Blue Cotton T-Shirt"], ids["T-Shirt, cotton, blue"]})
    socks = frozenset({ids["Wool Socks"], ids["Hiking socks, merino, 3-pack"]})
    assert set(groups) == {tees, socks}, result["groups"]
    assert groups[socks]["score"] == 1.0  # same SKU once trimmed and casefolded
    assert 0.88 <= groups[tees]["score"] <= 1.0
    assert result["groups_total"] == 2
    assert result["groups"][0]["score"] >= result["groups"][1]["score"]
    tee = next(p for p in groups[tees]["products"] if p["id"] == ids["Blue Cotton T-Shirt"])
    assert tee == {
        "id": tee["id"],
        "title": "Blue Cotton T-Shirt",
        "sku": "TS-BLUE",
        "vendor": "Acme",
    }

    final = job["progress_data"]
    # Counted in the unit of the last step (products compared), not in summed work units.
    assert final["percentage"] == 100 and final["processed"] == final["total"] == len(CATALOG)
    assert final["unit"] == "products"
    # Numbers agree: a step that says "X of N" counts X of N; the percentage never goes back.
    for event in steps_seen:
        said = re.search(r"(\d[\d,]*) of (\d[\d,]*)$", event.get("current_step") or "")
        if said:
            x, n = (int(v.replace(",", "")) for v in said.groups())
            assert (event["processed"], event["total"]) == (x, n), event
    percentages = [e["percentage"] for e in steps_seen]
    assert percentages == sorted(percentages), percentages
    steps = step_texts(steps_seen)
    for expected in (
        "Loading products",
        "Loading the model",
        "Embedding 8 products",
        "Comparing products",
        "Grouping duplicates",
    ):
        assert expected in steps
    percentages = [p["percentage"] for p in steps_seen if p.get("percentage") is not None]
    assert percentages == sorted(percentages) and percentages[-1] == 100


def test_find_duplicates_on_a_selection_and_a_stricter_threshold(owner: str) -> None:
    ids = seed(owner, CATALOG)
    chosen = [ids["Blue Cotton T-Shirt"], ids["T-Shirt, cotton, blue"], ids["Ceramic Coffee Mug"]]
    job = run_job(owner, "find_duplicates", {"product_ids": chosen, "threshold": 0.9})
    assert job["status"] == "completed", job["error_data"]
    result = job["result_data"]
    assert result["compared"] == 3 and result["threshold"] == 0.9
    assert [sorted(p["id"] for p in g["products"]) for g in result["groups"]] == [
        sorted(chosen[:2])
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"threshold": "high"}, "threshold must be a number from 0.5 to 1"),
        ({"threshold": 0.2}, "threshold must be a number from 0.5 to 1"),
        ({"product_ids": []}, "no products were selected"),
        ({"product_ids": ["x"]}, "'x' is not a product id"),
        ({"product_ids": [987654321]}, "none of the selected products are in the catalog"),
    ],
)
def test_find_duplicates_rejects_bad_parameters(
    owner: str, params: dict[str, Any], message: str
) -> None:
    seed(owner, CATALOG[:2])
    job = run_job(owner, "find_duplicates", params)
    assert job["status"] == "failed"
    assert message in job["error_data"]["message"]


def test_find_duplicates_on_an_empty_catalog_fails_clearly(owner: str) -> None:
    job = run_job(owner, "find_duplicates", {})
    assert job["status"] == "failed"
    assert job["error_data"]["message"] == "the catalog has no products to compare"

    seed(owner, CATALOG[:1])
    job = run_job(owner, "find_duplicates", {})
    assert job["status"] == "failed"
    assert job["error_data"]["message"] == (
        "the catalog has only 1 product; at least 2 are needed to compare"
    )


# --------------------------------------------------------------------------- #
# auto_categorize
# --------------------------------------------------------------------------- #

OBVIOUS = {
    "Blue Cotton T-Shirt": "Shirts",
    "Linen Button-Down Shirt": "Shirts",
    "Oxford dress shirt, white": "Shirts",
    "Stainless Steel Electric Kettle 1.7L": "Kitchen",
    "Chef's Knife 8 inch": "Kitchen",
    "Non-stick Frying Pan 28cm": "Kitchen",
    "Men's Leather Running Shoes": "Shoes",
    "Women's Canvas Sneakers": "Shoes",
    "Suede Loafers": "Shoes",
}


def test_auto_categorize_assigns_obvious_products(
    owner: str, steps_seen: list[dict[str, Any]]
) -> None:
    ids = seed(owner, [Rec(title, f"SKU-{n}", vendor="Acme") for n, title in enumerate(OBVIOUS)])
    params = {"product_ids": None, "categories": ["Shirts", " Kitchen ", "", "Shoes", "shoes"]}
    job = run_job(owner, "auto_categorize", params)
    assert job["status"] == "completed", job["error_data"]
    result = job["result_data"]
    assert result["categories"] == ["Shirts", "Kitchen", "Shoes"]  # blanks and repeats dropped
    got = {a["title"]: a["category"] for a in result["assignments"]}
    assert got == OBVIOUS
    assert result["counts"] == {"Shirts": 3, "Kitchen": 3, "Shoes": 3}
    for a in result["assignments"]:
        assert a["product_id"] == ids[a["title"]]
        assert 1 / 3 < a["confidence"] <= 1.0
    # Nothing is written to the catalog: the user applies the categories.
    assert all(p.category == "" for p in get_products(owner))
    steps = step_texts(steps_seen)
    assert "Embedding 9 products" in steps and "Assigning categories" in steps
    assert job["progress_data"]["processed"] == job["progress_data"]["total"] == len(OBVIOUS)


@pytest.mark.parametrize(
    ("categories", "message"),
    [
        (["Shirts"], "enter at least 2 different categories"),
        (["Shirts", "shirts ", "  "], "enter at least 2 different categories"),
        ([f"C{n}" for n in range(51)], "at most 50 categories"),
        (None, "enter the categories to choose from"),
        (["Shirts", 3], "3 is not a category name"),
    ],
)
def test_auto_categorize_rejects_bad_categories(owner: str, categories: Any, message: str) -> None:
    seed(owner, CATALOG[:2])
    job = run_job(owner, "auto_categorize", {"categories": categories})
    assert job["status"] == "failed"
    assert message in job["error_data"]["message"]


def test_auto_categorize_on_an_empty_catalog_fails_clearly(owner: str) -> None:
    job = run_job(owner, "auto_categorize", {"categories": ["A", "B"]})
    assert job["status"] == "failed"
    assert job["error_data"]["message"] == "the catalog has no products to categorize"


# --------------------------------------------------------------------------- #
# auto_match
# --------------------------------------------------------------------------- #

MATCH_CATALOG = [
    *CATALOG[:6],
    Rec("Classic Hoodie", "HOOD-BLK", key="hoodie-black"),
    Rec("Classic Hoodie", "HOOD-NVY", key="hoodie-navy"),
]

MATCH_FILE = b"""sku,title,price
 ts-blue ,Some renamed shirt,19.90
NEW-1,"Electric Kettle, Stainless Steel 1.7L",39.00
NEW-2,Garden Hose 20m,25.00
NEW-3,Classic Hoodie,45.00
NEW-4,Broken price row,abc
NEW-5,"Running shoes, leather, men's",89.00
"""


def test_auto_match_by_sku_by_title_ambiguous_and_unmatched(
    owner: str, upload_file: Callable[[str, bytes], Path], steps_seen: list[dict[str, Any]]
) -> None:
    upsert_products(owner, MATCH_CATALOG)
    by_sku = {p.sku: p.id for p in get_products(owner)}
    path = upload_file("supplier.csv", MATCH_FILE)
    job = run_job(owner, "auto_match", {"path": str(path), "filename": "supplier.csv"})
    assert job["status"] == "completed", job["error_data"]
    result = job["result_data"]
    assert result["filename"] == "supplier.csv"
    assert result["rows"] == 6
    assert (result["matched_count"], result["ambiguous_count"], result["unmatched_count"]) == (
        3,
        1,
        2,
    )
    matched = {m["row"]: m for m in result["matched"]}
    assert matched[2] == {
        "row": 2,
        "sku": "ts-blue",
        "title": "Some renamed shirt",
        "product_id": by_sku["TS-BLUE"],
        "product_title": "Blue Cotton T-Shirt",
        "method": "sku",
        "score": 1.0,
    }
    assert matched[3]["product_id"] == by_sku["KET-1"] and matched[3]["method"] == "semantic"
    assert matched[3]["score"] >= 0.85
    assert matched[7]["product_id"] == by_sku["SHOE-1"] and matched[7]["method"] == "semantic"

    (hoodie,) = result["ambiguous"]
    assert hoodie["row"] == 5 and hoodie["title"] == "Classic Hoodie"
    assert {c["product_id"] for c in hoodie["candidates"][:2]} == {
        by_sku["HOOD-BLK"],
        by_sku["HOOD-NVY"],
    }
    assert len(hoodie["candidates"]) == 3
    assert [c["score"] for c in hoodie["candidates"]] == sorted(
        (c["score"] for c in hoodie["candidates"]), reverse=True
    )

    unmatched = {u["row"]: u for u in result["unmatched"]}
    assert unmatched[4]["title"] == "Garden Hose 20m" and unmatched[4]["sku"] == "NEW-2"
    assert "no product with a similar title" in unmatched[4]["reason"]
    assert unmatched[6]["title"] is None and "abc" in unmatched[6]["reason"]

    steps = step_texts(steps_seen)
    for expected in (
        "Reading rows",
        "Loading the model",
        "Embedding the catalog (8 products)",
        "Matching 4 rows by title",
    ):
        assert expected in steps
    final = job["progress_data"]
    assert final["percentage"] == 100
    # The count is the file's rows, not rows + catalog + rows in summed work units.
    assert final["processed"] == final["total"] == 6 and final["unit"] == "rows"


def test_auto_match_everything_by_sku_skips_the_model(
    owner: str, upload_file: Callable[[str, bytes], Path], steps_seen: list[dict[str, Any]]
) -> None:
    upsert_products(owner, CATALOG[:3])
    path = upload_file("skus.csv", b"sku,title\nTS-RED,x\nts-blue,y\n")
    job = run_job(owner, "auto_match", {"path": str(path), "filename": "skus.csv"})
    assert job["status"] == "completed", job["error_data"]
    assert job["result_data"]["matched_count"] == 2
    assert all(m["method"] == "sku" for m in job["result_data"]["matched"])
    assert "Loading the model" not in step_texts(steps_seen)


def test_auto_match_bad_inputs_fail_with_a_message(
    owner: str, upload_file: Callable[[str, bytes], Path]
) -> None:
    upsert_products(owner, CATALOG[:2])
    gone = run_job(owner, "auto_match", {"path": "/nonexistent/f.csv", "filename": "f.csv"})
    assert gone["status"] == "failed"
    assert gone["error_data"]["message"] == "the uploaded file f.csv is no longer on the server"

    empty = upload_file("empty.csv", b"")
    rejected = run_job(owner, "auto_match", {"path": str(empty), "filename": "empty.csv"})
    assert rejected["status"] == "failed"
    assert rejected["error_data"]["message"] == "empty.csv is empty"


def test_auto_match_against_an_empty_catalog_fails_clearly(
    owner: str, upload_file: Callable[[str, bytes], Path]
) -> None:
    path = upload_file("f.csv", b"sku,title\nA,B\n")
    job = run_job(owner, "auto_match", {"path": str(path), "filename": "f.csv"})
    assert job["status"] == "failed"
    assert job["error_data"]["message"] == "the catalog has no products to match the file against"
