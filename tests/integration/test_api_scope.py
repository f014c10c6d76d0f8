"""REST v1: the submit routes take a product filter as the scope, resolved for the caller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from jobboard.core.db import session_scope
from jobboard.core.models import Job
from jobboard.core.products import get_products, upsert_products
from tests.conftest import ProductRec
from tests.integration import test_api_v1 as api
from tests.integration.test_api_v1 import accepted, follow

# The REST tests' fixtures: clients with a token of a fresh user each.
connect, alice, bob = api.connect, api.alice, api.bob
someone_signed_up_first = api.someone_signed_up_first


def seed(owner: str) -> dict[str, int]:
    upsert_products(
        owner,
        [
            ProductRec("Blue Shirt", "S-1", vendor="Acme"),
            ProductRec("Red Shirt", "S-2", vendor="Acme"),
            ProductRec("Kettle", "K-1", vendor="HomeCo"),
        ],
    )
    return {p.title: p.id for p in get_products(owner)}  # type: ignore[misc]


def params_of(job_id: str) -> dict[str, Any]:
    with session_scope() as session:
        return dict(session.get(Job, job_id).params)  # type: ignore[union-attr]


def test_a_filter_is_the_scope(alice: httpx.Client, bob: httpx.Client, tmp_path: Path) -> None:
    ids = seed(alice.user.id)  # type: ignore[attr-defined]
    seed(bob.user.id)  # type: ignore[attr-defined]
    body = {"categories": ["Shirts", "Kitchen"], "filter": {"q": "shirt"}}
    job_id = accepted(alice.post("/api/v1/auto-categorize-job", json=body))
    assert params_of(job_id)["filter"] == {"q": "shirt"}
    job = follow(alice, job_id)
    assert job["status"] == "completed", job["error_data"]
    assert job["title"] == "Auto-categorize into 2 categories (2 products matching “shirt”)"
    got = {a["product_id"] for a in job["result_data"]["assignments"]}
    assert got == {ids["Blue Shirt"], ids["Red Shirt"]}  # alice's, never bob's

    export = {"format": "plain", "filter": {"vendor": "HomeCo"}}
    job = follow(alice, accepted(alice.post("/api/v1/export-catalog-job", json=export)))
    assert job["status"] == "completed" and job["result_data"]["products"] == 1

    supplier = tmp_path / "scope.csv"
    supplier.write_text("sku,title\nK-1,Kettle\nS-1,Blue Shirt\n")
    with supplier.open("rb") as f:
        files = {"file": ("scope.csv", f, "text/csv")}
        match_id = accepted(
            alice.post("/api/v1/auto-match-job", files=files, data={"vendor": "HomeCo"})
        )
    match = follow(alice, match_id)
    assert match["status"] == "completed", match["error_data"]
    assert match["result_data"]["catalog_products"] == 1
    assert [m["sku"] for m in match["result_data"]["matched"]] == ["K-1"]


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("find-duplicates-job", {"filter": {"q": 5}}),
        ("find-duplicates-job", {"filter": {"owner_id": "someone-else"}}),
        ("find-duplicates-job", {"filter": "q=shirt"}),
        ("find-duplicates-job", {"filter": {"q": "x" * 201}}),
        ("find-duplicates-job", {"filter": {"vendor": "a\u0000b"}}),
        ("find-duplicates-job", {"product_ids": [1], "filter": {"q": "shirt"}}),
        ("auto-categorize-job", {"categories": ["A", "B"], "filter": {"category": "c" * 256}}),
        ("describe-products-job", {"filter": {}}),
        ("export-catalog-job", {"filter": {"q": ["a"]}}),
    ],
)
def test_hostile_filters_are_refused(alice: httpx.Client, route: str, body: Any) -> None:
    response = alice.post(f"/api/v1/{route}", json=body)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("q", ['"; DROP TABLE product; --', "NEAR(a b)", "*", "💥", "' OR 1=1"])
def test_hostile_searches_run_and_match_nothing(alice: httpx.Client, q: str) -> None:
    seed(alice.user.id)  # type: ignore[attr-defined]
    body = {"filter": {"q": q}}
    job = follow(alice, accepted(alice.post("/api/v1/find-duplicates-job", json=body)))
    assert job["status"] == "failed"
    assert job["error_data"]["message"].startswith("no products matching")


def test_review_apply_and_undo_over_rest(alice: httpx.Client, bob: httpx.Client) -> None:
    from tests.integration.test_review_apply import categorize_job
    from tests.integration.test_review_apply import seed as seed_bags

    owner = alice.user.id  # type: ignore[attr-defined]
    ids = seed_bags(owner)
    job_id = categorize_job(owner, ids)
    body = {"accepted": [ids["Backpack"], ids["Wallet"]], "changes": {str(ids["Wallet"]): "Bags"}}
    assert bob.post(f"/api/v1/jobs/{job_id}/apply", json=body).status_code == 404
    assert bob.post(f"/api/v1/jobs/{job_id}/undo-apply").status_code == 404
    bad = {"accepted": [ids["Backpack"]], "changes": {str(ids["Backpack"]): "Shoes"}}
    refused = alice.post(f"/api/v1/jobs/{job_id}/apply", json=bad)
    assert refused.status_code == 422 and "not one of this job's categories" in refused.text
    assert alice.post(f"/api/v1/jobs/{job_id}/apply", json={"accepted": []}).status_code == 422

    response = alice.post(f"/api/v1/jobs/{job_id}/apply", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"changed": 2, "skipped": 0}
    assert {p.title: p.category for p in get_products(owner)}["Wallet"] == "Bags"
    undone = alice.post(f"/api/v1/jobs/{job_id}/undo-apply")
    assert undone.status_code == 200 and undone.json() == {"restored": 2, "kept": 0}
    assert {p.category for p in get_products(owner)} == {""}
    assert alice.post(f"/api/v1/jobs/{job_id}/undo-apply").status_code == 409
