"""Job history: the rollup (ending a job counts it, the migration backfills it, SQLite and
PostgreSQL), GET /api/v1/stats (only the caller's jobs, hostile parameters) and /metrics."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from alembic import command
from sqlalchemy import inspect, select
from sqlmodel import Session, create_engine

from jobboard.core import accounts, jobs, stats
from jobboard.core.db import alembic_config, session_scope
from jobboard.core.models import Job, JobStatus, utcnow
from jobboard.core.settings import get_settings, normalize_database_url
from scripts.stack import Stack
from tests.conftest import SHOPIFY_SAMPLE, wait_for

PG_URL = os.environ.get("JOBBOARD_TEST_POSTGRES_URL", "")
PASSWORD = "correct horse battery"


def _queued(owner: str, kind: str = "export_catalog", **values: Any) -> str:
    """A job row as `submit` records it, but on no RQ queue (nothing will run it)."""
    job = Job(id=str(uuid.uuid4()), owner_id=owner, kind=kind, title="t", **values)
    with session_scope() as session:
        session.add(job)
    return job.id


def _row(owner: str, kind: str, hour: int) -> dict[str, Any] | None:
    with session_scope() as session:
        found = session.exec(
            select(stats.job_stat).where(  # type: ignore[call-overload]
                stats.job_stat.c.owner_id == owner,
                stats.job_stat.c.kind == kind,
                stats.job_stat.c.hour == hour,
            )
        ).first()
    return dict(found._mapping) if found else None


# --- the rollup ----------------------------------------------------------------------------


def test_quantiles_from_buckets() -> None:
    buckets = [0.0] * len(stats.BUCKETS)
    assert stats.estimate_quantile(buckets, 0.5) is None
    for seconds in (3.0,) * 90 + (40.0,) * 10:
        buckets[stats.bucket_of(seconds)] += 1
    p50, p95 = stats.estimate_quantile(buckets, 0.5), stats.estimate_quantile(buckets, 0.95)
    assert p50 is not None and 2 < p50 <= 5  # the (2, 5] bucket
    assert p95 is not None and 20 < p95 <= 50  # the (20, 50] bucket
    buckets[-1] = 1000  # mostly longer than the last finite bound: "at least" that long
    assert stats.estimate_quantile(buckets, 0.95) == stats.DURATION_BOUNDS[-2]


def test_ending_a_job_updates_the_rollup(services: Stack, owner: str) -> None:
    """A real job through the worker, one failed and one cancelled by the lifecycle."""
    job = jobs.submit(
        "product_upload",
        owner_id=owner,
        title="shop.csv",
        params={"path": str(SHOPIFY_SAMPLE), "filename": "shop.csv"},
    )
    done = wait_for(
        lambda: (j := jobs.get_job(job.id, owner)) and j["status"] == "completed" and j,
        timeout=60,
        what="the upload to complete",
    )
    failed = _queued(owner)
    jobs.fail(failed, "broken on purpose")
    cancelled = _queued(owner)
    assert jobs.cancel(cancelled, owner) == JobStatus.CANCELLED
    jobs.fail(cancelled, "too late: already cancelled")  # no second count

    summary = stats.summary(owner, "24h")
    by_kind = {k["kind"]: k for k in summary["kinds"]}
    upload = by_kind["product_upload"]
    assert (upload["completed"], upload["failed"], upload["cancelled"]) == (1, 0, 0)
    ran = (
        datetime.fromisoformat(done["completed_at"]) - datetime.fromisoformat(done["started_at"])
    ).total_seconds()
    bound = stats.DURATION_BOUNDS[stats.bucket_of(ran)]
    assert upload["p50_seconds"] is not None and upload["p50_seconds"] <= bound
    assert upload["series"][-1]["completed"] == 1  # this hour: the last point
    assert len(upload["series"]) == 24
    export = by_kind["export_catalog"]
    assert (export["completed"], export["failed"], export["cancelled"]) == (0, 1, 1)
    assert export["failure_rate"] == 0.5
    assert export["p50_seconds"] is None  # neither ran to completion
    row = _row(owner, "product_upload", stats.epoch_hour(utcnow()))
    assert row is not None and row["duration_sum"] == pytest.approx(ran, abs=0.01)


def test_windows_put_jobs_in_their_hour_and_day(services: Stack, owner: str) -> None:
    now = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    hour = stats.epoch_hour(now)
    stats.add_rows(
        [
            {"owner_id": owner, "hour": hour, "kind": "auto_match", "completed": 2, "d03": 2},
            {"owner_id": owner, "hour": hour - 23, "kind": "auto_match", "failed": 1},
            {"owner_id": owner, "hour": hour - 24, "kind": "auto_match", "failed": 5},  # 24 h ago
            {"owner_id": owner, "hour": hour - 6 * 24 - 15, "kind": "auto_match", "cancelled": 3},
            {"owner_id": owner, "hour": hour - 7 * 24, "kind": "auto_match", "cancelled": 7},
            {"owner_id": owner, "hour": hour + 1, "kind": "auto_match", "completed": 9},  # future
        ]
    )
    day = stats.summary(owner, "24h", now=now)["kinds"][0]
    assert (day["completed"], day["failed"], day["cancelled"]) == (2, 1, 0)
    assert day["series"][0]["failed"] == 1 and day["series"][-1]["completed"] == 2
    week = stats.summary(owner, "7d", now=now)
    assert week["bucket"] == "day" and len(week["kinds"][0]["series"]) == 7
    assert week["since"] == datetime(2026, 3, 4, tzinfo=UTC)
    assert week["kinds"][0]["series"][0]["cancelled"] == 3  # Mar 4, 00:30
    assert (week["kinds"][0]["failed"], week["kinds"][0]["cancelled"]) == (6, 3)
    month = stats.summary(owner, "30d", now=now)["kinds"][0]
    assert len(month["series"]) == 30 and month["cancelled"] == 10
    assert stats.summary(owner, "30d", kind="export_catalog", now=now)["kinds"] == []


# --- backfill and both databases -----------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_db(request: pytest.FixtureRequest, services: Stack, tmp_path: Path) -> Iterator[str]:
    """An empty database (SQLite file, or a throw-away PostgreSQL database) this process uses
    while the test runs; Redis stays the services' one."""
    from jobboard.core.db import _engine_for

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        drop: Callable[[], None] = lambda: None  # noqa: E731
    else:
        if not PG_URL:
            pytest.skip("JOBBOARD_TEST_POSTGRES_URL is not set")
        import psycopg

        name = f"jobboard_stats_{uuid.uuid4().hex[:10]}"
        admin = normalize_database_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = normalize_database_url(admin.rsplit("/", 1)[0] + "/" + name)

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    saved = os.environ.get("DATABASE_URL", "")
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        yield get_settings().database_url
    finally:
        os.environ["DATABASE_URL"] = saved
        get_settings.cache_clear()
        _engine_for(normalize_database_url(url)).dispose()
        drop()


