"""The Tasks list at scale, on SQLite and (with JOBBOARD_TEST_POSTGRES_URL) PostgreSQL:
keyset pages, filters, search with hostile input, counts kept by triggers, isolation."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlmodel import col

from jobboard.core import joblist, jobs
from jobboard.core.db import _engine_for, migrate, session_scope
from jobboard.core.joblist import SEARCH_COUNT_CAP, Cursor, ListError, list_page
from jobboard.core.models import Job, JobStatus
from jobboard.core.settings import get_settings, normalize_database_url
from scripts.stack import Stack

PG_URL = os.environ.get("JOBBOARD_TEST_POSTGRES_URL", "")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOSTILE = [
    '"',
    "'",
    'a" OR owner_id : *',
    "NEAR(csv shop)",
    "title:csv",
    "owner_id:x",
    "*",
    "-csv",
    "^csv",
    "csv OR",
    "AND",
    "'; DROP TABLE job; --",
    "\\",
    "%_%",
    "\x00csv",
    "🙂 csv",
    "ａｂｃ",  # fullwidth
    "x" * SEARCH_COUNT_CAP,
    "a b c d e f g h i j k l m n o p",
    "csv:*",
    "!csv & (x | y)",
]


def _use_database(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", "postgres"], scope="module")
def db(request: pytest.FixtureRequest, services: Stack) -> Iterator[str]:
    """The shared test database (SQLite), or a throw-away PostgreSQL database."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    if not PG_URL:
        pytest.skip("JOBBOARD_TEST_POSTGRES_URL is not set")
    import psycopg

    name = f"jobboard_test_{uuid.uuid4().hex[:10]}"
    admin_url = normalize_database_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = normalize_database_url(admin_url.rsplit("/", 1)[0] + "/" + name)
    saved = os.environ["DATABASE_URL"]
    try:
        migrate(url)
        _use_database(url)
        yield "postgres"
    finally:
        _use_database(saved)
        _engine_for(url).dispose()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_jobs(owner: str, n: int, *, start: datetime = T0, step_ms: int = 1000, **values) -> list:
    """`n` ended jobs, one per `step_ms` (0: all at the same instant), oldest first."""
    rows = []
    for i in range(n):
        row = {
            "id": str(uuid.uuid4()),
            "owner_id": owner,
            "kind": values.get("kind", "product_upload"),
            "title": values.get("title", f"file-{i}.csv"),
            "status": values.get("status", JobStatus.COMPLETED),
            "created_at": start + timedelta(milliseconds=i * step_ms),
        }
        rows.append(Job(**row, params={}, progress_data={"percentage": 100}))
    with session_scope() as session:
        session.add_all(rows)
    return [r.id for r in rows]


def walk(owner: str, limit: int = 7, **filters) -> list[str]:
    seen, cursor = [], None
    while True:
        page = list_page(owner, before=cursor, limit=limit, **filters)
        seen += [j["id"] for j in page.jobs]
        if page.older is None:
            return seen
        cursor = page.older


def test_keyset_pages_skip_and_repeat_nothing_while_jobs_arrive(db: str, owner: str) -> None:
    old = add_jobs(owner, 30)
    ties = add_jobs(owner, 12, start=T0 + timedelta(hours=1), step_ms=0)  # same created_at
    expected = sorted(ties, reverse=True) + old[::-1]

    seen: list[str] = []
    page = list_page(owner, limit=5)
    assert page.newer is None and page.total == 42
    while True:
        seen += [j["id"] for j in page.jobs]
        add_jobs(owner, 2, start=datetime.now(UTC))  # new jobs land on top meanwhile
        if page.older is None:
            break
        page = list_page(owner, before=page.older, limit=5)
    assert seen == expected, "every row once, in (created_at, id) order"

    # Back up with "newer" from the last page: every row again, in order, up to page 1.
    back: list[str] = []
    while True:
        ids = [j["id"] for j in page.jobs]
        back = ids + [i for i in back if i not in ids]
        if page.newer is None:
            break
        page = list_page(owner, after=page.newer, limit=5)
    assert back[-len(expected) :] == expected
    assert page.jobs == list_page(owner, limit=5).jobs, "the walk back ends on the first page"


