"""Honest outcomes: partial results say so, and Retry is offered only where it can help."""

from __future__ import annotations

import pytest

from jobboard.core.format import count, human_size, plural, price, progress_counts
from jobboard.core.jobs import failed_step
from jobboard.core.notices import ending_notice
from jobboard.core.outcome import outcome_of


def test_completed_with_skipped_rows_is_a_warning() -> None:
    outcome = outcome_of("completed", {"imported": 31, "skipped": 9, "failed_rows": [2]}, None)
    assert outcome.label == "completed · 9 skipped" and outcome.tone == "warning"
    assert not outcome.can_retry and not outcome.can_retry_failed  # invalid rows stay invalid


def test_completed_cleanly_is_a_success() -> None:
    outcome = outcome_of("completed", {"imported": 40, "skipped": 0}, None)
    assert (outcome.label, outcome.tone) == ("completed", "success")


def test_failed_items_retry_only_when_their_cause_may_pass() -> None:
    failed = [
        {"product_id": 1, "error": "timed out (gave up after 4 attempts)", "retryable": True},
        {"product_id": 2, "error": "content filter", "retryable": False},
    ]
    outcome = outcome_of("completed", {"descriptions": [{}], "failed": failed}, None)
    assert outcome.label == "completed · 2 failed" and outcome.tone == "warning"
    assert outcome.retryable_items == 1 and outcome.can_retry_failed
    permanent = outcome_of("completed", {"failed": failed[1:]}, None)
    assert not permanent.can_retry_failed


@pytest.mark.parametrize(
    ("status", "error", "retried_by", "can_retry"),
    [
        ("failed", {"message": "the worker stopped", "retryable": True}, None, True),
        ("failed", {"message": "x.csv is empty", "retryable": False}, None, False),
        ("failed", {"message": "recorded before retryable existed"}, None, True),
        ("cancelled", {"message": "cancelled"}, None, True),
        ("failed", {"message": "lost", "retryable": True}, "retry-id", False),
        ("completed", None, None, False),
        ("processing", None, None, False),
    ],
)
def test_whole_job_retry(status: str, error: dict, retried_by: str | None, can_retry: bool) -> None:
    assert outcome_of(status, None, error, retried_by).can_retry is can_retry


def test_a_retried_job_offers_no_retry_of_its_items_either() -> None:
    result = {"failed": [{"product_id": 1, "error": "busy", "retryable": True}]}
    assert not outcome_of("completed", result, None, "retry-id").can_retry_failed


def test_notice_of_a_partial_upload() -> None:
    job = {
        "id": "j",
        "kind": "product_upload",
        "title": "shop.csv",
        "status": "completed",
        "result_data": {"imported": 31, "updated": 0, "skipped": 9},
    }
    notice = ending_notice(job)
    assert notice is not None and notice.level == "warning"
    assert notice.title == "Upload finished · 9 skipped"
    assert notice.body.startswith("31 products imported from shop.csv (9 skipped)")


def test_notice_of_a_reimport_leads_with_the_updates() -> None:
    job = {
        "id": "j",
        "kind": "product_upload",
        "title": "shop.csv",
        "status": "completed",
        "result_data": {"imported": 0, "updated": 31, "skipped": 9},
    }
    notice = ending_notice(job)
    assert notice is not None
    assert notice.body.startswith("31 products updated from shop.csv (9 skipped)")
    mixed = job | {"result_data": {"imported": 2, "updated": 29, "skipped": 0}}
    assert ending_notice(mixed).body.startswith("2 products imported from shop.csv (29 updated)")
    same = job | {"result_data": {"imported": 0, "updated": 0, "unchanged": 31, "skipped": 9}}
    assert ending_notice(same).body.startswith(
        "31 products from shop.csv already up to date (9 skipped)"
    )
    some = job | {"result_data": {"imported": 0, "updated": 2, "unchanged": 29, "skipped": 0}}
    assert ending_notice(some).body.startswith("2 products updated from shop.csv (29 unchanged)")


def test_notice_of_an_ai_job_says_what_it_did() -> None:
    job = {
        "id": "j",
        "kind": "describe_products",
        "title": "Describe 3",
        "status": "completed",
        "result_data": {
            "descriptions": [{}, {}],
            "failed": [{"product_id": 3, "error": "busy", "retryable": True}],
        },
    }
    notice = ending_notice(job)
    assert notice is not None and notice.level == "warning"
    assert notice.body == "2 descriptions written; 1 item failed"


def test_a_failed_step_says_what_failed() -> None:
    assert failed_step("Importing products") == "Failed while importing products"
    assert failed_step("Writing description 2 of 5 — AI provider busy") == (
        "Failed while writing description 2 of 5"
    )
    assert failed_step("Starting") == "Failed"
    assert failed_step(None) == "Failed"


def test_one_formatter() -> None:
    assert count(300617) == "300,617" and count(None) == "0"
    assert plural(1, "product") == "1 product" and plural(9000, "row") == "9,000 rows"
    assert progress_counts(75999, 300000) == "75,999 / 300,000"
    assert progress_counts(5, None) == ""
    assert human_size(1536 * 1024) == "1.5 MB" and price(1234.5) == "1,234.50"