def test_migration_backfills_and_endings_upsert(fresh_db: str) -> None:
    cfg = alembic_config(fresh_db)
    command.upgrade(cfg, "0006")  # the revision before the rollup
    now = utcnow().replace(minute=30)
    owner, other = "backfill-owner", "someone-else"
    engine = create_engine(fresh_db)
    pending: list[Job] = []
    with Session(engine) as session:
        for i, (status, seconds, hours_ago) in enumerate(
            [
                ("completed", 3.0, 0),
                ("completed", 40.0, 0),
                ("failed", 1.0, 0),
                ("cancelled", None, 2),  # cancelled before it started
                ("completed", 8.0, 30),  # yesterday: in 7 d, not in 24 h
                ("processing", None, 0),  # not ended: not counted
            ]
        ):
            ended = now - timedelta(hours=hours_ago)
            pending.append(
                Job(
                    id=f"b{i}",
                    owner_id=owner,
                    kind="product_upload",
                    title="t",
                    status=status,
                    started_at=ended - timedelta(seconds=seconds) if seconds else None,
                    completed_at=ended if status != "processing" else None,
                )
            )
        pending.append(Job(id="x", owner_id=other, kind="export_catalog", title="t",
                        status="completed", started_at=now, completed_at=now))  # fmt: skip
        # Only the columns the table has at that revision (later migrations add more).
        columns = {c["name"] for c in inspect(engine).get_columns("job")}
        session.execute(
            Job.__table__.insert(),
            [{k: v for k, v in job.model_dump().items() if k in columns} for job in pending],
        )
        session.commit()
    engine.dispose()
    command.upgrade(cfg, "head")

    day = stats.summary(owner, "24h")["kinds"]
    assert [k["kind"] for k in day] == ["product_upload"]
    assert (day[0]["completed"], day[0]["failed"], day[0]["cancelled"]) == (2, 1, 1)
    assert 2 < day[0]["p50_seconds"] <= 5 and 20 < day[0]["p95_seconds"] <= 50
    assert stats.summary(owner, "7d")["kinds"][0]["completed"] == 3
    assert stats.summary(other, "24h")["kinds"][0]["completed"] == 1

    # Endings after the migration add to the backfilled rows: ON CONFLICT DO UPDATE.
    for _ in range(2):
        jobs.fail(_queued(owner, kind="product_upload"), "broken")
    row = _row(owner, "product_upload", stats.epoch_hour(utcnow()))
    assert row is not None and row["failed"] == 1 + 2
    with session_scope() as session:
        assert session.get_bind().dialect.name == fresh_db.split(":")[0].split("+")[0]

    # The rollup can be rebuilt from the jobs at any time, with the same figures.
    with session_scope() as session:
        before = stats.summary(owner, "7d")
        stats.backfill(session.connection())
    assert stats.summary(owner, "7d") == before