def test_newer_then_older_round_trip(db: str, owner: str) -> None:
    ids = add_jobs(owner, 25)[::-1]  # newest first
    p1 = list_page(owner, limit=10)
    p2 = list_page(owner, before=p1.older, limit=10)
    p3 = list_page(owner, before=p2.older, limit=10)
    assert [j["id"] for j in p1.jobs + p2.jobs + p3.jobs] == ids
    assert p3.older is None and p3.newer is not None
    back2 = list_page(owner, after=p3.newer, limit=10)
    assert [j["id"] for j in back2.jobs] == ids[10:20]
    assert back2.newer is not None and back2.older is not None
    back1 = list_page(owner, after=back2.newer, limit=10)
    assert [j["id"] for j in back1.jobs] == ids[:10] and back1.newer is None
    # Page numbers without a cursor still work (old links, REST `page`).
    assert [j["id"] for j in list_page(owner, offset=20, limit=10).jobs] == ids[20:]


def test_filters_and_counts_follow_every_change(db: str, owner: str) -> None:
    done = add_jobs(owner, 6)
    failed = add_jobs(
        owner, 4, status=JobStatus.FAILED, kind="export_catalog", start=T0 + timedelta(minutes=1)
    )
    later = T0 + timedelta(hours=1)
    queued = add_jobs(owner, 3, status=JobStatus.QUEUED, kind="export_catalog", start=later)
    assert list_page(owner).total == 13
    assert walk(owner, status="failed") == failed[::-1]
    assert walk(owner, kind="export_catalog") == (failed + queued)[::-1]
    assert walk(owner, status="queued", kind="export_catalog") == queued[::-1]
    assert list_page(owner, status="completed", kind="export_catalog").total == 0
    assert jobs.count_active(owner) == 3 and jobs.count_active(owner, kind="product_upload") == 0

    # Counts are kept by the database on every status change and delete.
    assert jobs.start(queued[0]) is not None
    assert jobs.count_active(owner) == 3
    jobs.complete(queued[0], {}, {})
    assert jobs.count_active(owner) == 2
    assert list_page(owner, status="completed").total == 7
    with session_scope() as session:
        session.exec(delete(Job).where(col(Job.id).in_(done[:2])))
        session.exec(update(Job).where(Job.id == failed[0]).values(kind="product_upload"))
    assert list_page(owner).total == 11
    assert list_page(owner, status="completed").total == 5
    assert list_page(owner, kind="export_catalog").total == 6
    assert joblist.count_jobs(owner) == len(walk(owner))


def test_users_never_see_each_others_jobs(db: str, owner: str) -> None:
    other = owner + "-other"
    mine = add_jobs(owner, 5, title="shared name.csv")
    add_jobs(other, 8, title="shared name.csv")
    assert walk(owner, limit=3) == mine[::-1]
    assert list_page(owner).total == 5
    page = list_page(owner, q="shared name")
    assert {j["id"] for j in page.jobs} == set(mine) and page.total == 5
    # Naming the other owner in the search changes nothing.
    for q in (f'owner_id : "{other}"', other, f"shared {other}"):
        assert {j["id"] for j in list_page(owner, q=q).jobs} <= set(mine)
    # A cursor built from the other user's job shows only one's own.
    theirs = list_page(other, limit=2).older
    assert {j["id"] for j in list_page(owner, before=theirs).jobs} <= set(mine)


def test_search_by_title_and_file_name(db: str, owner: str) -> None:
    a = add_jobs(owner, 1, title="shopify_product_template.csv")
    b = add_jobs(owner, 1, title="Export catalog (plain CSV)", kind="export_catalog")
    c = add_jobs(owner, 1, title="Příliš žluťoučký kůň.xlsx")
    add_jobs(owner, 3, title="unrelated.json")

    def found(q: str, **kw) -> set[str]:
        return {j["id"] for j in list_page(owner, q=q, **kw).jobs}

    assert found("product template") == set(a)
    assert found("temp") == set(), "whole words, not fragments"
    assert found("SHOPIFY_PRODUCT") == set(a)
    assert found("csv") == set(a + b)
    assert found("csv", kind="export_catalog") == set(b)
    assert found("plain csv") == set(b)
    assert found("žluťoučký") == set(c)
    if db == "sqlite":
        assert found("zlutoucky") == set(c), "FTS5 folds diacritics"
    assert found("nothing-like-this") == set()
    assert list_page(owner, q="csv").total == 2


