"""Product uploads through the real path: core.submit → Redis queue → rq worker process → DB."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobboard.core import events, jobs
from jobboard.core.products import list_products
from scripts.stack import Stack
from tests.conftest import SHOPIFY_SAMPLE, wait_for


def submit_file(owner: str, path: Path) -> str:
    job = jobs.submit(
        "product_upload",
        owner_id=owner,
        title=path.name,
        params={"path": str(path), "filename": path.name},
    )
    return job.id


def finished(job_id: str, owner: str, timeout: float = 30) -> dict[str, Any]:
    return wait_for(
        lambda: (j := jobs.get_job(job_id, owner)) and j["status"] in ("completed", "failed") and j,
        timeout,
        f"job {job_id} to finish",
    )


def test_shopify_sample_imports_three_products_then_updates_them(
    services: Stack, owner: str, tmp_path: Path
) -> None:
    job = finished(submit_file(owner, SHOPIFY_SAMPLE), owner)
    assert job["status"] == "completed", job["error_data"]
    result = job["result_data"]
    assert (result["imported"], result["updated"], result["skipped"]) == (3, 0, 0)
    assert result["format"] == "shopify"
    assert job["progress_data"]["percentage"] == 100
    assert job["progress_data"]["processed"] == job["progress_data"]["total"] == 17
    products, total = list_products(owner)
    assert total == 3
    shirt = next(p for p in products if p.key == "example-shirt")
    assert len(shirt.variants) == 12 and shirt.price == 25.0
    assert sum(len(p.variants) for p in products) == 16

    # The same file again changes nothing: nothing is rewritten, and it says so.
    again = finished(submit_file(owner, SHOPIFY_SAMPLE), owner)
    counts = ("imported", "updated", "unchanged")
    assert tuple(again["result_data"][k] for k in counts) == (0, 0, 3)
    assert list_products(owner)[1] == 3
    assert next(p for p in list_products(owner)[0] if p.key == "example-shirt").updated_at == (
        shirt.updated_at
    )
    # One product's price changed in the file: that one is updated, the rest unchanged.
    changed = tmp_path / "changed.csv"
    text = SHOPIFY_SAMPLE.read_text(encoding="utf-8")
    first_hat = next(line for line in text.splitlines() if line.startswith("example-hat,"))
    assert first_hat.count(",17.99,") == 1  # its variant price
    changed.write_text(
        text.replace(first_hat, first_hat.replace(",17.99,", ",1.23,")), encoding="utf-8"
    )
    third = finished(submit_file(owner, changed), owner)
    assert tuple(third["result_data"][k] for k in counts) == (0, 1, 2)
    assert next(p for p in list_products(owner)[0] if p.key == "example-hat").price == 1.23


def test_products_are_scoped_to_their_owner(services: Stack, owner: str) -> None:
    finished(submit_file(owner, SHOPIFY_SAMPLE), owner)
    assert list_products(owner + "-other")[1] == 0
    assert jobs.list_jobs(owner + "-other")[1] == 0


def test_generic_csv_reports_bad_rows_and_keeps_good_ones(
    services: Stack, owner: str, upload_file: Callable[[str, bytes], Path]
) -> None:
    data = (
        "\ufeffSKU,Name,Price,Description\n"
        'A-1,"Mug ""Classic""",9.90,"two\nlines"\n'
        ",No sku,1.00,\n"
        "A-2,Teapot,abc,\n"
        "A-3,Kettle,24,\n"
    ).encode()
    job = finished(submit_file(owner, upload_file("mixed.csv", data)), owner)
    assert job["status"] == "completed"
    result = job["result_data"]
    assert (result["imported"], result["skipped"]) == (2, 2)
    rows = {e["row"] for e in result["errors"]}
    assert rows == {3, 4}
    titles = {p.title for p in list_products(owner)[0]}
    assert titles == {'Mug "Classic"', "Kettle"}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "empty"),
        (
            "prices.xlsx",
            b"PK\x03\x04\x14\x00\x06\x00binary\x00\x00zip",
            "an Excel workbook, which Jobboard cannot import",
        ),
        ("prices.csv", b"a,b,c\n1,2,3\n", "no recognisable columns"),
        ("broken.json", b'[{"sku": "x",', "not valid JSON"),
    ],
)
def test_bad_file_ends_failed_with_readable_message(
    services: Stack,
    owner: str,
    upload_file: Callable[[str, bytes], Path],
    name: str,
    data: bytes,
    message: str,
) -> None:
    job = finished(submit_file(owner, upload_file(name, data)), owner)
    assert job["status"] == "failed"
    assert message in job["error_data"]["message"]
    assert name in job["error_data"]["message"]
    assert job["completed_at"] is not None


def test_missing_file_fails_instead_of_hanging(services: Stack, owner: str, tmp_path: Path) -> None:
    job = finished(submit_file(owner, tmp_path / "gone.csv"), owner)
    assert job["status"] == "failed"
    assert "no longer on the server" in job["error_data"]["message"]


def test_events_arrive_in_order_with_increasing_versions(
    services: Stack, owner: str, upload_file: Callable[[str, bytes], Path]
) -> None:
    rows = "".join(f"S-{i},Product {i},{i % 90 + 1}.50\n" for i in range(30_000))
    path = upload_file("big.csv", ("sku,title,price\n" + rows).encode())
    received: list[dict[str, Any]] = []
    subscribed, done = threading.Event(), threading.Event()

    def listen() -> None:
        pubsub = events.get_redis().pubsub()
        pubsub.subscribe(events.channel(owner))
        subscribed.set()
        while not done.is_set():
            msg = pubsub.get_message(timeout=0.5)
            if msg and msg["type"] == "message":
                event = json.loads(msg["data"])
                received.append(event)
                if event["job"]["status"] in ("completed", "failed"):
                    done.set()
        pubsub.close()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    subscribed.wait(5)
    job_id = submit_file(owner, path)
    assert done.wait(60), "no terminal event"
    thread.join(5)

    versions = [e["version"] for e in received]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    statuses = [e["job"]["status"] for e in received]
    assert statuses[0] == "queued" and statuses[-1] == "completed"
    order = {"queued": 0, "processing": 1, "completed": 2}
    assert [order[s] for s in statuses] == sorted(order[s] for s in statuses)
    processed = [
        e["job"]["progress_data"].get("processed") or 0
        for e in received
        if e["job"]["status"] == "processing"
    ]
    assert processed == sorted(processed)
    # Coalesced: 30,000 rows never mean 30,000 events.
    assert len(received) < 1000
    # The snapshot in Redis is the last event.
    assert events.read_snapshots([job_id])[job_id]["version"] == versions[-1]
    assert received[-1]["job"]["result_data"]["imported"] == 30_000