# --- GET /api/v1/stats ---------------------------------------------------------------------


def _user(admin: bool = False) -> accounts.User:
    return accounts.create_user(f"stats-{uuid.uuid4().hex[:12]}@example.com", PASSWORD,
                                is_admin=admin)  # fmt: skip


def _token(user: accounts.User) -> str:
    return accounts.create_api_token(user.id, "tests")[0]


@pytest.fixture(scope="module")
def admin(services: Stack) -> accounts.User:
    """Created first, so the users created after it are not administrators."""
    return _user(admin=True)


@pytest.fixture
def client(app_url: str) -> Iterator[Callable[[str | None], httpx.Client]]:
    made: list[httpx.Client] = []

    def make(token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        made.append(httpx.Client(base_url=app_url, headers=headers, timeout=30))
        return made[-1]

    yield make
    for c in made:
        c.close()


def test_stats_route_shows_only_the_callers_jobs(
    admin: accounts.User, client: Callable[[str | None], httpx.Client]
) -> None:
    alice, bob = _user(), _user()
    for status in ("failed", "failed", "cancelled"):
        job_id = _queued(alice.id, kind="auto_categorize")
        if status == "failed":
            jobs.fail(job_id, "broken")
        else:
            jobs.cancel(job_id, alice.id)
    as_alice, as_bob = client(_token(alice)), client(_token(bob))

    got = as_alice.get("/api/v1/stats")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["window"] == "24h" and body["bucket"] == "hour"
    [kind] = body["kinds"]
    assert kind["kind"] == "auto_categorize" and kind["label"] == "Auto-categorize"
    assert (kind["failed"], kind["cancelled"], kind["total"]) == (2, 1, 3)
    assert kind["failure_rate"] == pytest.approx(2 / 3)
    assert len(kind["series"]) == 24 and kind["series"][-1]["failed"] == 2
    for window, points in (("7d", 7), ("30d", 30)):
        body = as_alice.get("/api/v1/stats", params={"window": window}).json()
        assert body["bucket"] == "day" and len(body["kinds"][0]["series"]) == points
    only = as_alice.get("/api/v1/stats", params={"window": "7d", "kind": "export_catalog"})
    assert only.status_code == 200 and only.json()["kinds"] == []

    assert as_bob.get("/api/v1/stats").json()["kinds"] == []  # Alice's jobs are not Bob's
    assert client(None).get("/api/v1/stats").status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"window": "1y"},
        {"window": ""},
        {"window": "24H"},
        {"window": "24h' OR 1=1 --"},
        {"window": "7d\x00"},
        {"window": "x" * 5000},
        {"kind": "nope"},
        {"kind": "../../etc/passwd"},
        {"kind": "product_upload'; DROP TABLE job_stat; --"},
        {"kind": ""},
        {"window": ["24h", "7d"]},
        {"tz": "../../etc/passwd"},
        {"tz": "/etc/localtime"},
        {"tz": "Europe/../../etc/passwd"},
        {"tz": "Europe/Nowhere"},
        {"tz": "zone.tab"},
        {"tz": "Europe/Prague\x00"},
        {"tz": "Europe/Prague'; DROP TABLE job_stat; --"},
        {"tz": "<script>alert(1)</script>"},
        {"tz": ""},
        {"tz": "x" * 5000},
    ],
)
def test_stats_route_refuses_hostile_parameters(
    admin: accounts.User, client: Callable[[str | None], httpx.Client], params: dict[str, Any]
) -> None:
    got = client(_token(_user())).get("/api/v1/stats", params=params)
    if params.get("window") == ["24h", "7d"]:  # a repeated parameter: FastAPI takes the last
        assert got.status_code == 200 and got.json()["window"] == "7d"
        return
    assert got.status_code == 422, got.text
    detail = got.json()["detail"]
    assert isinstance(detail, str) and "Traceback" not in detail and "/work/" not in detail
    if "tz" in params:  # says what a zone must be, and does not echo what it got
        assert "tz" in detail and (not params["tz"] or params["tz"] not in detail)
        if len(params["tz"]) <= 64:
            assert "IANA time zone name" in detail


