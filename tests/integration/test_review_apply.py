"""Review before apply: only accepted rows reach the catalog, changes are checked against the
job's result, the last apply can be undone, and another user's job is "not found"."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from jobboard.core.db import session_scope
from jobboard.core.models import Job, JobStatus, utcnow
from jobboard.core.products import get_products, upsert_products
from jobboard.core.reviews import (
    ReviewError,
    apply_reviewed,
    last_apply,
    proposals,
    undo_last_apply,
)
from scripts.stack import Stack
from tests.conftest import ProductRec
from tests.integration.test_catalog_scope import postgres  # noqa: F401 (fixture)


def categorize_job(owner: str, ids: dict[str, int], status: str = JobStatus.COMPLETED) -> str:
    """A finished auto-categorize job as the worker leaves it."""
    rows = [("Backpack", "Bags", 0.954), ("Wallet", "Wallets", 0.91), ("Tote", "Bags", 0.62)]
    job = Job(
        id=str(uuid.uuid4()),
        owner_id=owner,
        kind="auto_categorize",
        title="Auto-categorize",
        status=status,
        params={},
        result_data={
            "categories": ["Bags", "Wallets"],
            "assignments": [
                {"product_id": ids[t], "title": t, "category": c, "confidence": conf}
                for t, c, conf in rows
            ],
        },
        completed_at=utcnow(),
    )
    with session_scope() as session:
        session.add(job)
    return job.id


def seed(owner: str) -> dict[str, int]:
    upsert_products(owner, [ProductRec(t, sku=t.upper()) for t in ("Backpack", "Wallet", "Tote")])
    return {p.title: p.id for p in get_products(owner)}  # type: ignore[misc]


def categories(owner: str) -> dict[str, str]:
    return {p.title: p.category for p in get_products(owner)}


def check_apply_and_undo(owner: str) -> None:
    ids = seed(owner)
    job_id = categorize_job(owner, ids)
    assert [p.confidence for p in proposals(_result(job_id), "auto_categorize")] == [
        0.954,
        0.91,
        0.62,
    ]
    # Accept the backpack, change the wallet's category, leave the tote (below 0.7) alone.
    done = apply_reviewed(owner, job_id, [ids["Backpack"], ids["Wallet"]], {ids["Wallet"]: "Bags"})
    assert (done.changed, done.skipped) == (2, 0)
    assert categories(owner) == {"Backpack": "Bags", "Wallet": "Bags", "Tote": ""}
    assert last_apply(owner, job_id) is not None

    # A second apply, then undo: only the second is undone.
    apply_reviewed(owner, job_id, [ids["Tote"]], {})
    assert categories(owner)["Tote"] == "Bags"
    assert undo_last_apply(owner, job_id) == (1, 0)
    assert categories(owner) == {"Backpack": "Bags", "Wallet": "Bags", "Tote": ""}

    # Undo keeps a value changed since the apply.
    apply_reviewed(owner, job_id, [ids["Tote"]], {ids["Tote"]: "Wallets"})
    prior = undo_last_apply(owner, job_id)  # the Tote back to ""
    assert prior == (1, 0)
    assert undo_last_apply(owner, job_id) == (2, 0)  # the first apply
    assert categories(owner) == {"Backpack": "", "Wallet": "", "Tote": ""}
    with pytest.raises(ReviewError, match="nothing to undo"):
        undo_last_apply(owner, job_id)


def _result(job_id: str) -> dict[str, Any]:
    with session_scope() as session:
        return session.get(Job, job_id).result_data  # type: ignore[union-attr,return-value]


def test_apply_and_undo_on_sqlite(services: Stack, owner: str) -> None:
    check_apply_and_undo(owner)


@pytest.mark.postgres
def test_apply_and_undo_on_postgres(postgres: None, owner: str) -> None:  # noqa: F811
    check_apply_and_undo(owner)


def test_undo_keeps_later_edits(services: Stack, owner: str) -> None:
    ids = seed(owner)
    job_id = categorize_job(owner, ids)
    apply_reviewed(owner, job_id, [ids["Backpack"], ids["Wallet"]], {})
    other = categorize_job(owner, ids)  # a later job changes the wallet again
    apply_reviewed(owner, other, [ids["Wallet"]], {ids["Wallet"]: "Bags"})
    assert undo_last_apply(owner, job_id) == (1, 1)
    assert categories(owner) == {"Backpack": "", "Wallet": "Bags", "Tote": ""}


@pytest.mark.parametrize(
    ("accepted", "changes", "message"),
    [
        ([], {}, "Accept at least one row"),
        ([999_999], {}, "not part of this job"),
        (["Backpack"], {"Backpack": "Shoes"}, "not one of this job's categories"),
        (["Backpack"], {"Backpack": "'; DROP TABLE product; --"}, "not one of this job's"),
    ],
)
def test_bad_decisions_change_nothing(
    services: Stack, owner: str, accepted: list[Any], changes: dict[Any, str], message: str
) -> None:
    ids = seed(owner)
    job_id = categorize_job(owner, ids)
    resolve = lambda x: ids.get(x, x) if isinstance(x, str) else x  # noqa: E731
    with pytest.raises(ReviewError, match=message):
        apply_reviewed(
            owner,
            job_id,
            [resolve(a) for a in accepted],
            {resolve(k): v for k, v in changes.items()},
        )
    assert set(categories(owner).values()) == {""}
    assert last_apply(owner, job_id) is None


def test_another_users_job_is_not_found(services: Stack, owner: str) -> None:
    ids = seed(owner)
    job_id = categorize_job(owner, ids)
    intruder = owner + "-intruder"
    with pytest.raises(ReviewError, match="No such job"):
        apply_reviewed(intruder, job_id, [ids["Backpack"]], {})
    apply_reviewed(owner, job_id, [ids["Backpack"]], {})
    with pytest.raises(ReviewError, match="No such job"):
        undo_last_apply(intruder, job_id)
    assert last_apply(intruder, job_id) is None
    assert categories(owner)["Backpack"] == "Bags"


def test_a_running_job_cannot_be_applied(services: Stack, owner: str) -> None:
    ids = seed(owner)
    job_id = categorize_job(owner, ids, status=JobStatus.PROCESSING)
    with pytest.raises(ReviewError, match="Wait until the job has ended"):
        apply_reviewed(owner, job_id, [ids["Backpack"]], {})


def test_descriptions_apply_as_edited(services: Stack, owner: str) -> None:
    ids = seed(owner)
    job = Job(
        id=str(uuid.uuid4()),
        owner_id=owner,
        kind="describe_products",
        title="Write descriptions for 2 products",
        status=JobStatus.COMPLETED,
        params={},
        result_data={
            "descriptions": [
                {"product_id": ids["Backpack"], "title": "Backpack", "description": "Roomy."},
                {"product_id": ids["Tote"], "title": "Tote", "description": "A tote."},
            ]
        },
    )
    with session_scope() as session:
        session.add(job)
    with pytest.raises(ReviewError, match="cannot be empty"):
        apply_reviewed(owner, job.id, [ids["Backpack"]], {ids["Backpack"]: "   "})
    done = apply_reviewed(owner, job.id, [ids["Backpack"]], {ids["Backpack"]: "Roomy, 20 L."})
    assert done.changed == 1
    described = {p.title: p.description for p in get_products(owner)}
    assert described == {"Backpack": "Roomy, 20 L.", "Wallet": "", "Tote": ""}
    assert undo_last_apply(owner, job.id) == (1, 0)
    assert {p.description for p in get_products(owner)} == {""}
