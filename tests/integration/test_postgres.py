"""The same upload path, and webhook deliveries, on PostgreSQL (runs when
JOBBOARD_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobboard.core import jobs
from jobboard.core.products import list_products
from jobboard.core.settings import get_settings, normalize_database_url
from scripts.stack import Stack
from tests.conftest import SHOPIFY_SAMPLE, WEBHOOK_ENV, isolated_stack, wait_for
from tests.integration.test_upsert import check_upsert_counts

PG_URL = os.environ.get("JOBBOARD_TEST_POSTGRES_URL", "")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="JOBBOARD_TEST_POSTGRES_URL is not set"),
]


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A throw-away database on the server, its own Redis and worker."""
    import psycopg

    name = f"jobboard_test_{uuid.uuid4().hex[:10]}"
    admin_url = normalize_database_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = normalize_database_url(admin_url.rsplit("/", 1)[0] + "/" + name)
    var_dir = tmp_path_factory.mktemp("pg")
    try:
        with isolated_stack(var_dir, workers=1, database_url=db_url, env=WEBHOOK_ENV) as stack:
            yield stack
    finally:
        from jobboard.core.db import _engine_for

        _engine_for(db_url).dispose()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upload_on_postgres(pg_stack: Stack, owner: str, tmp_path: Path) -> None:
    assert get_settings().database_url.startswith("postgresql+psycopg://")
    for expected in ((3, 0, 0), (0, 0, 3)):
        job = jobs.submit(
            "product_upload",
            owner_id=owner,
            title="shop.csv",
            params={"path": str(SHOPIFY_SAMPLE), "filename": "shop.csv"},
        )
        done = wait_for(
            lambda job_id=job.id: (
                (j := jobs.get_job(job_id, owner))
                and j["status"] != "queued"
                and j["status"] != "processing"
                and j
            ),
            30,
            "the job on PostgreSQL",
        )
        assert done["status"] == "completed", done["error_data"]
        result = done["result_data"]
        assert (result["imported"], result["updated"], result["unchanged"]) == expected
    products, total = list_products(owner)
    assert total == 3
    assert {p.key for p in products} == {"example-shirt", "example-pants", "example-hat"}
    assert next(p for p in products if p.key == "example-shirt").tags == [
        "Made to Order",
        "Shirt Tag",
    ]


def test_webhook_retry_and_log_on_postgres(
    pg_stack: Stack, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobboard.core import events, webhooks
    from jobboard.core.models import Job, JobStatus, utcnow
    from jobboard.core.webhooks import delivery
    from tests.utils.receiver import receiver

    for name, value in WEBHOOK_ENV.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    now = utcnow()
    job = Job(
        id=str(uuid.uuid4()), owner_id=owner, kind="product_upload", title="pg.csv",
        status=JobStatus.COMPLETED, created_at=now, updated_at=now, completed_at=now,
    )  # fmt: skip
    with receiver() as hooks:
        hooks.answer("/pg", (500, {}, b"once"))
        hook, _secret = webhooks.create_webhook(owner, hooks.url("/pg"), ["completed"])
        events.publish(jobs.to_public(job), owner)
        [first, _second] = hooks.wait("/pg", 2)
        attempts = wait_for(
            lambda: (
                len(rows := delivery.message_attempts(first.headers["webhook-id"])) == 2 and rows
            ),
            30,
            "two logged attempts",
        )
    assert [(a.status_code, a.ok) for a in attempts] == [(500, False), (200, True)]
    assert len(webhooks.list_deliveries(owner, hook.id) or []) == 2
    assert webhooks.purge_log() == 0  # nothing is 30 days old
    assert webhooks.delete_webhook(owner, hook.id)
    assert webhooks.list_deliveries(owner, hook.id) is None


def test_upsert_counts_do_not_depend_on_the_plan(pg_stack: Stack, owner: str) -> None:
    """The upsert finds rows through the unique index itself: with the planner told to avoid
    index scans, on a table full of dead rows and never analyzed (what once made a
    `SELECT … key IN (…)` take 2 s a batch), every count is still right."""
    import psycopg

    from jobboard.core.db import get_engine

    url = get_settings().database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        # Dead tuples in the product table, then no statistics to plan with.
        conn.execute(
            "INSERT INTO product (owner_id, key, title, description, vendor, product_type,"
            " category, tags, options, variants, created_at, updated_at)"
            " SELECT 'dead', 'd-' || i, 't', '', '', '', '', '[]', '[]', '[]', now(), now()"
            " FROM generate_series(1, 20000) AS i"
        )
        conn.execute("DELETE FROM product WHERE owner_id = 'dead'")
        database = conn.info.dbname
        conn.execute(f'ALTER DATABASE "{database}" SET enable_indexscan = off')
        conn.execute(f'ALTER DATABASE "{database}" SET enable_bitmapscan = off')
    get_engine().dispose()  # new connections take the settings
    try:
        with get_engine().connect() as conn:
            assert conn.exec_driver_sql("SHOW enable_indexscan").scalar() == "off"
        check_upsert_counts(owner, owner + "-other")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{database}" RESET ALL')
        get_engine().dispose()