def test_stats_route_in_a_time_zone(
    admin: accounts.User, client: Callable[[str | None], httpx.Client]
) -> None:
    """`tz` moves the days to the zone's midnights; the answer names the zone it used."""
    as_alice = client(_token(alice := _user()))
    # Ended at 23:30 UTC yesterday: 00:30 or 01:30 the next day in Prague.
    late = datetime.combine(utcnow().date(), datetime.min.time(), UTC) - timedelta(minutes=30)
    stats.add_rows(
        [{"owner_id": alice.id, "hour": stats.epoch_hour(late), "kind": "export_catalog",
          "completed": 3}]
    )  # fmt: skip

    def days(body: dict[str, Any]) -> dict[Any, int]:
        return {
            datetime.fromisoformat(p["start"]).date(): p["completed"]
            for p in body["kinds"][0]["series"]
        }

    utc = as_alice.get("/api/v1/stats", params={"window": "7d"}).json()
    assert utc["tz"] == "UTC" and datetime.fromisoformat(utc["since"]).utcoffset() == timedelta()
    got = as_alice.get("/api/v1/stats", params={"window": "7d", "tz": "Europe/Prague"})
    assert got.status_code == 200, got.text
    prague = got.json()
    assert prague["tz"] == "Europe/Prague" and prague["bucket"] == "day"
    since = datetime.fromisoformat(prague["since"])
    assert (since.hour, since.minute) == (0, 0)
    assert since.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    local_day = late.astimezone(ZoneInfo("Europe/Prague")).date()
    assert local_day != late.date()
    assert days(utc)[late.date()] == 3 and days(prague)[local_day] == 3
    assert days(prague).get(late.date(), 0) == 0

    # The 24 hours end at this hour: a job ended now (23:30 yesterday may be out of them).
    stats.add_rows(
        [{"owner_id": alice.id, "hour": stats.epoch_hour(utcnow()), "kind": "export_catalog",
          "completed": 1}]
    )  # fmt: skip
    hours = as_alice.get("/api/v1/stats", params={"tz": "Asia/Kolkata"}).json()
    assert hours["tz"] == "Asia/Kolkata" and len(hours["kinds"][0]["series"]) == 24
    until = datetime.fromisoformat(hours["until"])
    assert until.utcoffset() == timedelta(hours=5, minutes=30) and until.minute == 30