def test_search_pages_and_capped_count(db: str, owner: str) -> None:
    ids = add_jobs(owner, SEARCH_COUNT_CAP + 5, title="bulk report.csv", step_ms=10)[::-1]
    add_jobs(owner, 5, title="other.txt", start=datetime.now(UTC))
    page = list_page(owner, q="report", limit=50)
    if db == "sqlite":  # counted up to the cap
        assert page.total == SEARCH_COUNT_CAP and page.total_is == "at_least"
    else:  # PostgreSQL's estimate: the right order of magnitude, never fewer than shown
        assert page.total_is == "about" and 50 < page.total < 10 * SEARCH_COUNT_CAP
    assert not page.total_exact
    assert [j["id"] for j in page.jobs] == ids[:50]
    p2 = list_page(owner, q="report", before=page.older, limit=50)
    assert [j["id"] for j in p2.jobs] == ids[50:100]
    back = list_page(owner, q="report", after=p2.newer, limit=50)
    assert [j["id"] for j in back.jobs] == ids[:50]
    small = list_page(owner, q="other")
    assert small.total == 5 and small.total_exact


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_search_gives_results_or_a_message(db: str, owner: str, q: str) -> None:
    add_jobs(owner, 3, title="shop csv export.csv")
    try:
        page = list_page(owner, q=q)
    except ListError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert all(j["title"] == "shop csv export.csv" for j in page.jobs)


def test_too_long_or_empty_searches_are_refused_with_words(db: str, owner: str) -> None:
    with pytest.raises(ListError, match="at most 200 characters"):
        list_page(owner, q="x" * 10_000)
    with pytest.raises(ListError, match="letters or digits"):
        list_page(owner, q='"*" -- ()')
    assert list_page(owner, q="").total == list_page(owner).total


@pytest.mark.parametrize(
    "cursor",
    ["", "garbage", "e30", "eyJ0IjogMX0", "x" * 5000, Cursor(T0, "a" * 100).encode(), "%00"],
)
def test_bad_cursors_are_refused_with_words(db: str, owner: str, cursor: str) -> None:
    add_jobs(owner, 2)
    if not cursor:
        assert len(list_page(owner, before=cursor).jobs) == 2  # empty: the first page
        return
    with pytest.raises(ListError, match="not valid"):
        list_page(owner, before=cursor)
    with pytest.raises(ListError, match="not valid"):
        list_page(owner, after=cursor)


def test_search_index_and_counts_follow_renames_and_deletes(db: str, owner: str) -> None:
    (job_id,) = add_jobs(owner, 1, title="before-rename.csv")
    with session_scope() as session:
        session.exec(update(Job).where(Job.id == job_id).values(title="after-rename.csv"))
    assert list_page(owner, q="before").jobs == []
    assert [j["id"] for j in list_page(owner, q="after rename").jobs] == [job_id]
    with session_scope() as session:
        session.exec(delete(Job).where(Job.id == job_id))
        if db == "sqlite":  # the FTS index holds nothing of a deleted job
            check = session.exec(text("INSERT INTO job_fts(job_fts) VALUES('integrity-check')"))
            assert check is not None
    assert list_page(owner, q="after").jobs == [] and list_page(owner).total == 0


def test_migration_backfills_counts_and_search_and_goes_back(tmp_path) -> None:
    """0009 on a table that already has jobs: counts and the search index cover them."""
    from alembic import command
    from sqlalchemy import create_engine

    from jobboard.core.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "0005")
    engine = create_engine(url)
    with engine.begin() as conn:
        for i, status in enumerate(["completed", "failed", "queued"]):
            conn.execute(
                text(
                    "INSERT INTO job (id, owner_id, kind, title, status, params, progress_data, "
                    "version, created_at, updated_at) VALUES (:id, 'old-owner', 'product_upload', "
                    ":title, :status, '{}', '{}', 0, '2025-01-01 00:00:0' || :i || '.000000', "
                    "'2025-01-01 00:00:00.000000')"
                ),
                {"id": f"job-{i}", "title": f"old_file-{i}.csv", "status": status, "i": i},
            )
    command.upgrade(cfg, "head")
    with engine.begin() as conn:
        counts = dict(conn.execute(text("SELECT status, n FROM job_count")).all())
        found = conn.execute(
            text("SELECT rowid FROM job_fts WHERE job_fts MATCH 'title : \"file\"'")
        ).all()
    assert counts == {"completed": 1, "failed": 1, "queued": 1} and len(found) == 3
    command.downgrade(cfg, "0005")
    command.upgrade(cfg, "head")
    engine.dispose()
