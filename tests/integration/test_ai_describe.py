"""Describe products through the real path: submit → Redis → rq worker process → AI provider.

The provider is tests/fake_openai.py on 127.0.0.1; the worker only knows it from its
environment, so these tests run their own stack (Redis, database, one worker) whose
environment names the fake server. Real providers are never called.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobboard.core import jobs
from jobboard.core.products import get_products, upsert_products
from scripts.stack import Stack
from tests.conftest import isolated_stack, job_events, wait_for
from tests.fake_openai import FakeOpenAI
from workers.ai_provider import NOT_CONFIGURED_MESSAGE
from workers.parsers import ProductRecord

MODEL = "gpt-test-mini"
AI_ENV = ("JOBBOARD_AI_BASE_URL", "JOBBOARD_AI_API_KEY", "JOBBOARD_AI_MODEL")


@pytest.fixture(scope="module")
def ai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key="sk-test", models=[MODEL]) as server:
        yield server


@pytest.fixture(scope="module")
def ai_stack(ai_server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Redis, database and a worker whose environment points at the fake provider."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JOBBOARD_AI_BASE_URL", ai_server.base_url)
        env.setenv("JOBBOARD_AI_API_KEY", "sk-test")
        env.setenv("JOBBOARD_AI_MODEL", MODEL)
        with isolated_stack(tmp_path_factory.mktemp("ai"), workers=1) as stack:
            yield stack


@pytest.fixture
def fake_openai(ai_server: FakeOpenAI, ai_stack: Stack) -> FakeOpenAI:
    ai_server.reset()
    ai_server.api_key = "sk-test"
    return ai_server


def seed(owner: str, *titles: str) -> list[int]:
    records = [
        ProductRecord(
            key=f"p-{n}",
            handle=f"p-{n}",
            sku=f"SKU-{n}",
            title=title,
            description="<p>Old text.</p>",
            vendor="Acme",
            product_type="Kitchen",
            tags=["test"],
            price=9.5,
            options=[{"name": "Color", "values": ["Blue", "Red"]}],
            variants=[],
            first_row=n + 2,
            rows=1,
        )
        for n, title in enumerate(titles)
    ]
    upsert_products(owner, records)
    by_title = {p.title: p.id for p in get_products(owner)}
    return [by_title[t] for t in titles]


def submit(owner: str, ids: list[int], instructions: str | None = None) -> str:
    params = {"product_ids": ids, "instructions": instructions}
    return jobs.submit(
        "describe_products", owner_id=owner, title=f"Describe {len(ids)}", params=params
    ).id


def finished(job_id: str, owner: str, timeout: float = 30) -> dict[str, Any]:
    return wait_for(
        lambda: (
            (j := jobs.get_job(job_id, owner))
            and j["status"] in ("completed", "failed", "cancelled")
            and j
        ),
        timeout,
        f"job {job_id} to finish",
    )


def inbox(owner: str) -> contextlib.AbstractContextManager[list[dict[str, Any]]]:
    """Every job (public shape) published for the owner while the block runs."""
    return job_events(owner, lambda event: event["job"])


def test_descriptions_stream_in_with_live_progress_and_usage(
    fake_openai: FakeOpenAI, owner: str
) -> None:
    fake_openai.chunk_delay = 0.03  # ~0.6 s per product: several progress events each
    ids = seed(owner, "Blue Mug", "Steel Kettle", "Oak Board")
    with inbox(owner) as seen:
        job = finished(submit(owner, ids, "Mention the colour."), owner)
    assert job["status"] == "completed", job["error_data"]
    result = job["result_data"]
    assert [d["product_id"] for d in result["descriptions"]] == ids
    for d, title in zip(
        result["descriptions"], ("Blue Mug", "Steel Kettle", "Oak Board"), strict=True
    ):
        assert d["title"] == title
        assert d["description"] == fake_openai.answer_for(
            {"messages": [{"role": "user", "content": f"Title: {title}"}]}
        )
    assert result["failed"] == [] and result["model"] == MODEL
    requests = fake_openai.completion_requests
    assert len(requests) == 3
    assert {r.headers["authorization"] for r in requests} == {"Bearer sk-test"}
    assert {r.body["model"] for r in requests} == {MODEL}
    user = requests[0].body["messages"][1]["content"]
    assert "Title: Blue Mug" in user and "Color: Blue, Red" in user and "Old text." in user
    assert user.endswith("Mention the colour.")
    words = sum(len(d["description"].split()) for d in result["descriptions"])
    usage = result["usage"]
    assert usage["completion_tokens"] == words  # the fake sends one word per chunk
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] > 3 * 50  # the system prompt and the facts, three times

    progress = job["progress_data"]
    assert progress["percentage"] == 100
    assert progress["processed"] == progress["total"] == 3
    running = [e["progress_data"] for e in seen if e["status"] == "processing"]
    steps = [p["current_step"] for p in running]
    for n, title in enumerate(("Blue Mug", "Steel Kettle", "Oak Board"), 1):
        assert f"Writing description {n} of 3: {title}" in steps
    percentages = [p["percentage"] for p in running]
    assert percentages == sorted(percentages)
    assert any(0 < p < 100 / 3 for p in percentages)  # moving within the first product
    assert max(percentages) == 100
    tokens = [p["tokens"] for p in running if "tokens" in p]
    assert tokens == sorted(tokens) and tokens[-1] == words
    # Nothing is written to the catalog: the user applies the result on the job page.
    assert {p.description for p in get_products(owner)} == {"<p>Old text.</p>"}


def test_rate_limit_is_waited_out(fake_openai: FakeOpenAI, owner: str) -> None:
    fake_openai.fail_next(2, 429, retry_after=0)
    ids = seed(owner, "Green Cup")
    with inbox(owner) as seen:
        job = finished(submit(owner, ids), owner)
    assert job["status"] == "completed", job["error_data"]
    assert job["result_data"]["descriptions"][0]["description"].startswith("Green Cup is")
    assert len(fake_openai.completion_requests) == 3
    steps = {e["progress_data"]["current_step"] for e in seen}
    assert (
        "Writing description 1 of 1: Green Cup — AI provider busy (429), retrying in 0 s "
        "(attempt 3 of 4)"
    ) in steps


def test_a_product_that_keeps_failing_is_listed_and_the_rest_go_on(
    fake_openai: FakeOpenAI, owner: str
) -> None:
    fake_openai.fail_next(4, 500, retry_after=0)
    ids = seed(owner, "Broken Bowl", "Fine Plate")
    job = finished(submit(owner, ids), owner)
    assert job["status"] == "completed", job["error_data"]
    result = job["result_data"]
    assert [d["title"] for d in result["descriptions"]] == ["Fine Plate"]
    assert result["failed"] == [
        {
            "product_id": ids[0],
            "title": "Broken Bowl",
            "error": "the AI provider failed (500): The server had an error while processing "
            "your request. (gave up after 4 attempts)",
            "retryable": True,  # a provider error may pass: a retry can change the outcome
        }
    ]
    assert len(fake_openai.completion_requests) == 5
    assert job["outcome"]["label"] == "completed · 1 failed"
    assert job["outcome"]["tone"] == "warning" and job["outcome"]["can_retry_failed"]

    # "Retry failed items" runs only those, linked both ways; the original offers it no more.
    again = jobs.retry(job["id"], owner, only_failed_rows=True)
    assert again.params["product_ids"] == [ids[0]] and again.title.endswith("(failed items)")
    redo = finished(again.id, owner)
    assert [d["title"] for d in redo["result_data"]["descriptions"]] == ["Broken Bowl"]
    assert redo["retry_of"] == job["id"] and redo["outcome"]["label"] == "completed"
    original = jobs.get_job(job["id"], owner)
    assert original["retried_by"] == again.id and not original["outcome"]["can_retry_failed"]


def test_rejected_api_key_fails_the_job_at_once(fake_openai: FakeOpenAI, owner: str) -> None:
    fake_openai.api_key = "sk-another"  # the worker still sends sk-test
    ids = seed(owner, "Red Jug", "Tall Vase")
    job = finished(submit(owner, ids), owner)
    assert job["status"] == "failed"
    message = "the AI provider rejected the API key (401): Incorrect API key provided."
    assert job["error_data"]["message"] == message
    result = job["result_data"]
    assert result["descriptions"] == []
    assert [f["error"] for f in result["failed"]] == [message, f"not attempted: {message}"]
    assert len(fake_openai.completion_requests) == 1  # no retry, no hammering
    # A wrong key fails every item the same way: no retry is offered, of the job or its items.
    assert job["error_data"]["retryable"] is False
    assert not job["outcome"]["can_retry"] and not job["outcome"]["can_retry_failed"]


def test_cancel_while_waiting_for_the_provider_keeps_what_was_written(
    fake_openai: FakeOpenAI, owner: str
) -> None:
    def reply(body: dict[str, Any]) -> str:
        if "Title: Slow Teapot" in body["messages"][-1]["content"]:
            fake_openai.pause(30)  # the provider says nothing for a long time
        return "Written."

    fake_openai.reply = reply
    ids = seed(owner, "Quick Mug", "Slow Teapot")
    job_id = submit(owner, ids)
    wait_for(
        lambda: (
            (jobs.get_job(job_id, owner) or {}).get("progress_data", {}).get("current_step")
            == "Writing description 2 of 2: Slow Teapot"
        ),
        20,
        "the second product",
    )
    time.sleep(0.3)
    clicked = time.monotonic()
    assert jobs.cancel(job_id, owner) == "processing"
    job = wait_for(
        lambda: (j := jobs.get_job(job_id, owner)) and j["status"] != "processing" and j,
        jobs.CANCEL_GRACE_SECONDS,
        "the cancel",
    )
    assert time.monotonic() - clicked < jobs.CANCEL_GRACE_SECONDS  # cooperative, no kill
    assert job["status"] == "cancelled"
    assert job["error_data"]["message"].startswith("cancelled at 50 %")
    assert job["result_data"]["descriptions"] == [
        {"product_id": ids[0], "title": "Quick Mug", "description": "Written."}
    ]


def test_not_configured_fails_with_the_setup_message(
    tmp_path: Path, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in AI_ENV:
        monkeypatch.delenv(name, raising=False)
    with isolated_stack(tmp_path, workers=1):  # its worker has no AI provider in its env
        ids = seed(owner, "Plain Mug")
        job = finished(submit(owner, ids), owner)
    assert job["status"] == "failed"
    assert job["error_data"]["message"] == NOT_CONFIGURED_MESSAGE
    assert not job["result_data"]  # no description was made up