# --- /metrics ------------------------------------------------------------------------------


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus' text format (labels in any order)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0] if "{" in line else ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_need_an_administrators_token(
    admin: accounts.User, client: Callable[[str | None], httpx.Client]
) -> None:
    anonymous = client(None).get("/metrics")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert client("jb_not-a-token").get("/metrics").status_code == 401
    user = _user()
    assert not user.is_admin
    refused = client(_token(user)).get("/metrics")
    assert refused.status_code == 403 and "administrator" in refused.json()["detail"]
    # A signed-in browser's cookie is not enough either: pages must not read the figures.
    secret = accounts.start_session(admin, address="127.0.0.1", user_agent="pytest")
    with httpx.Client(
        base_url=str(client(None).base_url), cookies={"jobboard_session": secret}
    ) as c:
        assert c.get("/metrics").status_code == 401


def test_metrics_public_only_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi import HTTPException

    from jobboard.api.metrics import metrics_reader

    for value, public in (("1", True), ("", False), ("0", False)):
        monkeypatch.setenv("JOBBOARD_METRICS_PUBLIC", value)
        get_settings.cache_clear()
        if public:
            metrics_reader(None)
        else:
            with pytest.raises(HTTPException) as refused:
                metrics_reader(None)
            assert refused.value.status_code == 401
    monkeypatch.setenv("JOBBOARD_METRICS_PUBLIC", "maybe")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="JOBBOARD_METRICS_PUBLIC"):
        get_settings()
    monkeypatch.delenv("JOBBOARD_METRICS_PUBLIC")
    get_settings.cache_clear()


def test_metrics_after_real_jobs(
    services: Stack, admin: accounts.User, client: Callable[[str | None], httpx.Client]
) -> None:
    owner = _user()
    ids = [
        jobs.submit(
            "product_upload",
            owner_id=owner.id,
            title=f"shop-{i}.csv",
            params={"path": str(SHOPIFY_SAMPLE), "filename": "shop.csv"},
        ).id
        for i in range(2)
    ]
    for job_id in ids:
        wait_for(
            lambda job_id=job_id: jobs.get_job(job_id, owner.id)["status"] == "completed",
            timeout=60,
            what="the uploads to complete",
        )
    scrape = client(_token(admin))
    got = scrape.get("/metrics")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/plain")
    text = got.text
    # Observed in the work horses (another process than the app that answers).
    count = _sample(
        text, "jobboard_job_duration_seconds_count", kind="product_upload", status="completed"
    )
    assert count is not None and count >= 2
    assert (_sample(text, "jobboard_events_published_total") or 0) >= 2 * 3
    ended = _sample(text, "jobboard_jobs", kind="product_upload", status="completed")
    assert ended is not None and ended >= 2
    assert _sample(text, "jobboard_jobs", kind="export_catalog", status="queued") is not None
    for queue in jobs.QUEUES:
        assert _sample(text, "jobboard_queue_depth", queue=queue) is not None
        assert _sample(text, "jobboard_queue_oldest_age_seconds", queue=queue) is not None
    assert _sample(text, "jobboard_sessions_connected") is not None
    assert _sample(text, "jobboard_event_push_lag_seconds_count") is not None
    assert "Traceback" not in text
    # A worker's horses (one fork per job) share one set of sample files: the directory
    # does not grow by two files a job (a full `make test` runs hundreds of jobs here).
    names = [p.name for p in services.metrics_dir.iterdir()]
    assert any(n.startswith("histogram_horse") for n in names), names
    assert len(names) < 50, names


def test_queue_depth_and_oldest_age(tmp_path: Path, owner: str) -> None:
    """What the scrape reports per RQ queue, on a stack without workers (jobs stay queued)."""
    from tests.conftest import isolated_stack

    with isolated_stack(tmp_path, workers=0):
        before = utcnow()
        for i in range(3):
            jobs.submit("export_catalog", owner_id=owner, title=f"e{i}", params={})
        figures = jobs.queue_figures()
        waited = (utcnow() - before).total_seconds()
        assert figures["exports"][0] == 3
        assert 0 < figures["exports"][1] <= waited + 1
        assert figures["uploads"] == (0, 0.0)
        assert jobs.active_counts() == {("export_catalog", "queued"): 3}
